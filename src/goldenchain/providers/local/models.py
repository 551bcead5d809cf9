"""The local routes' models: FLUX.1 stills (``local-flux``) and SVD-XT image-to-video (``local-svd``) run by
diffusers on a GPU of ours, billed by the GPU-hour: ``[prices] gpu_usd_per_hour`` (or a model's own key)
times the seconds each take held the GPU. The estimate uses ``expected_seconds``; the ledger the measured
time. A model's ``body`` is what its pipeline is called with (steps, guidance, SVD's frames and size)."""

from __future__ import annotations

from goldenchain.core.models import ModelSpec, PriceRule

__all__ = ["FLUX_SPECS", "GPU_USD_PER_HOUR", "SPECS", "SVD_SPECS"]

PRICE_DATE = "2026-11-01"  # the catalog version
#: an on-demand H100-class GPU from a cloud that rents them by the hour; set yours in [prices]
GPU_USD_PER_HOUR = 2.5
SRC = (
    "assumed: $2.50 per GPU-hour (set [prices] gpu_usd_per_hour to your rate); expected seconds per output "
    "assumed for one H100-class GPU, the ledger bills the measured seconds"
)


def _flux(model: str, label: str, seconds: float, body: dict[str, object]) -> ModelSpec:
    return ModelSpec(
        route="local-flux",
        model=model,
        kind="t2i",
        price=PriceRule("gpu_hour", GPU_USD_PER_HOUR, SRC, PRICE_DATE, expected_seconds=seconds),
        label=label,
        min_side=256,
        max_side=2048,
        multiple_of=16,  # the VAE's 8x and the transformer's 2x2 patches
        prompt_max=2000,
        params=("seed",),
        wire=(("body", tuple(body.items())),),
        notes="weights from a local folder or the local cache; never downloaded at run time",
    )


FLUX_SPECS: tuple[ModelSpec, ...] = (
    _flux(
        "black-forest-labs/FLUX.1-schnell",
        "FLUX.1 schnell (local)",
        4.0,
        {"num_inference_steps": 4, "guidance_scale": 0.0, "max_sequence_length": 256},
    ),
    _flux(
        "black-forest-labs/FLUX.1-dev",
        "FLUX.1 dev (local)",
        30.0,
        {"num_inference_steps": 28, "guidance_scale": 3.5, "max_sequence_length": 512},
    ),
)

SVD_SPECS: tuple[ModelSpec, ...] = (
    ModelSpec(
        route="local-svd",
        model="stabilityai/stable-video-diffusion-img2vid-xt",
        kind="i2v",
        price=PriceRule("gpu_hour", GPU_USD_PER_HOUR, SRC, PRICE_DATE, expected_seconds=60.0),
        label="SVD-XT (local)",
        # one quality setting: either mode makes the same clip
        modes=("std", "pro"),
        durations=(5,),  # 25 frames played over 5 s
        aspects=("16:9",),
        output=(("std", 1024, 576), ("pro", 1024, 576)),
        image_min_px=256,
        image_max_bytes=50 * 1024 * 1024,
        prompt_max=100_000,
        # SVD is conditioned on the start frame alone: a text prompt, negative prompt or cfg scale is not used
        ignored=("negative_prompt", "cfg_scale"),
        wire=(
            (
                "body",
                (
                    ("num_frames", 25),
                    ("num_inference_steps", 25),
                    ("width", 1024),
                    ("height", 576),
                    ("motion_bucket_id", 127),
                    ("noise_aug_strength", 0.02),
                    ("min_guidance_scale", 1.0),
                    ("max_guidance_scale", 3.0),
                ),
            ),
        ),
        notes="image-to-video from the start frame only; weights from a local folder or the local cache",
    ),
)

SPECS = FLUX_SPECS + SVD_SPECS

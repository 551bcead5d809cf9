"""Replicate's models (providers.md §3.5; field-2026.md): FLUX stills on the ``replicate`` route and Kling
image-to-video on ``replicate-kling``. FLUX is priced per image; Kling per output second. A model priced per
second of compute (``compute_second``, e.g. one a project adds) is billed from ``metrics.predict_time``."""

from __future__ import annotations

from goldenchain.core.models import ModelSpec, PriceRule

__all__ = ["FLUX_SPECS", "KLING_SPECS", "RATIOS", "SPECS"]

PRICE_DATE = "2026-11-01"
SRC_FLUX = "Replicate FLUX prices per image (field-2026.md)"
SRC_KLING = "community: Replicate Kling prices per output second (field-2026.md)"
#: the ``aspect_ratio`` values flux-dev and flux-schnell take (about one megapixel out)
RATIOS = ("1:1", "16:9", "21:9", "2:3", "3:2", "4:5", "5:4", "9:16", "9:21")
ULTRA_RATIOS = ("21:9", "16:9", "3:2", "4:3", "5:4", "1:1", "4:5", "3:4", "2:3", "9:16", "9:21")


def _flux(
    model: str,
    label: str,
    usd: float,
    body: dict[str, object],
    *,
    ratios: tuple[str, ...] = RATIOS,
    custom: bool = False,
    source: str = SRC_FLUX,
    megapixels: float = 1.0,
    step: int = 64,
) -> ModelSpec:
    """``custom``: the model takes ``aspect_ratio: "custom"`` with ``width``/``height`` (multiples of 32,
    256..1440; uncertain); otherwise only the exact ratio is sent."""
    return ModelSpec(
        route="replicate",
        model=f"black-forest-labs/{model}",
        kind="t2i",
        price=PriceRule("image", usd, source, PRICE_DATE),
        label=label,
        sizes="pixels" if custom else "aspect",
        ratios=() if custom else ratios,
        min_side=256 if custom else 64,
        max_side=1440 if custom else 4096,
        multiple_of=32 if custom else 1,
        megapixels=megapixels,
        size_step=step,
        prompt_max=2000,
        params=("seed",),
        wire=(("body", tuple(body.items())),),
    )


FLUX_SPECS: tuple[ModelSpec, ...] = (
    _flux("flux-schnell", "FLUX.1 schnell", 0.003, {"num_inference_steps": 4, "num_outputs": 1}),
    _flux("flux-dev", "FLUX.1 dev", 0.025, {"num_inference_steps": 28, "guidance": 3.5, "num_outputs": 1}),
    _flux("flux-1.1-pro", "FLUX1.1 pro", 0.04, {"safety_tolerance": 2}, custom=True),
    _flux(
        "flux-1.1-pro-ultra",
        "FLUX1.1 pro ultra",
        0.06,
        {"safety_tolerance": 2},
        ratios=ULTRA_RATIOS,
        megapixels=4.0,
        step=32,
    ),
    _flux(
        "flux-kontext-pro",
        "FLUX.1 Kontext pro",
        0.04,
        {"safety_tolerance": 2},
        ratios=ULTRA_RATIOS,
        step=32,
        source="Black Forest Labs price for Kontext pro (Replicate's own page not in our sources)",
    ),
)


def _kling(
    model: str,
    label: str,
    usd_per_s: float,
    modes: tuple[str, ...],
    *,
    cfg_scale: bool,
    send_mode: bool,
    aspect_ratio: bool = False,
    end_frame: bool = False,
    source: str = SRC_KLING,
) -> ModelSpec:
    output = {"std": (1280, 720), "pro": (1920, 1080)}
    return ModelSpec(
        route="replicate-kling",
        model=f"kwaivgi/{model}",
        kind="i2v",
        price=PriceRule("second", usd_per_s, source, PRICE_DATE),
        label=label,
        modes=modes,
        durations=(5, 10),
        end_frame=(("pro", 5), ("pro", 10)) if end_frame else (),
        output=tuple((m, *output[m]) for m in modes),
        params=("negative_prompt",) + (("cfg_scale",) if cfg_scale else ()),
        # Replicate ignores aspect_ratio when a start image is given
        ignored=("aspect_ratio",) if aspect_ratio else (),
        wire=(("mode", send_mode), ("aspect_ratio", aspect_ratio)),
    )


KLING_SPECS: tuple[ModelSpec, ...] = (
    _kling("kling-v1.6-standard", "Kling 1.6 std", 0.056, ("std",), cfg_scale=True, send_mode=False,
           aspect_ratio=True),
    _kling("kling-v1.6-pro", "Kling 1.6 pro", 0.098, ("pro",), cfg_scale=True, send_mode=False,
           aspect_ratio=True),
    _kling("kling-v2.1", "Kling 2.1", 0.09, ("std", "pro"), cfg_scale=False, send_mode=True, end_frame=True),
    _kling("kling-v2.5-turbo-pro", "Kling 2.5 Turbo", 0.07, ("pro",), cfg_scale=False, send_mode=False,
           end_frame=True),
    _kling(
        "kling-v2.6",
        "Kling 2.6",
        0.07,
        ("pro",),
        cfg_scale=False,
        send_mode=False,
        source="assumed: fal's $0.07/s for v2.6 without audio; no Replicate figure in our sources",
    ),
)  # fmt: skip

SPECS = FLUX_SPECS + KLING_SPECS

"""fal's models (providers.md §2.5, §2.6; field-2026.md): FLUX stills on the ``fal`` route and Kling
image-to-video on the ``fal-kling`` route, each with its price (fal bills successful outputs only)."""

from __future__ import annotations

from goldenchain.core.models import ModelSpec, PriceRule

__all__ = ["FLUX_SPECS", "KLING_SPECS", "SPECS"]

PRICE_DATE = "2026-11-01"
SRC_MP = "fal model page (llms.txt): per megapixel, rounded up"
SRC_LIST = "third-party fal price list"
SRC_KONTEXT = "Black Forest Labs price for Kontext pro (fal's own page not in our sources)"
#: fal's ImageSize schema bound (uncertain): the same number the emulator enforces
MAX_SIDE = 14142
#: the ratios FLUX 1.1 pro ultra and Kontext take (``aspect_ratio``)
ULTRA_RATIOS = ("21:9", "16:9", "4:3", "3:2", "1:1", "2:3", "3:4", "9:16", "9:21")
_STILL = ("seed",)


def _flux(
    model: str,
    label: str,
    price: PriceRule,
    body: dict[str, object],
    *,
    ratios: tuple[str, ...] = (),
    megapixels: float = 1.0,
) -> ModelSpec:
    return ModelSpec(
        route="fal",
        model=model,
        kind="t2i",
        price=price,
        label=label,
        sizes="aspect" if ratios else "pixels",
        ratios=ratios,
        min_side=64,
        max_side=MAX_SIDE,
        megapixels=megapixels,
        size_step=32,
        prompt_max=2000,
        params=_STILL,
        wire=(("body", tuple(body.items())),),
    )


FLUX_SPECS: tuple[ModelSpec, ...] = (
    _flux(
        "fal-ai/flux/schnell",
        "FLUX.1 schnell",
        PriceRule("megapixel", 0.003, SRC_MP, PRICE_DATE, round_up=True),
        {"num_inference_steps": 4, "guidance_scale": 3.5},
    ),
    _flux(
        "fal-ai/flux/dev",
        "FLUX.1 dev",
        PriceRule("megapixel", 0.025, SRC_MP, PRICE_DATE, round_up=True),
        {"num_inference_steps": 28, "guidance_scale": 3.5},
    ),
    _flux(
        "fal-ai/flux-pro/v1.1",
        "FLUX1.1 pro",
        PriceRule("image", 0.04, SRC_LIST, PRICE_DATE),
        {"safety_tolerance": "2"},
    ),
    _flux(
        "fal-ai/flux-pro/v1.1-ultra",
        "FLUX1.1 pro ultra",
        PriceRule("image", 0.06, SRC_LIST, PRICE_DATE),
        {"safety_tolerance": "2"},
        ratios=ULTRA_RATIOS,
        megapixels=4.0,
    ),
    _flux(
        "fal-ai/flux-pro/kontext/text-to-image",
        "FLUX.1 Kontext pro",
        PriceRule("image", 0.04, SRC_KONTEXT, PRICE_DATE),
        {"safety_tolerance": "2"},
        ratios=ULTRA_RATIOS,
    ),
)


def _kling(
    version: str,
    label: str,
    usd_per_s: float,
    source: str,
    *,
    image_field: str = "image_url",
    aspect_ratio: bool = False,
    cfg_scale: bool = True,
    generate_audio: bool = False,
    end_frame: bool = True,
) -> ModelSpec:
    params = ("negative_prompt",) + (("cfg_scale",) if cfg_scale else ())
    return ModelSpec(
        route="fal-kling",
        model=f"fal-ai/kling-video/{version}/pro/image-to-video",
        kind="i2v",
        price=PriceRule("second", usd_per_s, source, PRICE_DATE),
        label=label,
        modes=("pro",),
        durations=(5, 10),
        end_frame=(("pro", 5), ("pro", 10)) if end_frame else (),
        output=(("pro", 1920, 1080),),
        params=params,
        # v1.5/v1.6 take aspect_ratio, but an image-to-video clip follows its start frame
        ignored=("aspect_ratio",) if aspect_ratio else (),
        wire=(
            ("image_field", image_field),
            ("aspect_ratio", aspect_ratio),
            ("generate_audio", generate_audio),
        ),
    )


#: every fal Kling image-to-video endpoint is a pro one; none takes camera control; tail frame on all but v2.6
KLING_SPECS: tuple[ModelSpec, ...] = (
    _kling(
        "v1.6",
        "Kling 1.6",
        0.098,
        "assumed equal to the v1.6 pro rate on Replicate (community); fal's page gives none",
        aspect_ratio=True,
    ),
    _kling("v2.1", "Kling 2.1", 0.098, "fal page: $0.49 per 5 s, +$0.098 per extra second"),
    _kling("v2.5-turbo", "Kling 2.5 Turbo", 0.07, "community: $0.07/s for v2.5-turbo pro"),
    _kling(
        "v2.6",
        "Kling 2.6",
        0.07,
        "fal page (llms.txt): $0.07/s without audio (we send generate_audio false)",
        image_field="start_image_url",
        cfg_scale=False,
        generate_audio=True,
        end_frame=False,
    ),
)

SPECS = FLUX_SPECS + KLING_SPECS

"""fal endpoint catalogue and input validation (providers.md §2.5, §2.6). Errors use FastAPI's 422 shape."""

from __future__ import annotations

import re
from typing import Any

from goldenchain.providers.fal import models as fal_models

__all__ = ["IMAGE_SIZES", "endpoint_family", "validate_flux", "validate_kling"]

FLUX_ENDPOINTS = {
    "fal-ai/flux/dev", "fal-ai/flux/schnell", "fal-ai/flux-1/dev", "fal-ai/flux-1/schnell",
    "fal-ai/flux-pro/v1.1", "fal-ai/flux-pro/v1.1-ultra", "fal-ai/flux-pro/new",
} | {s.model for s in fal_models.FLUX_SPECS}  # fmt: skip
#: what each endpoint makes and takes, from goldenchain's own specs (aspect-ratio models, the largest side)
_SPECS = {s.model: s for s in fal_models.FLUX_SPECS}
_KLING = re.compile(r"fal-ai/kling-video/v[0-9.]+(?:-turbo)?/(?:standard|pro|master)/(?:image|text)-to-video")

IMAGE_SIZES = {
    "square_hd": (1024, 1024),
    "square": (512, 512),
    "portrait_4_3": (768, 1024),
    "portrait_16_9": (576, 1024),
    "landscape_4_3": (1024, 768),
    "landscape_16_9": (1024, 576),
}


def endpoint_family(endpoint: str) -> str | None:
    if endpoint in FLUX_ENDPOINTS:
        return "flux"
    if _KLING.fullmatch(endpoint):
        return "kling"
    return None


def _err(field: str, msg: str, kind: str, value: Any = None) -> dict[str, Any]:
    return {"loc": ["body", field], "msg": msg, "type": kind, "input": value}


def validate_flux(body: dict[str, Any], endpoint: str = "") -> dict[str, Any] | list[dict[str, Any]]:
    """The resolved spec ``{width, height, num_images, output_format}`` or a 422 ``detail`` list."""
    model = _SPECS.get(endpoint)
    if model is not None and model.sizes == "aspect":
        return _validate_aspect(body, model)
    errors: list[dict[str, Any]] = []
    prompt = body.get("prompt")
    if prompt is None:
        errors.append(_err("prompt", "Field required", "missing"))
    elif not isinstance(prompt, str) or not prompt.strip():
        errors.append(_err("prompt", "Input should be a non-empty string", "string_type", prompt))
    size = body.get("image_size", "landscape_4_3")
    width = height = 0
    if isinstance(size, str):
        if size in IMAGE_SIZES:
            width, height = IMAGE_SIZES[size]
        else:
            msg = "Input should be " + ", ".join(f"'{k}'" for k in IMAGE_SIZES)
            errors.append(_err("image_size", msg, "enum", size))
    elif isinstance(size, dict):
        w, h = size.get("width", 512), size.get("height", 512)
        hi = model.max_side if model is not None else 4096
        for name, v in (("width", w), ("height", h)):
            if isinstance(v, bool) or not isinstance(v, int) or not 64 <= v <= hi:
                errors.append(
                    {"loc": ["body", "image_size", name], "msg": f"Input should be an integer in [64, {hi}]",
                     "type": "int_range", "input": v}
                )  # fmt: skip
        if not errors:
            width, height = int(w), int(h)
    else:
        errors.append(
            _err("image_size", "Input should be an enum value or {width, height}", "union_type", size)
        )
    n = body.get("num_images", 1)
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 4:
        errors.append(_err("num_images", "Input should be an integer in [1, 4]", "int_range", n))
    fmt = body.get("output_format", "jpeg")
    if fmt not in ("jpeg", "png"):
        errors.append(_err("output_format", "Input should be 'jpeg' or 'png'", "enum", fmt))
    seed = body.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        errors.append(_err("seed", "Input should be a valid integer", "int_type", seed))
    steps = body.get("num_inference_steps")
    if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= 50):
        errors.append(
            _err("num_inference_steps", "Input should be an integer in [1, 50]", "int_range", steps)
        )
    if errors:
        return errors
    return {"width": width, "height": height, "num_images": n, "output_format": fmt}


def _validate_aspect(body: dict[str, Any], model: Any) -> dict[str, Any] | list[dict[str, Any]]:
    """FLUX1.1 pro ultra and Kontext: ``aspect_ratio`` instead of ``image_size``; the size follows from it."""
    errors: list[dict[str, Any]] = []
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        errors.append(_err("prompt", "Field required", "missing", prompt))
    aspect = body.get("aspect_ratio", "16:9")
    if aspect not in model.ratios:
        msg = "Input should be " + ", ".join(f"'{r}'" for r in model.ratios)
        errors.append(_err("aspect_ratio", msg, "enum", aspect))
    if "image_size" in body:
        errors.append(
            _err("image_size", "Extra inputs are not permitted", "extra_forbidden", body["image_size"])
        )
    n = body.get("num_images", 1)
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 4:
        errors.append(_err("num_images", "Input should be an integer in [1, 4]", "int_range", n))
    fmt = body.get("output_format", "jpeg")
    if fmt not in ("jpeg", "png"):
        errors.append(_err("output_format", "Input should be 'jpeg' or 'png'", "enum", fmt))
    if errors:
        return errors
    rw, rh = (int(x) for x in str(aspect).split(":"))
    width, height = model.still_output(rw, rh)
    return {"width": width, "height": height, "num_images": n, "output_format": fmt}


def validate_kling(body: dict[str, Any], endpoint: str) -> dict[str, Any] | list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    if endpoint.endswith("image-to-video"):
        key = "start_image_url" if "/v2.6/" in endpoint else "image_url"
        if not isinstance(body.get(key), str) or not body.get(key):
            errors.append(_err(key, "Field required", "missing"))
    if not isinstance(body.get("prompt"), str) or not body.get("prompt"):
        errors.append(_err("prompt", "Field required", "missing"))
    duration = body.get("duration", "5")
    if duration not in ("5", "10"):
        errors.append(_err("duration", "Input should be '5' or '10'", "enum", duration))
    aspect = body.get("aspect_ratio", "16:9")
    if aspect not in ("16:9", "9:16", "1:1"):
        errors.append(_err("aspect_ratio", "Input should be '16:9', '9:16' or '1:1'", "enum", aspect))
    cfg = body.get("cfg_scale", 0.5)
    if isinstance(cfg, bool) or not isinstance(cfg, int | float) or not 0 <= cfg <= 1:
        errors.append(_err("cfg_scale", "Input should be a number in [0, 1]", "float_range", cfg))
    return errors or {}

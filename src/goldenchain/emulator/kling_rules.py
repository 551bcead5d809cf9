"""Kling request validation, error codes, credit table and output sizes (providers.md §1.4-§1.10, §5.1)."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from goldenchain.providers.kling import models as kling_models

from .media import clip_size

__all__ = ["CREDITS", "FAULT_ERRORS", "MODELS", "TASK_MESSAGES", "output_spec", "validate"]

#: the task families and their models: goldenchain's Kling specs, and the image models (no spec: not driven)
MODELS = {
    "videos/image2video": {s.model for s in kling_models.I2V_SPECS},
    "videos/text2video": {s.model for s in kling_models.T2V_SPECS},
    "images/generations": {"kling-v1", "kling-v1-5", "kling-v2", "kling-v2-new", "kling-v2-1"},
}


def _per_5s(spec: Any) -> tuple[float, ...]:
    units = {m: u for m, d, u in spec.price.units if d == 5}
    if units.get("std", units.get("pro")) == units.get("pro"):
        return (units["pro"],)  # one price whatever the mode (the master models, and pro-only ones)
    return (units["std"], units["pro"])


#: units per 5 s: (std, pro); a single-price model has one (§1.10), from the specs' price rules
CREDITS: dict[str, tuple[float, ...]] = {
    s.model: _per_5s(s) for s in kling_models.I2V_SPECS + kling_models.T2V_SPECS
}

# Request-fault kind -> (HTTP status, Kling code, message) (§1.8).
FAULT_ERRORS: dict[str, tuple[int, int, str]] = {
    "rate_limit": (429, 1302, "request rate limit exceeded"),
    "concurrency": (429, 1303, "parallel task over resource pack limit"),
    "billing": (429, 1102, "resource pack exhausted or expired"),
    "billing_1102": (429, 1102, "resource pack exhausted or expired"),
    "billing_1101": (429, 1101, "account in arrears"),
    "auth": (401, 1000, "authentication failed"),
    "content_policy": (400, 1301, "content security policy triggered: input flagged"),
    "server_error": (500, 5000, "server internal error"),
    "unavailable": (503, 5001, "server temporarily unavailable"),
    "timeout": (504, 5002, "server internal timeout"),
    "unavailable_no_retry": (503, 5001, "server temporarily unavailable"),
    "invalid": (400, 1201, "invalid parameter value"),
    "not_found": (404, 1203, "model_name is not supported"),
}

TASK_MESSAGES = {
    "content_policy": "Failure to pass the risk control system",
    "failed": "Task failed: internal error, please try again",
}

_CAMERA_TYPES = {"simple", "down_back", "forward_up", "right_turn_forward", "left_turn_forward"}
_CAMERA_KEYS = ("horizontal", "vertical", "pan", "tilt", "roll", "zoom")
_HIGH_RES = {"kling-v2-1-master", "kling-v2-5-turbo", "kling-v2-6"}
_LOW_RES = {"kling-v1", "kling-v2-master"}


def _bad(message: str) -> tuple[int, int, str]:
    return 400, 1201, message


def validate(body: dict[str, Any], family: str) -> tuple[int, int, str] | None:
    """(status, code, message) of the first problem, or None when the body is valid."""
    model = body.get("model_name", body.get("model", "kling-v1"))
    if not isinstance(model, str) or model not in MODELS[family]:
        return 404, 1203, f"model_name {model} is not supported"
    for key in ("prompt", "negative_prompt"):
        value = body.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > 2500):
            return _bad(f"{key} must be a string of at most 2500 characters")
    if family != "videos/image2video" and not body.get("prompt"):
        return _bad("prompt is required")
    ext = body.get("external_task_id")
    if ext is not None and (not isinstance(ext, str) or not ext):
        return _bad("external_task_id must be a non-empty string")
    if family == "images/generations":
        n = body.get("n", 1)
        if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 9:
            return _bad("n must be an integer 1-9")
        if body.get("aspect_ratio", "16:9") not in _IMAGE_SIZES:
            return _bad("aspect_ratio is invalid")
        if body.get("resolution", "1k") not in ("1k", "2k"):
            return _bad("resolution must be 1k or 2k")
        return None
    if body.get("duration", "5") not in ("5", "10"):
        return _bad('duration must be the string "5" or "10"')
    if body.get("mode", "std") not in ("std", "pro"):
        return _bad("mode must be std or pro")
    cfg = body.get("cfg_scale")
    if cfg is not None and (isinstance(cfg, bool) or not isinstance(cfg, int | float) or not 0 <= cfg <= 1):
        return _bad("cfg_scale must be a number in [0, 1]")
    if family == "videos/text2video" and body.get("aspect_ratio", "16:9") not in ("16:9", "9:16", "1:1"):
        return _bad("aspect_ratio must be 16:9, 9:16 or 1:1")
    camera = body.get("camera_control")
    if camera is not None:
        problem = _check_camera(camera)
        if problem:
            return _bad(problem)
    if family == "videos/image2video":
        image, tail = body.get("image"), body.get("image_tail")
        if not image and not tail:
            return _bad("image or image_tail is required")
        for key, value in (("image", image), ("image_tail", tail)):
            if value is not None and (not isinstance(value, str) or value.startswith("data:")):
                return _bad(f"{key} must be a URL or raw base64 without a data: prefix")
        masks = body.get("static_mask") is not None or body.get("dynamic_masks") is not None
        groups = [tail is not None, masks, camera is not None]
        if sum(groups) > 1:
            return _bad("image_tail, static_mask/dynamic_masks and camera_control are mutually exclusive")
        dyn = body.get("dynamic_masks")
        if dyn is not None and (not isinstance(dyn, list) or len(dyn) > 6):
            return _bad("dynamic_masks must be a list of at most 6 items")
    return None


def _check_camera(camera: Any) -> str | None:
    if not isinstance(camera, dict):
        return "camera_control must be an object"
    ctype = camera.get("type")
    if ctype not in _CAMERA_TYPES:
        return f"camera_control.type must be one of {sorted(_CAMERA_TYPES)}"
    config = camera.get("config")
    if ctype != "simple":
        return "camera_control.config is only allowed when type is simple" if config is not None else None
    if not isinstance(config, dict):
        return "camera_control.config is required when type is simple"
    unknown = set(config) - set(_CAMERA_KEYS)
    if unknown:
        return f"camera_control.config has unknown keys {sorted(unknown)}"
    values = [config.get(k, 0) for k in _CAMERA_KEYS]
    if any(isinstance(v, bool) or not isinstance(v, int | float) or not -10 <= v <= 10 for v in values):
        return "camera_control.config values must be numbers in [-10, 10]"
    if sum(1 for v in values if v != 0) != 1:
        return "camera_control.config must have exactly one non-zero value"
    return None


_IMAGE_SIZES = {
    "16:9": (1344, 768), "9:16": (768, 1344), "1:1": (1024, 1024), "4:3": (1152, 864), "3:4": (864, 1152),
    "3:2": (1248, 832), "2:3": (832, 1248), "21:9": (1536, 640),
}  # fmt: skip


def _nearest_aspect(w: int, h: int) -> str:
    ratio = w / h
    return min(("16:9", 16 / 9), ("9:16", 9 / 16), ("1:1", 1.0), key=lambda a: abs(a[1] - ratio))[0]


def output_spec(body: dict[str, Any], image: bytes | None, family: str) -> tuple[int, int, int]:
    """(width, height, fps) of the result. I2V follows the input image's aspect; T2V its aspect_ratio."""
    if family == "images/generations":
        w, h = _IMAGE_SIZES[body.get("aspect_ratio", "16:9")]
        return (w * 2, h * 2, 0) if body.get("resolution") == "2k" else (w, h, 0)
    model = body.get("model_name") or body.get("model") or "kling-v1"
    high = model in _HIGH_RES or (body.get("mode") == "pro" and model not in _LOW_RES)
    if image is not None:
        with Image.open(io.BytesIO(image)) as img:
            aspect = _nearest_aspect(*img.size)
    else:
        aspect = body.get("aspect_ratio", "16:9")
    w, h = clip_size(aspect, high)
    return w, h, 30 if model == "kling-v1" else 24

"""Kling image-to-video capability checks (providers.md §1.4, §1.6): refuse before any spend, never coerce."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from PIL import Image, UnidentifiedImageError

from goldenchain.core.capabilities import VIDEO_MODELS
from goldenchain.providers.base import Camera, CapabilityError, ClipRequest

__all__ = [
    "CAMERA_CAPABLE",
    "I2V_MODELS",
    "MAX_IMAGE_BYTES",
    "MAX_PROMPT",
    "ImageInfo",
    "camera_control",
    "check_clip",
    "image_info",
]

PROVIDER = "kling"

#: I2V models and the modes each accepts. kling-v2-5-turbo: pro only (Kling answered "std not supported" to
#: ComfyUI's I2V node, Oct 2025). The two master models list no mode choice (uncertain): both are passed on.
I2V_MODELS: dict[str, frozenset[str]] = {
    vm.model: frozenset(vm.modes) for (prov, _), vm in VIDEO_MODELS.items() if prov == PROVIDER
}
DURATIONS = (5, 10)
#: (model, mode, duration) combinations where I2V takes ``camera_control`` (type ``simple`` only)
CAMERA_CAPABLE = frozenset(
    (vm.model, mode, dur)
    for (prov, _), vm in VIDEO_MODELS.items()
    if prov == PROVIDER
    for mode, dur in vm.camera
)
MAX_PROMPT = 2500
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MIN_SIDE = 300
MIN_RATIO, MAX_RATIO = 1 / 2.5, 2.5
ASPECTS = {"16:9": 16 / 9, "9:16": 9 / 16, "1:1": 1.0}
#: tolerance between the start frame's ratio and the shot's aspect (Kling's output follows the image)
ASPECT_TOLERANCE = 0.05
_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg"}
_CAMERA_AXES = {"horizontal": "horizontal", "vertical": "vertical", "zoom": "zoom", "rotation": "roll"}


@dataclass(frozen=True)
class ImageInfo:
    format: str  # "PNG" | "JPEG"
    width: int
    height: int


def _fail(reason: str) -> CapabilityError:
    return CapabilityError(PROVIDER, reason)


def image_info(data: bytes) -> ImageInfo:
    """Format and size from the PNG/JPEG header (Pillow reads the header only)."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt, (width, height) = img.format, img.size
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise _fail("start frame is not a readable PNG or JPEG image") from None
    if fmt not in _FORMATS:
        raise _fail(f"start frame is {fmt}; Kling takes PNG or JPEG")
    return ImageInfo(fmt, width, height)


def camera_control(camera: Camera) -> dict[str, Any]:
    """Kling's ``camera_control``: type ``simple`` with exactly one non-zero axis in [-10, 10]."""
    moves = camera.nonzero()
    if not moves:
        raise _fail("camera has no movement; leave camera unset for none")
    if len(moves) > 1:
        raise _fail(f"Kling camera control moves one axis at a time; got {', '.join(sorted(moves))}")
    ((axis, value),) = moves.items()
    if not -10 <= value <= 10:
        raise _fail(f"camera {axis} = {value} is outside -10..10")
    config = dict.fromkeys(("horizontal", "vertical", "pan", "tilt", "roll", "zoom"), 0.0)
    config[_CAMERA_AXES[axis]] = float(value)
    return {"type": "simple", "config": config}


def check_clip(request: ClipRequest) -> ImageInfo:
    """Raise :class:`CapabilityError` naming the first thing Kling I2V cannot do as asked."""
    modes = I2V_MODELS.get(request.model)
    if modes is None:
        raise _fail(f"unknown I2V model {request.model!r}; known: {', '.join(I2V_MODELS)}")
    if request.mode not in ("std", "pro"):
        raise _fail(f"mode {request.mode!r} must be 'std' or 'pro'")
    if request.mode not in modes:
        raise _fail(f"{request.model} I2V takes mode {'/'.join(sorted(modes))}, not {request.mode!r}")
    if isinstance(request.duration, bool) or request.duration not in DURATIONS:
        raise _fail(f"duration {request.duration!r} must be 5 or 10 seconds")
    if len(request.prompt) > MAX_PROMPT:
        raise _fail(f"prompt is {len(request.prompt)} characters; Kling allows {MAX_PROMPT}")
    if request.negative_prompt is not None and len(request.negative_prompt) > MAX_PROMPT:
        raise _fail(
            f"negative prompt is {len(request.negative_prompt)} characters; Kling allows {MAX_PROMPT}"
        )
    if not 0.0 <= request.cfg_scale <= 1.0:
        raise _fail(f"cfg_scale {request.cfg_scale} is outside 0..1")
    if request.motion is not None:
        raise _fail("Kling I2V has no motion-strength setting; leave motion unset")
    if not request.external_id:
        raise _fail("external_id is required (sent as external_task_id so a doubtful create can be found)")
    if request.aspect not in ASPECTS:
        raise _fail(f"aspect {request.aspect!r} must be one of {', '.join(ASPECTS)}")
    if request.camera is not None:
        key = (request.model, request.mode, request.duration)
        if key not in CAMERA_CAPABLE:
            raise _fail(
                f"camera control is not available on {request.model} {request.mode} {request.duration} s "
                "(I2V camera control: kling-v1-5 pro 5 s only)"
            )
        camera_control(request.camera)
    if len(request.image) > MAX_IMAGE_BYTES:
        raise _fail(f"start frame is {len(request.image) / 1e6:.1f} MB; Kling allows 10 MB")
    info = image_info(request.image)
    mime = request.image_mime.lower().replace("image/jpg", "image/jpeg")
    if mime != _FORMATS[info.format]:
        raise _fail(f"start frame is {info.format} but image_mime says {request.image_mime!r}")
    if min(info.width, info.height) < MIN_SIDE:
        raise _fail(f"start frame is {info.width}x{info.height}; Kling needs at least {MIN_SIDE}x{MIN_SIDE}")
    ratio = info.width / info.height
    if not MIN_RATIO <= ratio <= MAX_RATIO:
        raise _fail(f"start frame {info.width}x{info.height} is outside Kling's aspect range 1:2.5..2.5:1")
    wanted = ASPECTS[request.aspect]
    if abs(ratio - wanted) / wanted > ASPECT_TOLERANCE:
        raise _fail(
            f"start frame {info.width}x{info.height} does not match aspect {request.aspect}; "
            "Kling I2V output follows the image"
        )
    return info

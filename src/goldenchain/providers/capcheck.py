"""Capability checks shared by the fal-Kling, Replicate and Together adapters. They read the one capability
matrix (:mod:`goldenchain.core.capabilities`), refuse before any spend with a concise
:class:`~goldenchain.providers.base.CapabilityError`, and never correct a request silently."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from goldenchain.core.capabilities import (
    IMAGE_MODELS,
    VIDEO_MODELS,
    ImageModel,
    VideoModel,
    image_model,
    video_model,
)
from goldenchain.providers.base import CapabilityError, ClipRequest, StillRequest

__all__ = [
    "ASPECTS",
    "MAX_SEED",
    "ImageInfo",
    "check_clip_request",
    "check_still_request",
    "image_info",
    "models_of",
]

ASPECTS = {"16:9": 16 / 9, "9:16": 9 / 16, "1:1": 1.0}
#: tolerance between the start frame's ratio and the shot's aspect (I2V output follows the image)
ASPECT_TOLERANCE = 0.05
MAX_SEED = 2**32 - 1
_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg"}


@dataclass(frozen=True)
class ImageInfo:
    format: str  # "PNG" | "JPEG"
    width: int
    height: int
    mime: str


def models_of(provider: str, kind: str) -> list[str]:
    """The models the capability matrix lists for a provider (``kind`` ``"t2i"`` or ``"i2v"``)."""
    table = IMAGE_MODELS if kind == "t2i" else VIDEO_MODELS
    return [model for (prov, model) in table if prov == provider]


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def image_info(provider: str, data: bytes) -> ImageInfo:
    """Format and size from the PNG/JPEG header (Pillow reads the header only)."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt, (width, height) = img.format, img.size
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise CapabilityError(provider, "start frame is not a readable PNG or JPEG image") from None
    if fmt not in _FORMATS:
        raise CapabilityError(provider, f"start frame is {fmt}; {provider} takes PNG or JPEG")
    return ImageInfo(fmt, width, height, _FORMATS[fmt])


def check_clip_request(
    provider: str,
    request: ClipRequest,
    *,
    cfg_scale: bool = True,
    negative_prompt: bool = True,
) -> tuple[VideoModel, ImageInfo]:
    """Raise :class:`CapabilityError` naming the first thing ``provider``'s ``request.model`` cannot do as
    asked. ``cfg_scale=False``: the model takes no cfg_scale, so only the default 0.5 is accepted."""

    def fail(reason: str) -> CapabilityError:
        return CapabilityError(provider, reason)

    row = video_model(provider, request.model)
    if row is None:
        known = ", ".join(models_of(provider, "i2v")) or "none"
        raise fail(f"unknown {provider} video model {request.model!r}; known: {known}")
    if request.mode not in row.modes:
        raise fail(f"{request.model} takes mode {'/'.join(row.modes)}, not {request.mode!r}")
    if not _whole(request.duration) or request.duration not in row.durations:
        allowed = " or ".join(str(d) for d in row.durations)
        raise fail(f"duration {request.duration!r} must be {allowed} seconds on {request.model}")
    if not request.prompt.strip():
        raise fail("prompt is empty")
    if len(request.prompt) > row.prompt_max:
        raise fail(f"prompt is {len(request.prompt)} characters; {request.model} allows {row.prompt_max}")
    if request.negative_prompt is not None:
        if not negative_prompt:
            raise fail(f"{request.model} takes no negative prompt; leave it unset")
        if len(request.negative_prompt) > row.prompt_max:
            raise fail(
                f"negative prompt is {len(request.negative_prompt)} characters; allowed {row.prompt_max}"
            )
    if cfg_scale and not 0.0 <= request.cfg_scale <= 1.0:
        raise fail(f"cfg_scale {request.cfg_scale} is outside 0..1")
    if not cfg_scale and request.cfg_scale != 0.5:
        raise fail(f"{request.model} has no cfg_scale; leave it at the default 0.5")
    if request.motion is not None:
        raise fail(f"{request.model} has no motion-strength setting; leave motion unset")
    if request.camera is not None and request.camera.nonzero():
        if not row.camera:
            raise fail(f"{request.model} on {provider} takes no camera control; leave camera unset")
        if (request.mode, request.duration) not in row.camera:
            raise fail(
                f"camera control is not available on {request.model} {request.mode} {request.duration} s"
            )
    if not request.external_id:
        raise fail("external_id is required")
    if request.aspect not in ASPECTS:
        raise fail(f"aspect {request.aspect!r} must be one of {', '.join(ASPECTS)}")
    if len(request.image) > row.image_max_bytes:
        limit = row.image_max_bytes / 1e6
        raise fail(f"start frame is {len(request.image) / 1e6:.1f} MB; {provider} allows {limit:.0f} MB")
    info = image_info(provider, request.image)
    mime = request.image_mime.lower().replace("image/jpg", "image/jpeg")
    if mime != info.mime:
        raise fail(f"start frame is {info.format} but image_mime says {request.image_mime!r}")
    if min(info.width, info.height) < row.image_min_px:
        raise fail(f"start frame is {info.width}x{info.height}; needs at least {row.image_min_px} px a side")
    ratio = info.width / info.height
    if not row.aspect_min <= ratio <= row.aspect_max:
        raise fail(f"start frame {info.width}x{info.height} is outside the aspect range 1:2.5..2.5:1")
    wanted = ASPECTS[request.aspect]
    if abs(ratio - wanted) / wanted > ASPECT_TOLERANCE:
        raise fail(
            f"start frame {info.width}x{info.height} does not match aspect {request.aspect}; "
            "image-to-video output follows the image"
        )
    return row, info


def check_still_request(
    provider: str, request: StillRequest, *, min_side: int = 64, multiple_of: int = 1
) -> ImageModel:
    """Checks every still adapter shares: known model, prompt, sizes (``min_side``..``max_side`` of the
    matrix, multiples of ``multiple_of``), seed, output format, external id."""

    def fail(reason: str) -> CapabilityError:
        return CapabilityError(provider, reason)

    row = image_model(provider, request.model)
    if row is None:
        known = ", ".join(models_of(provider, "t2i")) or "none"
        raise fail(f"unknown {provider} image model {request.model!r}; known: {known}")
    if not request.prompt.strip():
        raise fail("prompt is empty")
    if len(request.prompt) > row.prompt_max:
        raise fail(f"prompt is {len(request.prompt)} characters; {request.model} allows {row.prompt_max}")
    for side, value in (("width", request.width), ("height", request.height)):
        if not _whole(value) or not min_side <= value <= row.max_side:
            raise fail(f"{side} {value!r} must be a whole number of pixels in {min_side}..{row.max_side}")
        if value % multiple_of:
            raise fail(f"{side} {value} must be a multiple of {multiple_of} on {request.model}")
    if not _whole(request.seed) or not 0 <= request.seed <= MAX_SEED:
        raise fail(f"seed {request.seed!r} must be a whole number in 0..{MAX_SEED}")
    if request.output_format not in ("png", "jpeg"):
        raise fail(f"output_format {request.output_format!r} must be 'png' or 'jpeg'")
    if not request.external_id:
        raise fail("external_id is required")
    return row

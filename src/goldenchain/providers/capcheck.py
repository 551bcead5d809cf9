"""Capability checks every adapter shares. They read the model's :class:`~goldenchain.core.models.ModelSpec`
(the same spec lint and estimate read: the plan-level checks are the spec's own ``clip_issues`` and
``still_issues``), add what only a request can show (types, the start frame's bytes, our id), refuse before
any spend with a concise :class:`~goldenchain.providers.base.CapabilityError`, and never correct a request
silently."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from goldenchain.core.models import VIDEO_ASPECTS, ModelSpec, UnknownModel, active_catalog
from goldenchain.providers.base import CapabilityError, ClipRequest, StillRequest

__all__ = [
    "ASPECT_TOLERANCE",
    "MAX_SEED",
    "ImageInfo",
    "check_clip_request",
    "check_still_request",
    "image_info",
    "spec_for",
]

#: tolerance between the start frame's ratio and the shot's aspect (I2V output follows the image)
ASPECT_TOLERANCE = 0.05
MAX_SEED = 2**32 - 1
_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg"}
_RATIOS = {a: int(a.split(":")[0]) / int(a.split(":")[1]) for a in VIDEO_ASPECTS}


@dataclass(frozen=True)
class ImageInfo:
    format: str  # "PNG" | "JPEG"
    width: int
    height: int
    mime: str


def spec_for(provider: str, model: str, kind: str) -> ModelSpec:
    """The registered spec of ``provider``'s ``model`` (a project's own models included)."""
    try:
        return active_catalog().require(provider, model, kind)
    except UnknownModel as e:
        raise CapabilityError(provider, str(e)) from None


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


def _first_error(provider: str, issues: list[object]) -> None:
    for issue in issues:
        if getattr(issue, "severity", None) == "error":
            raise CapabilityError(provider, str(getattr(issue, "message", issue)))


def check_clip_request(provider: str, request: ClipRequest, kind: str = "i2v") -> tuple[ModelSpec, ImageInfo]:
    """Raise :class:`CapabilityError` naming the first thing ``provider``'s ``request.model`` cannot do as
    asked: the spec's own checks first (what lint reports), then the start frame."""

    def fail(reason: str) -> CapabilityError:
        return CapabilityError(provider, reason)

    spec = spec_for(provider, request.model, kind)
    if not _whole(request.duration):
        allowed = " or ".join(str(d) for d in spec.durations)
        raise fail(f"duration {request.duration!r} must be {allowed} seconds on {request.model}")
    if request.aspect not in VIDEO_ASPECTS:
        raise fail(f"aspect {request.aspect!r} must be one of {', '.join(VIDEO_ASPECTS)}")
    camera = request.camera.nonzero() if request.camera is not None else {}
    _first_error(
        provider,
        list(
            spec.clip_issues(
                prompt=request.prompt,
                mode=request.mode,
                duration=request.duration,
                aspect=request.aspect,
                camera=camera,
                cfg_scale=request.cfg_scale,
                negative_prompt=request.negative_prompt,
                camera_models=active_catalog().camera_models(kind),
            )
        ),
    )
    if request.motion is not None:
        raise fail(f"{request.model} has no motion-strength setting; leave motion unset")
    if not request.external_id:
        raise fail("external_id is required")
    if len(request.image) > spec.image_max_bytes:
        limit = spec.image_max_bytes / 1024 / 1024
        raise fail(f"start frame is {len(request.image) / 1e6:.1f} MB; {provider} allows {limit:.0f} MB")
    info = image_info(provider, request.image)
    mime = request.image_mime.lower().replace("image/jpg", "image/jpeg")
    if mime != info.mime:
        raise fail(f"start frame is {info.format} but image_mime says {request.image_mime!r}")
    if min(info.width, info.height) < spec.image_min_px:
        raise fail(f"start frame is {info.width}x{info.height}; needs at least {spec.image_min_px} px a side")
    ratio = info.width / info.height
    if not spec.image_ratio_min <= ratio <= spec.image_ratio_max:
        raise fail(f"start frame {info.width}x{info.height} is outside the aspect range 1:2.5..2.5:1")
    wanted = _RATIOS[request.aspect]
    if abs(ratio - wanted) / wanted > ASPECT_TOLERANCE:
        raise fail(
            f"start frame {info.width}x{info.height} does not match aspect {request.aspect}; "
            "image-to-video output follows the image"
        )
    return spec, info


def check_still_request(provider: str, request: StillRequest) -> ModelSpec:
    """Checks every still adapter shares: the spec's own (prompt, sizes: what lint reports), then the
    request's types, seed, output format and our id."""

    def fail(reason: str) -> CapabilityError:
        return CapabilityError(provider, reason)

    spec = spec_for(provider, request.model, "t2i")
    for side, value in (("width", request.width), ("height", request.height)):
        if not _whole(value):
            raise fail(f"{side} {value!r} must be a whole number of pixels")
    _first_error(provider, list(spec.still_issues(request.prompt, request.width, request.height)))
    if not _whole(request.seed) or not 0 <= request.seed <= MAX_SEED:
        raise fail(f"seed {request.seed!r} must be a whole number in 0..{MAX_SEED}")
    if request.output_format not in ("png", "jpeg"):
        raise fail(f"output_format {request.output_format!r} must be 'png' or 'jpeg'")
    if not request.external_id:
        raise fail("external_id is required")
    return spec

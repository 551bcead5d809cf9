"""Kling capability checks (providers.md §1.4-§1.6): the model's spec (``providers/kling/models.py``) through
the shared checks, plus Kling's own camera rule. Refuse before any spend, never coerce."""

from __future__ import annotations

from typing import Any

from goldenchain.core.models import VIDEO_ASPECTS, ModelSpec, active_catalog
from goldenchain.providers.base import Camera, CapabilityError, ClipRequest
from goldenchain.providers.capcheck import ImageInfo, check_clip_request, spec_for

__all__ = ["camera_control", "check_clip", "check_text_clip"]

PROVIDER = "kling"
_CAMERA_AXES = {"horizontal": "horizontal", "vertical": "vertical", "zoom": "zoom", "rotation": "roll"}


def _fail(reason: str) -> CapabilityError:
    return CapabilityError(PROVIDER, reason)


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
    """Raise :class:`CapabilityError` naming the first thing Kling image-to-video cannot do as asked."""
    if request.camera is not None:
        camera_control(request.camera)
    _, info = check_clip_request(PROVIDER, request, "i2v")
    return info


def check_text_clip(request: Any) -> ModelSpec:
    """The same for text-to-video (no start frame; the aspect ratio is sent)."""
    spec = spec_for(PROVIDER, request.model, "t2v")
    if isinstance(request.duration, bool) or not isinstance(request.duration, int):
        raise _fail(f"duration {request.duration!r} must be 5 or 10 seconds")
    if request.aspect not in VIDEO_ASPECTS:
        raise _fail(f"aspect {request.aspect!r} must be one of {', '.join(VIDEO_ASPECTS)}")
    if request.camera is not None:
        camera_control(request.camera)
    issues = spec.clip_issues(
        prompt=request.prompt,
        mode=request.mode,
        duration=request.duration,
        aspect=request.aspect,
        camera=request.camera.nonzero() if request.camera is not None else {},
        cfg_scale=request.cfg_scale,
        negative_prompt=request.negative_prompt,
        camera_models=active_catalog().camera_models("t2v"),
    )
    for issue in issues:
        if issue.severity == "error":
            raise _fail(issue.message)
    if not request.external_id:
        raise _fail("external_id is required")
    return spec

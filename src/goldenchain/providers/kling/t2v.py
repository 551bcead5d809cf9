"""Kling text-to-video (``/v1/videos/text2video``): the image-to-video adapter's protocol on another path,
with its own body and capability checks."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from goldenchain.providers.base import CapabilityError, TextClipRequest
from goldenchain.providers.kling.checks import camera_control
from goldenchain.providers.kling.i2v import KlingImageToVideo

#: T2V models and modes (providers.md §1.5); camera control on T2V only kling-v1 std 5 s (§1.4)
T2V_MODELS: dict[str, frozenset[str]] = {
    "kling-v1": frozenset({"std", "pro"}),
    "kling-v1-6": frozenset({"std", "pro"}),
    "kling-v2-master": frozenset({"std", "pro"}),
    "kling-v2-1-master": frozenset({"std", "pro"}),
    "kling-v2-5-turbo": frozenset({"std", "pro"}),
    "kling-v2-6": frozenset({"std", "pro"}),
}
T2V_CAMERA = frozenset({("kling-v1", "std", 5)})
ASPECTS = ("16:9", "9:16", "1:1")


def _fail(reason: str) -> CapabilityError:
    return CapabilityError("kling", reason)


def check_text_clip(request: TextClipRequest) -> None:
    modes = T2V_MODELS.get(request.model)
    if modes is None:
        raise _fail(f"unknown T2V model {request.model!r}; known: {', '.join(T2V_MODELS)}")
    if request.mode not in modes:
        raise _fail(f"{request.model} T2V takes mode {'/'.join(sorted(modes))}, not {request.mode!r}")
    if isinstance(request.duration, bool) or request.duration not in (5, 10):
        raise _fail(f"duration {request.duration!r} must be 5 or 10 seconds")
    if not request.prompt.strip():
        raise _fail("text-to-video needs a prompt")
    if len(request.prompt) > 2500:
        raise _fail(f"prompt is {len(request.prompt)} characters; Kling allows 2500")
    if request.aspect not in ASPECTS:
        raise _fail(f"aspect {request.aspect!r} must be one of {', '.join(ASPECTS)}")
    if not 0.0 <= request.cfg_scale <= 1.0:
        raise _fail(f"cfg_scale {request.cfg_scale} is outside 0..1")
    if not request.external_id:
        raise _fail("external_id is required")
    if request.camera is not None:
        if (request.model, request.mode, request.duration) not in T2V_CAMERA:
            raise _fail(
                f"camera control is not available on {request.model} {request.mode} {request.duration} s "
                "(T2V camera control: kling-v1 std 5 s only)"
            )
        camera_control(request.camera)


class KlingTextToVideo(KlingImageToVideo):
    """Same auth, money-safe create, polling, lookup by ``external_task_id``, list and download."""

    kind: ClassVar[Literal["t2i", "i2v", "t2v"]] = "t2v"
    path: ClassVar[str] = "/v1/videos/text2video"

    def __repr__(self) -> str:
        return f"KlingTextToVideo(base_url={self.base_url!r})"

    def check_inputs(self, request: Any) -> None:
        check_text_clip(request)

    def build_body(self, request: Any) -> dict[str, Any]:
        check_text_clip(request)
        body: dict[str, Any] = {
            "model_name": request.model,
            "prompt": request.prompt,
            "cfg_scale": request.cfg_scale,
            "mode": request.mode,
            "aspect_ratio": request.aspect,
            "duration": str(request.duration),
            "external_task_id": request.external_id,
        }
        if request.negative_prompt is not None:
            body["negative_prompt"] = request.negative_prompt
        if request.camera is not None:
            body["camera_control"] = camera_control(request.camera)
        return body

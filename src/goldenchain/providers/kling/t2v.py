"""Kling text-to-video (``/v1/videos/text2video``): the image-to-video adapter's protocol on another path,
with its own body and capability checks."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from goldenchain.providers.kling.checks import camera_control, check_text_clip
from goldenchain.providers.kling.i2v import KlingImageToVideo

__all__ = ["KlingTextToVideo", "check_text_clip"]


class KlingTextToVideo(KlingImageToVideo):
    """Same auth, money-safe create, polling, lookup by ``external_task_id``, list and download."""

    kind: ClassVar[Literal["t2i", "i2v", "t2v"]] = "t2v"
    path: ClassVar[str] = "/v1/videos/text2video"

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

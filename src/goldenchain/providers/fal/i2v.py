"""Kling image-to-video through the fal queue (providers.md §2.6). Field names differ across versions, so
each endpoint has its own spec. The start frame travels as a data URI. fal has no lookup by our id: a
doubtful submit goes to human review, never to an automatic resubmit."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import httpx

from goldenchain.errors import ProviderFailed
from goldenchain.providers.base import ClipRequest, Failed, Submitted, Succeeded, TaskStatus
from goldenchain.providers.capcheck import check_clip_request
from goldenchain.providers.dataurl import encode_data_url
from goldenchain.providers.fal.adapter import FalQueueAdapter

__all__ = ["FalKlingImageToVideo"]

PROVIDER = "fal-kling"
DEFAULT_MODEL = "fal-ai/kling-video/v1.6/pro/image-to-video"


class FalKlingImageToVideo(FalQueueAdapter):
    """Kling I2V on fal: ``ClipRequest.model`` is the fal endpoint id (``fal-ai/kling-video/v1.6/pro/
    image-to-video`` and the other specs in ``providers/fal/models.py``). Mode is always ``pro``; no camera
    control (fal's I2V endpoints take none)."""

    name: ClassVar[str] = PROVIDER
    kind: ClassVar[Literal["t2i", "i2v"]] = "i2v"

    # -- inputs ---------------------------------------------------------------------------------------------

    def check_inputs(self, request: ClipRequest) -> None:
        check_clip_request(PROVIDER, request)

    def build_body(self, request: ClipRequest) -> dict[str, Any]:
        """The exact input for ``request.model``'s spec (``providers/fal/models.py``), after the checks."""
        spec, _ = check_clip_request(PROVIDER, request)
        body: dict[str, Any] = {
            "prompt": request.prompt,
            spec.wire_get("image_field", "image_url"): encode_data_url(
                request.image, request.image_mime.lower()
            ),
            "duration": str(request.duration),  # fal takes "5" | "10"
        }
        if spec.wire_get("aspect_ratio", False):
            body["aspect_ratio"] = request.aspect
        if request.negative_prompt is not None:
            body["negative_prompt"] = request.negative_prompt
        if "cfg_scale" in spec.params:
            body["cfg_scale"] = request.cfg_scale
        if spec.wire_get("generate_audio", False):
            body["generate_audio"] = False  # silent clips, the price in the spec
        return body

    # -- Provider -------------------------------------------------------------------------------------------

    async def submit(self, request: ClipRequest) -> Submitted:
        return await self._create(request.model, request, duration=request.duration)

    def _result(self, response: httpx.Response, submitted: Submitted) -> TaskStatus:
        rid = submitted.task_id
        if response.status_code >= 400:
            return self._failed_result(response, rid)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise ProviderFailed(self.name, "result is not a JSON object", request_id=rid, retryable=True)
        video = body.get("video")
        url = video.get("url") if isinstance(video, dict) else None
        if not isinstance(url, str) or not url:
            return Failed(ProviderFailed(self.name, "completed without a video url", request_id=rid))
        duration = submitted.handle.get("duration")
        seconds = (
            float(duration) if isinstance(duration, int | float) and not isinstance(duration, bool) else None
        )
        return Succeeded(urls=[url], billed_units=seconds, unit="seconds", raw=body)

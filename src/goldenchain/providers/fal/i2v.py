"""Kling image-to-video through the fal queue (providers.md §2.6). Field names differ across versions, so
each endpoint has its own spec. The start frame travels as a data URI. fal has no lookup by our id: a
doubtful submit goes to human review, never to an automatic resubmit."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import httpx

from goldenchain.errors import AuthError, BillingError, ProviderFailed, RateLimited
from goldenchain.providers.base import ClipRequest, Failed, Submitted, Succeeded, TaskStatus
from goldenchain.providers.capcheck import check_clip_request
from goldenchain.providers.dataurl import encode_data_url
from goldenchain.providers.fal.adapter import FalQueueAdapter
from goldenchain.providers.fal.queue import fal_error

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
        body = self.build_body(request)
        submitted = await self.queue.submit(request.model, body, webhook=request.callback_url)
        handle = dict(submitted.handle)
        handle.update(external_id=request.external_id, duration=request.duration)
        return Submitted(provider=self.name, task_id=submitted.task_id, handle=handle)

    def _result(self, response: httpx.Response, submitted: Submitted) -> TaskStatus:
        rid = submitted.task_id
        if response.status_code >= 400:
            error = fal_error(response, secrets=self.queue.secrets, request_id=rid)
            if isinstance(error, AuthError | BillingError | RateLimited):
                raise error  # about the account or the read, not the task
            if response.status_code >= 500:
                return Failed(ProviderFailed(self.name, error.reason, status_code=response.status_code,
                                             code=error.code, request_id=rid, retryable=True))  # fmt: skip
            return Failed(type(error)(self.name, error.reason, status_code=error.status_code,
                                      code=error.code, request_id=rid))  # fmt: skip
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

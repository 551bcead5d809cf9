"""Kling image-to-video on Replicate (providers.md §3.5): ``kwaivgi/kling-v1.6-pro`` and
``kwaivgi/kling-v2.1``. The start frame travels as a data URL (Replicate recommends data URLs only up to
~256 kB; larger frames still work but slow the create). Output is a single URL string."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, Literal

from goldenchain.providers.base import ClipRequest, Submitted, Succeeded, TaskStatus
from goldenchain.providers.capcheck import check_clip_request
from goldenchain.providers.dataurl import encode_data_url
from goldenchain.providers.replicate.adapter import ReplicateAdapter
from goldenchain.providers.replicate.api import predict_time, prediction_status
from goldenchain.providers.replicate.billing import billed_by

__all__ = ["ReplicateKlingImageToVideo"]

PROVIDER = "replicate-kling"
_MODE = {"std": "standard", "pro": "pro"}


class ReplicateKlingImageToVideo(ReplicateAdapter):
    """Kling I2V on Replicate. ``ClipRequest.model`` is the Replicate model (``kwaivgi/kling-v1.6-pro``,
    ``kwaivgi/kling-v2.1``); no camera control, no motion strength."""

    name: ClassVar[str] = PROVIDER
    kind: ClassVar[Literal["t2i", "i2v"]] = "i2v"

    # -- inputs ---------------------------------------------------------------------------------------------

    def check_inputs(self, request: ClipRequest) -> None:
        check_clip_request(PROVIDER, request)

    def build_body(self, request: ClipRequest) -> dict[str, Any]:
        """The prediction ``input`` for the model's spec (``providers/replicate/models.py``)."""
        spec, _ = check_clip_request(PROVIDER, request)
        body: dict[str, Any] = {
            "prompt": request.prompt,
            "start_image": encode_data_url(request.image, request.image_mime.lower()),
            "duration": request.duration,  # an integer on Replicate
        }
        if spec.wire_get("mode", False):
            body["mode"] = _MODE[request.mode]
        if request.negative_prompt is not None:
            body["negative_prompt"] = request.negative_prompt
        if "cfg_scale" in spec.params:
            body["cfg_scale"] = request.cfg_scale
        if spec.wire_get("aspect_ratio", False):
            body["aspect_ratio"] = request.aspect
        return body

    # -- Provider -------------------------------------------------------------------------------------------

    async def submit(self, request: ClipRequest) -> Submitted:
        return await self._create(request.model, request, duration=request.duration, model=request.model)

    async def poll(self, submitted: Submitted) -> TaskStatus:
        prediction = await self.api.get(submitted.task_id)
        status = prediction_status(self.name, prediction, secrets=self.api.secrets)
        if not isinstance(status, Succeeded):
            return status
        duration = submitted.handle.get("duration")
        seconds = None
        if isinstance(duration, int | float) and not isinstance(duration, bool):
            seconds = float(duration)
        # Replicate bills Kling per output second (a per-compute-second model: metrics.predict_time)
        billed, unit = billed_by(prediction, self.name, submitted, seconds, "seconds")
        return dataclasses.replace(
            status,
            billed_units=billed,
            unit=unit,
            raw={**status.raw, "predict_time": predict_time(prediction)},
        )

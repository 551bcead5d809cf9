"""FLUX stills on Replicate (providers.md §3.5); the models are the specs in ``providers/replicate/models.py``.

Most take an ``aspect_ratio`` from a fixed list, not pixel sizes: ``width:height`` must
be exactly one of those ratios (the output is about one megapixel at that ratio; the image gate checks the
real size). flux-1.1-pro takes ``aspect_ratio: "custom"`` with ``width``/``height`` (multiples of 32,
256..1440; uncertain)."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, Literal

from goldenchain.core.models import ratio_of
from goldenchain.providers.base import StillRequest, Submitted, Succeeded, TaskStatus
from goldenchain.providers.capcheck import check_still_request
from goldenchain.providers.replicate.adapter import ReplicateAdapter
from goldenchain.providers.replicate.api import predict_time, prediction_status
from goldenchain.providers.replicate.billing import billed_by

__all__ = ["ReplicateFluxTextToImage", "aspect_ratio"]

PROVIDER = "replicate"
_FORMAT = {"png": "png", "jpeg": "jpg"}  # Replicate spells JPEG "jpg"
aspect_ratio = ratio_of


class ReplicateFluxTextToImage(ReplicateAdapter):
    """FLUX text-to-image on Replicate. ``submit`` creates a prediction (sent once; see
    :mod:`goldenchain.providers.replicate.api`); ``poll`` reads it."""

    name: ClassVar[str] = PROVIDER
    kind: ClassVar[Literal["t2i", "i2v"]] = "t2i"

    # -- inputs ---------------------------------------------------------------------------------------------

    def check_inputs(self, request: StillRequest) -> None:
        check_still_request(PROVIDER, request)

    def build_body(self, request: StillRequest) -> dict[str, Any]:
        """The prediction ``input`` for the model's spec (``providers/replicate/models.py``)."""
        spec = check_still_request(PROVIDER, request)
        body: dict[str, Any] = {"prompt": request.prompt}
        if spec.sizes == "pixels":
            body.update(aspect_ratio="custom", width=request.width, height=request.height)
        else:
            body["aspect_ratio"] = ratio_of(request.width, request.height)
        body.update(seed=request.seed, output_format=_FORMAT[request.output_format])
        body.update(dict(spec.wire_get("body", ())))
        return body

    # -- Provider -------------------------------------------------------------------------------------------

    async def submit(self, request: StillRequest) -> Submitted:
        return await self._create(request.model, request, seed=request.seed, model=request.model)

    async def poll(self, submitted: Submitted) -> TaskStatus:
        prediction = await self.api.get(submitted.task_id)
        status = prediction_status(self.name, prediction, secrets=self.api.secrets)
        if not isinstance(status, Succeeded):
            return status
        seed = submitted.handle.get("seed")
        billed, unit = billed_by(prediction, self.name, submitted, float(len(status.urls)), "images")
        return dataclasses.replace(
            status,
            billed_units=billed,
            unit=unit,
            seed=seed if isinstance(seed, int) and not isinstance(seed, bool) else None,
            raw={**status.raw, "predict_time": predict_time(prediction)},
        )

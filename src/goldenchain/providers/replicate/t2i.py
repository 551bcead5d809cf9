"""FLUX stills on Replicate (providers.md §3.5): ``black-forest-labs/flux-dev``, ``flux-schnell``,
``flux-1.1-pro``.

flux-dev and flux-schnell take an ``aspect_ratio`` from a fixed list, not pixel sizes: ``width:height`` must
be exactly one of those ratios (the output is about one megapixel at that ratio; the image gate checks the
real size). flux-1.1-pro takes ``aspect_ratio: "custom"`` with ``width``/``height`` (multiples of 32,
256..1440; uncertain)."""

from __future__ import annotations

import dataclasses
from math import gcd
from typing import Any, ClassVar, Literal

from goldenchain.providers.base import CapabilityError, StillRequest, Submitted, Succeeded, TaskStatus
from goldenchain.providers.capcheck import check_still_request
from goldenchain.providers.replicate.adapter import ReplicateAdapter
from goldenchain.providers.replicate.api import predict_time, prediction_status

__all__ = ["REPLICATE_FLUX_MODELS", "ReplicateFluxTextToImage"]

PROVIDER = "replicate"
ASPECT_RATIOS = ("1:1", "16:9", "21:9", "2:3", "3:2", "4:5", "5:4", "9:16", "9:21")
#: per-model extra input; ``None`` marks the model that takes pixel sizes instead of an aspect ratio
REPLICATE_FLUX_MODELS: dict[str, dict[str, Any] | None] = {
    "black-forest-labs/flux-dev": {"num_inference_steps": 28, "guidance": 3.5},
    "black-forest-labs/flux-schnell": {"num_inference_steps": 4},
    "black-forest-labs/flux-1.1-pro": None,
}
_PRO = "black-forest-labs/flux-1.1-pro"
_FORMAT = {"png": "png", "jpeg": "jpg"}  # Replicate spells JPEG "jpg"


def aspect_ratio(width: int, height: int) -> str:
    """``1280x720`` → ``"16:9"``: the exact reduced ratio."""
    d = gcd(width, height)
    return f"{width // d}:{height // d}"


class ReplicateFluxTextToImage(ReplicateAdapter):
    """FLUX text-to-image on Replicate. ``submit`` creates a prediction (sent once; see
    :mod:`goldenchain.providers.replicate.api`); ``poll`` reads it."""

    name: ClassVar[str] = PROVIDER
    kind: ClassVar[Literal["t2i", "i2v"]] = "t2i"

    # -- inputs ---------------------------------------------------------------------------------------------

    def check_inputs(self, request: StillRequest) -> None:
        if request.model == _PRO:
            check_still_request(PROVIDER, request, min_side=256, multiple_of=32)
            return
        check_still_request(PROVIDER, request)
        ratio = aspect_ratio(request.width, request.height)
        if ratio not in ASPECT_RATIOS:
            raise CapabilityError(
                PROVIDER,
                f"{request.width}x{request.height} is {ratio}; {request.model} takes aspect ratios "
                f"{', '.join(ASPECT_RATIOS)}",
            )

    def build_body(self, request: StillRequest) -> dict[str, Any]:
        """The prediction ``input`` (after :meth:`check_inputs`)."""
        self.check_inputs(request)
        body: dict[str, Any] = {"prompt": request.prompt}
        extra = REPLICATE_FLUX_MODELS[request.model]
        if extra is None:
            body.update(aspect_ratio="custom", width=request.width, height=request.height)
        else:
            body.update(aspect_ratio=aspect_ratio(request.width, request.height), num_outputs=1)
        body.update(seed=request.seed, output_format=_FORMAT[request.output_format])
        if extra is None:
            body["safety_tolerance"] = 2
        else:
            body.update(extra)
        return body

    # -- Provider -------------------------------------------------------------------------------------------

    async def submit(self, request: StillRequest) -> Submitted:
        body = self.build_body(request)
        submitted = await self.api.create(request.model, body, webhook=request.callback_url)
        handle = dict(submitted.handle)
        handle.update(external_id=request.external_id, seed=request.seed)
        return Submitted(provider=self.name, task_id=submitted.task_id, handle=handle)

    async def poll(self, submitted: Submitted) -> TaskStatus:
        prediction = await self.api.get(submitted.task_id)
        status = prediction_status(self.name, prediction, secrets=self.api.secrets)
        if not isinstance(status, Succeeded):
            return status
        seed = submitted.handle.get("seed")
        return dataclasses.replace(
            status,
            billed_units=float(len(status.urls)),
            unit="images",
            seed=seed if isinstance(seed, int) and not isinstance(seed, bool) else None,
            raw={**status.raw, "predict_time": predict_time(prediction)},
        )

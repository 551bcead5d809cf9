"""FLUX stills through the fal queue (providers.md §2.5). fal has no lookup by our id: a doubtful submit
goes to human review, never to an automatic resubmit."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, Literal

import httpx

from goldenchain.core.models import ratio_of
from goldenchain.errors import (
    ModerationError,
    ProviderFailed,
)
from goldenchain.providers.base import (
    Failed,
    StillRequest,
    Submitted,
    Succeeded,
    TaskStatus,
)
from goldenchain.providers.capcheck import check_still_request, spec_for
from goldenchain.providers.fal.adapter import FalQueueAdapter

__all__ = ["FalFluxTextToImage"]

PROVIDER = "fal"
DEFAULT_MODEL = "fal-ai/flux/dev"


class FalFluxTextToImage(FalQueueAdapter):
    """FLUX text-to-image on fal; the models and what each takes are the specs in
    :mod:`goldenchain.providers.fal.models` (``fal-ai/flux/dev`` by default)."""

    name: ClassVar[str] = "fal"
    kind: ClassVar[Literal["t2i", "i2v"]] = "t2i"

    # -- inputs ---------------------------------------------------------------------------------------------

    def check_inputs(self, request: StillRequest) -> None:
        check_still_request(PROVIDER, self._with_model(request))

    @staticmethod
    def _with_model(request: StillRequest) -> StillRequest:
        return request if request.model else dataclasses.replace(request, model=DEFAULT_MODEL)

    def build_body(self, request: StillRequest) -> dict[str, Any]:
        """The exact input for the model's spec (``providers/fal/models.py``), after :meth:`check_inputs`."""
        request = self._with_model(request)
        spec = check_still_request(PROVIDER, request)
        body: dict[str, Any] = {"prompt": request.prompt}
        if spec.sizes == "aspect":
            body["aspect_ratio"] = ratio_of(request.width, request.height)
        else:
            body["image_size"] = {"width": request.width, "height": request.height}
        body.update(
            seed=request.seed,
            num_images=1,
            output_format=request.output_format,
            enable_safety_checker=True,
        )
        body.update(dict(spec.wire_get("body", ())))
        return body

    # -- Provider -------------------------------------------------------------------------------------------

    async def submit(self, request: StillRequest) -> Submitted:
        model = request.model or DEFAULT_MODEL
        return await self._create(model, request, width=request.width, height=request.height, model=model)

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
        images = [
            i for i in body.get("images") or [] if isinstance(i, dict) and isinstance(i.get("url"), str)
        ]
        nsfw = body.get("has_nsfw_concepts") or []
        if any(flag is True for flag in nsfw):
            reason = "the safety checker flagged the image (has_nsfw_concepts); it is blacked out"
            return Failed(ModerationError(self.name, reason, request_id=rid))
        if not images:
            return Failed(ProviderFailed(self.name, "completed without images", request_id=rid))
        pixels = 0
        for image in images:
            width = image.get("width") or submitted.handle.get("width") or 0
            height = image.get("height") or submitted.handle.get("height") or 0
            pixels += int(width) * int(height)
        seed = body.get("seed")
        # fal bills what it made: megapixels for FLUX dev/schnell, images for the per-image models
        model = submitted.handle.get("model")
        per_image = spec_for(PROVIDER, model if isinstance(model, str) else DEFAULT_MODEL, "t2i")
        billed: float | None
        if per_image.price.basis == "image":
            billed, unit = float(len(images)), "images"
        else:
            billed, unit = (pixels / 1_000_000 if pixels else None), "megapixels"
        return Succeeded(
            urls=[i["url"] for i in images],
            billed_units=billed,
            unit=unit,
            seed=seed if isinstance(seed, int) and not isinstance(seed, bool) else None,
            raw=body,
        )

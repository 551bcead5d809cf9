"""FLUX stills through the fal queue (providers.md §2.5). fal has no lookup by our id: a doubtful submit
goes to human review, never to an automatic resubmit."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import httpx

from goldenchain.errors import (
    AuthError,
    BillingError,
    ModerationError,
    ProviderFailed,
    RateLimited,
)
from goldenchain.providers.base import (
    CapabilityError,
    Failed,
    StillRequest,
    Submitted,
    Succeeded,
    TaskStatus,
)
from goldenchain.providers.fal.adapter import FalQueueAdapter
from goldenchain.providers.fal.queue import fal_error

__all__ = ["FLUX_MODELS", "FalFluxTextToImage"]

PROVIDER = "fal"
#: per-model extra fields; dev/schnell take steps and guidance, pro v1.1 takes a safety tolerance instead
FLUX_MODELS: dict[str, dict[str, Any]] = {
    "fal-ai/flux/dev": {"num_inference_steps": 28, "guidance_scale": 3.5},
    "fal-ai/flux/schnell": {"num_inference_steps": 4, "guidance_scale": 3.5},
    "fal-ai/flux-pro/v1.1": {"safety_tolerance": "2"},
}
DEFAULT_MODEL = "fal-ai/flux/dev"
MAX_SIDE = 14142  # fal ImageSize schema bound (uncertain)
MIN_SIDE = 64
MAX_SEED = 2**32 - 1


def _fail(reason: str) -> CapabilityError:
    return CapabilityError(PROVIDER, reason)


class FalFluxTextToImage(FalQueueAdapter):
    """FLUX text-to-image on fal: ``fal-ai/flux/dev`` (default), ``fal-ai/flux/schnell``,
    ``fal-ai/flux-pro/v1.1``."""

    name: ClassVar[str] = "fal"
    kind: ClassVar[Literal["t2i", "i2v"]] = "t2i"

    # -- inputs ---------------------------------------------------------------------------------------------

    def check_inputs(self, request: StillRequest) -> None:
        model = request.model or DEFAULT_MODEL
        if model not in FLUX_MODELS:
            raise _fail(f"unknown fal image model {model!r}; known: {', '.join(FLUX_MODELS)}")
        if not request.prompt.strip():
            raise _fail("prompt is empty")
        for side, value in (("width", request.width), ("height", request.height)):
            if isinstance(value, bool) or not isinstance(value, int) or not MIN_SIDE <= value <= MAX_SIDE:
                raise _fail(f"{side} {value!r} must be a whole number of pixels in {MIN_SIDE}..{MAX_SIDE}")
        if (
            isinstance(request.seed, bool)
            or not isinstance(request.seed, int)
            or not 0 <= request.seed <= MAX_SEED
        ):
            raise _fail(f"seed {request.seed!r} must be a whole number in 0..{MAX_SEED}")
        if request.output_format not in ("png", "jpeg"):
            raise _fail(f"output_format {request.output_format!r} must be 'png' or 'jpeg'")
        if not request.external_id:
            raise _fail("external_id is required")

    def build_body(self, request: StillRequest) -> dict[str, Any]:
        self.check_inputs(request)
        body: dict[str, Any] = {
            "prompt": request.prompt,
            "image_size": {"width": request.width, "height": request.height},
            "seed": request.seed,
            "num_images": 1,
            "output_format": request.output_format,
            "enable_safety_checker": True,
        }
        body.update(FLUX_MODELS[request.model or DEFAULT_MODEL])
        return body

    # -- Provider -------------------------------------------------------------------------------------------

    async def submit(self, request: StillRequest) -> Submitted:
        body = self.build_body(request)
        model = request.model or DEFAULT_MODEL
        submitted = await self.queue.submit(model, body, webhook=request.callback_url)
        handle = dict(submitted.handle)
        handle.update(external_id=request.external_id, width=request.width, height=request.height)
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
            return Failed(error)
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
        return Succeeded(
            urls=[i["url"] for i in images],
            billed_units=pixels / 1_000_000 if pixels else None,
            unit="megapixels",
            seed=seed if isinstance(seed, int) and not isinstance(seed, bool) else None,
            raw=body,
        )

"""``local-flux``: FLUX.1 schnell and dev stills from diffusers' ``FluxPipeline`` on a GPU of ours."""

from __future__ import annotations

import io
from typing import Any, ClassVar, Literal

from goldenchain.providers.base import StillRequest
from goldenchain.providers.capcheck import check_still_request, spec_for
from goldenchain.providers.local.adapter import LocalAdapter
from goldenchain.providers.local.pipelines import Setup, render

__all__ = ["LocalFlux"]

ROUTE = "local-flux"


class LocalFlux(LocalAdapter):
    name: ClassVar[str] = ROUTE
    kind: ClassVar[Literal["t2i", "i2v"]] = "t2i"
    family: ClassVar[str] = "flux"

    def check_request(self, request: StillRequest) -> None:
        check_still_request(ROUTE, request)

    def call_args(self, request: StillRequest) -> dict[str, Any]:
        """What the pipeline is called with: the model's body (steps, guidance), the size and the prompt."""
        spec = spec_for(ROUTE, request.model, "t2i")
        return {
            **dict(spec.wire_get("body", ())),
            "prompt": request.prompt,
            "width": request.width,
            "height": request.height,
        }

    def make(self, setup: Setup, request: StillRequest) -> tuple[bytes, str, float, dict[str, Any]]:
        import torch

        args = self.call_args(request)

        def call(pipe: Any) -> Any:
            gen = torch.Generator("cpu").manual_seed(request.seed)
            return pipe(**args, generator=gen, num_images_per_prompt=1).images[0]

        image, seconds, info = render(setup, call)
        buf = io.BytesIO()
        fmt = "JPEG" if request.output_format == "jpeg" else "PNG"
        image.convert("RGB").save(buf, format=fmt, **({"quality": 95} if fmt == "JPEG" else {}))
        return buf.getvalue(), ".jpg" if fmt == "JPEG" else ".png", seconds, {**info, "seed": request.seed}

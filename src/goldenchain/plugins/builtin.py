"""The built-in providers and gates, registered like any third-party plugin."""

from __future__ import annotations

from typing import Any

from goldenchain.plugins.hookspecs import hookimpl


@hookimpl
def register_providers(register: Any) -> None:
    from goldenchain.providers.fal.t2i import FalFluxTextToImage
    from goldenchain.providers.kling.i2v import KlingImageToVideo

    def fal_factory(settings: Any, client: Any = None) -> FalFluxTextToImage:
        return FalFluxTextToImage(
            settings.require("FAL_KEY", "fal stills"), queue_url=settings.get("FAL_QUEUE_URL"), client=client
        )

    def kling_factory(settings: Any, client: Any = None) -> KlingImageToVideo:
        return KlingImageToVideo(
            settings.require("KLING_ACCESS_KEY", "Kling video"),
            settings.require("KLING_SECRET_KEY", "Kling video"),
            base_url=settings.get("KLING_BASE_URL"),
            client=client,
        )

    register(
        "fal", "t2i", fal_factory, models=["fal-ai/flux/dev", "fal-ai/flux/schnell", "fal-ai/flux-pro/v1.1"]
    )
    register("kling", "i2v", kling_factory, models=["kling-v1", "kling-v1-5", "kling-v1-6", "kling-v2-1"])


@hookimpl
def register_gates(register: Any) -> None:
    from goldenchain.gates.clip import check_clip
    from goldenchain.gates.image import check_image

    register("image-gate", "image", check_image)
    register("clip-check", "clip", check_clip)

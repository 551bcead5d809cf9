"""The built-in providers and gates, registered like any third-party plugin."""

from __future__ import annotations

from typing import Any

from goldenchain.plugins.hookspecs import hookimpl


@hookimpl
def register_providers(register: Any) -> None:
    from goldenchain.providers.fal.t2i import FalFluxTextToImage
    from goldenchain.providers.kling.i2v import KLING_GLOBAL_URL, KlingImageToVideo
    from goldenchain.providers.kling.t2v import T2V_MODELS, KlingTextToVideo

    def fal_factory(settings: Any, client: Any = None) -> FalFluxTextToImage:
        return FalFluxTextToImage(
            settings.require("FAL_KEY", "fal stills"),
            queue_url=settings.get("FAL_QUEUE_URL") or "https://queue.fal.run",
            client=client,
        )

    def kling_factory(settings: Any, client: Any = None) -> KlingImageToVideo:
        return KlingImageToVideo(
            settings.require("KLING_ACCESS_KEY", "Kling video"),
            settings.require("KLING_SECRET_KEY", "Kling video"),
            base_url=settings.get("KLING_BASE_URL") or KLING_GLOBAL_URL,
            client=client,
        )

    register(
        "fal", "t2i", fal_factory, models=["fal-ai/flux/dev", "fal-ai/flux/schnell", "fal-ai/flux-pro/v1.1"]
    )
    register("kling", "i2v", kling_factory, models=["kling-v1", "kling-v1-5", "kling-v1-6", "kling-v2-1"])

    def kling_t2v_factory(settings: Any, client: Any = None) -> KlingTextToVideo:
        return KlingTextToVideo(
            settings.require("KLING_ACCESS_KEY", "Kling video"),
            settings.require("KLING_SECRET_KEY", "Kling video"),
            base_url=settings.get("KLING_BASE_URL") or KLING_GLOBAL_URL,
            client=client,
        )

    register("kling", "t2v", kling_t2v_factory, models=sorted(T2V_MODELS))
    _register_more(register)


def _register_more(register: Any) -> None:
    """fal-Kling, Replicate and Together. Base URLs fall back to the providers' public hosts."""
    from goldenchain.providers.fal.i2v import FAL_KLING_ENDPOINTS, FalKlingImageToVideo
    from goldenchain.providers.replicate import (
        REPLICATE_FLUX_MODELS,
        REPLICATE_KLING_MODELS,
        REPLICATE_URL,
        ReplicateFluxTextToImage,
        ReplicateKlingImageToVideo,
    )
    from goldenchain.providers.together import TOGETHER_FLUX_MODELS, TOGETHER_URL, TogetherFluxTextToImage

    def fal_kling_factory(settings: Any, client: Any = None) -> FalKlingImageToVideo:
        return FalKlingImageToVideo(
            settings.require("FAL_KEY", "Kling video on fal"),
            queue_url=settings.get("FAL_QUEUE_URL") or "https://queue.fal.run",
            client=client,
        )

    def replicate_factory(settings: Any, client: Any = None) -> ReplicateFluxTextToImage:
        return ReplicateFluxTextToImage(
            settings.require("REPLICATE_API_TOKEN", "Replicate stills"),
            base_url=settings.get("REPLICATE_BASE_URL") or REPLICATE_URL,
            client=client,
        )

    def replicate_kling_factory(settings: Any, client: Any = None) -> ReplicateKlingImageToVideo:
        return ReplicateKlingImageToVideo(
            settings.require("REPLICATE_API_TOKEN", "Kling video on Replicate"),
            base_url=settings.get("REPLICATE_BASE_URL") or REPLICATE_URL,
            client=client,
        )

    def together_factory(settings: Any, client: Any = None) -> TogetherFluxTextToImage:
        return TogetherFluxTextToImage(
            settings.require("TOGETHER_API_KEY", "Together stills"),
            base_url=settings.get("TOGETHER_BASE_URL") or TOGETHER_URL,
            client=client,
        )

    register("fal-kling", "i2v", fal_kling_factory, models=list(FAL_KLING_ENDPOINTS))
    register("replicate", "t2i", replicate_factory, models=list(REPLICATE_FLUX_MODELS))
    register("replicate-kling", "i2v", replicate_kling_factory, models=list(REPLICATE_KLING_MODELS))
    register("together", "t2i", together_factory, models=list(TOGETHER_FLUX_MODELS))


@hookimpl
def register_gates(register: Any) -> None:
    from goldenchain.gates.clip import check_clip
    from goldenchain.gates.image import check_image

    register("image-gate", "image", check_image)
    register("clip-check", "clip", check_clip)

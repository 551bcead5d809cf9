"""The built-in providers and gates, registered like any third-party plugin: each provider route with its
factory and its models' specs (``providers/<family>/models.py``)."""

from __future__ import annotations

from typing import Any

from goldenchain.plugins.hookspecs import hookimpl


@hookimpl
def register_providers(register: Any) -> None:
    from goldenchain.providers.fal import models as fal_models
    from goldenchain.providers.fal.t2i import FalFluxTextToImage
    from goldenchain.providers.kling import models as kling_models
    from goldenchain.providers.kling.i2v import KLING_GLOBAL_URL, KlingImageToVideo
    from goldenchain.providers.kling.t2v import KlingTextToVideo

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

    register("fal", "t2i", fal_factory, models=list(fal_models.FLUX_SPECS))
    register("kling", "i2v", kling_factory, models=list(kling_models.I2V_SPECS))

    def kling_t2v_factory(settings: Any, client: Any = None) -> KlingTextToVideo:
        return KlingTextToVideo(
            settings.require("KLING_ACCESS_KEY", "Kling video"),
            settings.require("KLING_SECRET_KEY", "Kling video"),
            base_url=settings.get("KLING_BASE_URL") or KLING_GLOBAL_URL,
            client=client,
        )

    register("kling", "t2v", kling_t2v_factory, models=list(kling_models.T2V_SPECS))
    _register_more(register)


def _register_more(register: Any) -> None:
    """fal-Kling, Replicate and Together. Base URLs fall back to the providers' public hosts."""
    from goldenchain.providers.fal import models as fal_models
    from goldenchain.providers.fal.i2v import FalKlingImageToVideo
    from goldenchain.providers.replicate import (
        REPLICATE_URL,
        ReplicateFluxTextToImage,
        ReplicateKlingImageToVideo,
    )
    from goldenchain.providers.replicate import models as replicate_models
    from goldenchain.providers.together import TOGETHER_URL, TogetherFluxTextToImage
    from goldenchain.providers.together import models as together_models

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

    register("fal-kling", "i2v", fal_kling_factory, models=list(fal_models.KLING_SPECS))
    register("replicate", "t2i", replicate_factory, models=list(replicate_models.FLUX_SPECS))
    register("replicate-kling", "i2v", replicate_kling_factory, models=list(replicate_models.KLING_SPECS))
    register("together", "t2i", together_factory, models=list(together_models.SPECS))
    _register_local(register)


def _register_local(register: Any) -> None:
    """FLUX and SVD on a GPU of ours (the ``local`` extra; nothing here imports torch or diffusers)."""
    from goldenchain.providers.local import LocalFlux, LocalSvd
    from goldenchain.providers.local import models as local_models

    def flux_factory(settings: Any, client: Any = None) -> LocalFlux:
        return LocalFlux(settings)

    def svd_factory(settings: Any, client: Any = None) -> LocalSvd:
        return LocalSvd(settings)

    register("local-flux", "t2i", flux_factory, models=list(local_models.FLUX_SPECS), queue="gpu")
    register("local-svd", "i2v", svd_factory, models=list(local_models.SVD_SPECS), queue="gpu")


@hookimpl
def register_gates(register: Any) -> None:
    from goldenchain.gates.clip import check_clip
    from goldenchain.gates.image import check_image

    register("image-gate", "image", check_image)
    register("clip-check", "clip", check_clip)

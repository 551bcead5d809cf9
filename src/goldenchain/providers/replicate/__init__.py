"""Replicate predictions adapters: FLUX stills and Kling image-to-video."""

from goldenchain.providers.replicate.api import (
    REPLICATE_URL,
    ReplicateAPI,
    prediction_status,
    replicate_error,
)
from goldenchain.providers.replicate.i2v import REPLICATE_KLING_MODELS, ReplicateKlingImageToVideo
from goldenchain.providers.replicate.t2i import REPLICATE_FLUX_MODELS, ReplicateFluxTextToImage

__all__ = [
    "REPLICATE_FLUX_MODELS",
    "REPLICATE_KLING_MODELS",
    "REPLICATE_URL",
    "ReplicateAPI",
    "ReplicateFluxTextToImage",
    "ReplicateKlingImageToVideo",
    "prediction_status",
    "replicate_error",
]

"""Replicate predictions adapters: FLUX stills and Kling image-to-video."""

from goldenchain.providers.replicate.api import (
    REPLICATE_URL,
    ReplicateAPI,
    prediction_status,
    replicate_error,
)
from goldenchain.providers.replicate.i2v import ReplicateKlingImageToVideo
from goldenchain.providers.replicate.t2i import ReplicateFluxTextToImage

__all__ = [
    "REPLICATE_URL",
    "ReplicateAPI",
    "ReplicateFluxTextToImage",
    "ReplicateKlingImageToVideo",
    "prediction_status",
    "replicate_error",
]

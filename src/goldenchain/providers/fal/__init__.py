"""fal.ai queue adapters."""

from goldenchain.providers.fal.i2v import FAL_KLING_ENDPOINTS, FalKlingEndpoint, FalKlingImageToVideo
from goldenchain.providers.fal.queue import FalQueue, fal_error, queue_urls, split_endpoint
from goldenchain.providers.fal.t2i import FLUX_MODELS, FalFluxTextToImage

__all__ = [
    "FAL_KLING_ENDPOINTS",
    "FLUX_MODELS",
    "FalFluxTextToImage",
    "FalKlingEndpoint",
    "FalKlingImageToVideo",
    "FalQueue",
    "fal_error",
    "queue_urls",
    "split_endpoint",
]

"""fal.ai queue adapters; their models are the specs in :mod:`goldenchain.providers.fal.models`."""

from goldenchain.providers.fal.i2v import FalKlingImageToVideo
from goldenchain.providers.fal.queue import FalQueue, fal_error, queue_urls, split_endpoint
from goldenchain.providers.fal.t2i import FalFluxTextToImage

__all__ = [
    "FalFluxTextToImage",
    "FalKlingImageToVideo",
    "FalQueue",
    "fal_error",
    "queue_urls",
    "split_endpoint",
]

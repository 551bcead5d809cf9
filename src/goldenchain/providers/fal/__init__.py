"""fal.ai queue adapters."""

from goldenchain.providers.fal.queue import FalQueue, fal_error, queue_urls, split_endpoint
from goldenchain.providers.fal.t2i import FLUX_MODELS, FalFluxTextToImage

__all__ = ["FLUX_MODELS", "FalFluxTextToImage", "FalQueue", "fal_error", "queue_urls", "split_endpoint"]

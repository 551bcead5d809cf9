"""Together AI images adapter (synchronous FLUX)."""

from goldenchain.providers.together.t2i import (
    TOGETHER_FLUX_MODELS,
    TOGETHER_URL,
    TogetherFluxTextToImage,
    together_error,
)

__all__ = ["TOGETHER_FLUX_MODELS", "TOGETHER_URL", "TogetherFluxTextToImage", "together_error"]

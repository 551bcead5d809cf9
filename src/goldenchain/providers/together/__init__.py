"""Together AI images adapter (synchronous FLUX)."""

from goldenchain.providers.together.t2i import (
    TOGETHER_URL,
    TogetherFluxTextToImage,
    together_error,
)

__all__ = ["TOGETHER_URL", "TogetherFluxTextToImage", "together_error"]

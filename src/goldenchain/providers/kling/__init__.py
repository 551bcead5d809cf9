"""Kling AI official API adapters."""

from goldenchain.providers.kling.auth import KlingAuth
from goldenchain.providers.kling.i2v import (
    KLING_CHINA_URL,
    KLING_GLOBAL_URL,
    KLING_LEGACY_GLOBAL_URL,
    KlingImageToVideo,
)

__all__ = ["KLING_CHINA_URL", "KLING_GLOBAL_URL", "KLING_LEGACY_GLOBAL_URL", "KlingAuth", "KlingImageToVideo"]

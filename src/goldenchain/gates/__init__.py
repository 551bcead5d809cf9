"""Quality gates: the still gate (:func:`check_image`) and the clip check (:func:`check_clip`)."""

from __future__ import annotations

from goldenchain.gates.clip import CLIP_CHECKS, check_clip
from goldenchain.gates.decode import ClipLoadError
from goldenchain.gates.image import IMAGE_CHECKS, check_image, image_phash
from goldenchain.gates.loading import ImageLoadError
from goldenchain.gates.profiles import DEFAULT_PROFILE, PROFILES

__all__ = [
    "CLIP_CHECKS",
    "DEFAULT_PROFILE",
    "IMAGE_CHECKS",
    "PROFILES",
    "ClipLoadError",
    "ImageLoadError",
    "check_clip",
    "check_image",
    "image_phash",
]

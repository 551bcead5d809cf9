"""Synthetic stills and clips for the gate tests (everything is built in code)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


def natural_rgb(width: int = 1024, height: int = 1024, seed: int = 0) -> np.ndarray:
    """A photo-like texture: 1/f (pink) noise per channel with a soft tint, 8-bit RGB."""
    rng = np.random.default_rng(seed)
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.rfftfreq(width)[None, :]
    r = np.sqrt(fx * fx + fy * fy)
    r[0, 0] = 1.0
    out = np.empty((height, width, 3), dtype=np.float64)
    base = rng.standard_normal((height, width // 2 + 1)) + 1j * rng.standard_normal((height, width // 2 + 1))
    for c in range(3):
        jitter = rng.standard_normal(base.shape) + 1j * rng.standard_normal(base.shape)
        spec = (base + 0.3 * jitter) / r
        spec[0, 0] = 0
        img = np.fft.irfft2(spec, s=(height, width))
        img = (img - img.mean()) / img.std()
        out[..., c] = 125 + 38 * img + (c - 1) * 6
    return np.clip(out, 0, 255).astype(np.uint8)


@pytest.fixture
def save(tmp_path: Path) -> Callable[..., Path]:
    """save(array_or_image, name, **pil_save_kwargs) -> path."""

    def _save(img: np.ndarray | Image.Image, name: str, **kw: object) -> Path:
        p = tmp_path / name
        im = Image.fromarray(img) if isinstance(img, np.ndarray) else img
        im.save(p, **kw)
        return p

    return _save


@pytest.fixture(scope="session")
def good_rgb() -> np.ndarray:
    return natural_rgb()


@pytest.fixture(scope="session")
def natural() -> Callable[..., np.ndarray]:
    """natural(width=1024, height=1024, seed=0) -> photo-like 8-bit RGB."""
    return natural_rgb

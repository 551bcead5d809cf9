"""Read a still safely into normalised 8-bit RGB and the luma planes the checks work on."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

MAX_PIXELS = 80_000_000  # refuse larger images outright (decompression-bomb guard)
WORK_SIDE = 1024  # blur / texture checks run on an integer reduction to about this short side
SMALL_SIDE = 512  # exposure, subject and lighting checks run on about this long side


class ImageLoadError(Exception):
    """The file could not be read as an image; the message is meant for a producer."""


@dataclass
class Still:
    """A decoded still in the forms the checks need (all arrays are computed lazily and cached)."""

    path: Path
    rgb: np.ndarray  # H x W x 3 uint8, EXIF-rotated, alpha composited on white
    file_bytes: int
    format: str
    mode: str

    @property
    def width(self) -> int:
        return int(self.rgb.shape[1])

    @property
    def height(self) -> int:
        return int(self.rgb.shape[0])

    @cached_property
    def rgb_f32(self) -> np.ndarray:
        """``rgb`` as float32 (shared by the luma and the reduced RGB; do not modify)."""
        return self.rgb.astype(np.float32)

    @cached_property
    def luma(self) -> np.ndarray:
        """Full-resolution BT.601 luma, float32 in 0..255."""
        rgb = self.rgb_f32
        return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114

    @cached_property
    def work_luma(self) -> np.ndarray:
        """Luma reduced by an integer box factor so its short side is about WORK_SIDE."""
        return box_reduce(self.luma, max(1, min(self.width, self.height) // WORK_SIDE))

    @cached_property
    def small_rgb(self) -> np.ndarray:
        """RGB reduced so its long side is at most about SMALL_SIDE (float32, 0..255)."""
        factor = max(1, -(-max(self.width, self.height) // SMALL_SIDE))
        return box_reduce(self.rgb_f32, factor)

    @cached_property
    def small_luma(self) -> np.ndarray:
        s = self.small_rgb
        return s[..., 0] * 0.299 + s[..., 1] * 0.587 + s[..., 2] * 0.114


def box_reduce(a: np.ndarray, f: int) -> np.ndarray:
    """Mean over f x f blocks (crops the remainder), float32; f == 1 returns ``a`` unchanged."""
    if f <= 1:
        return a
    h, w = (a.shape[0] // f) * f, (a.shape[1] // f) * f
    a = a[:h, :w]
    if a.ndim == 2 or (a.ndim == 3 and a.shape[2] <= 4):
        import cv2

        # OpenCV's area filter at an integer factor is the block mean, several times faster than numpy's
        src = np.ascontiguousarray(a, dtype=np.float32)
        return np.asarray(cv2.resize(src, (w // f, h // f), interpolation=cv2.INTER_AREA), dtype=np.float32)
    shape = (h // f, f, w // f, f, *a.shape[2:])
    return a.reshape(shape).mean(axis=(1, 3), dtype=np.float32)


def load_still(path: str | Path) -> Still:
    """Decode ``path`` fully; raise :class:`ImageLoadError` with a clear reason on any problem."""
    p = Path(path)
    try:
        size = os.stat(p).st_size
    except OSError as exc:
        raise ImageLoadError(f"cannot read file: {exc.strerror or exc}") from None
    if size == 0:
        raise ImageLoadError("file is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(p) as im:
                w, h = im.size
                if w * h > MAX_PIXELS:
                    raise ImageLoadError(
                        f"image claims {w}x{h} = {w * h / 1e6:.0f} Mpx, above the {MAX_PIXELS / 1e6:.0f} Mpx "
                        "limit (possible decompression bomb); not decoded"
                    )
                fmt = im.format or "unknown"
                mode = im.mode
                im.load()
                ImageOps.exif_transpose(im, in_place=True)  # no copy of the picture when it is upright
                rgb = _to_rgb(im)
    except ImageLoadError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageLoadError(f"refused as a possible decompression bomb: {exc}") from None
    except Image.UnidentifiedImageError:
        raise ImageLoadError("not an image file (format not recognised)") from None
    except (OSError, SyntaxError, ValueError, EOFError, MemoryError) as exc:
        msg = str(exc) or type(exc).__name__
        if "truncated" in msg.lower():
            msg = "image file is truncated (incomplete download?)"
        raise ImageLoadError(f"cannot decode image: {msg}") from None
    if rgb.shape[0] < 1 or rgb.shape[1] < 1:
        raise ImageLoadError("image has no pixels")
    return Still(path=p, rgb=rgb, file_bytes=size, format=fmt, mode=mode)


def _to_rgb(im: Image.Image) -> np.ndarray:
    """Any Pillow mode -> H x W x 3 uint8 RGB (16-bit scaled, alpha composited on white)."""
    mode = im.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        a = np.asarray(im, dtype=np.float64)
        if mode == "F" and a.size and float(np.nanmax(a)) <= 1.0:
            a = a * 255.0
        elif mode != "F" and (mode.startswith("I;16") or (a.size and float(a.max()) > 255)):
            a = a / 257.0
        g = np.clip(np.nan_to_num(a), 0, 255).round().astype(np.uint8)
        return np.repeat(g[..., None], 3, axis=2)
    if mode == "P":
        im = im.convert("RGBA") if "transparency" in im.info else im.convert("RGB")
    elif mode == "PA":
        im = im.convert("RGBA")
    if im.mode in ("RGBA", "LA", "RGBa", "La"):
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        im = Image.alpha_composite(white, rgba)
    if im.mode != "RGB":
        im = im.convert("RGB")
    return np.asarray(im, dtype=np.uint8)

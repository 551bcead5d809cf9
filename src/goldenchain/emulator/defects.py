"""The defects the failure rules cause, rendered into real pixels (numpy, OpenCV, Pillow).

Clip defects post-process each frame of a clip after the camera move: ``melt`` (a background region swirls
and sags, growing from about one second on), ``swirl`` (the picture twists about its centre beyond the
camera's roll), ``drift`` (the second half bulges and slides: coherence lost in a long clip), ``flicker``
(the light pumps for a frame or two at a time). The still defect ``clutter`` turns a prompt's scene into a
posterised pile of flat shapes in a handful of tones. None of them is tuned to a check: each is a plain
picture of the fault, and the product's checks are what must find it.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
from PIL import Image, ImageDraw

__all__ = ["CLIP_DEFECTS", "clip_defect", "render_clutter"]

CLIP_DEFECTS = ("melt", "swirl", "drift", "flicker")
Post = Callable[[int, np.ndarray], np.ndarray]


def _growth(i: int, n: int, fps: int, onset: float) -> float:
    """0 before ``onset`` seconds, then rising smoothly to 1 at the last frame."""
    t, end = i / fps, (n - 1) / fps
    if t <= onset or end <= onset:
        return 0.0
    x = (t - onset) / (end - onset)
    return float(x * x * (3 - 2 * x))


def _field(
    w: int, h: int, cx: float, cy: float, sigma: float, swirl: float, sag: float, bulge: float
) -> tuple[np.ndarray, np.ndarray]:
    """A smooth displacement field (dx, dy) in pixels at full strength: a Gaussian-weighted mix of a swirl
    about (cx, cy), a downward sag and a radial bulge; the largest displacement is about ``sigma`` times the
    weights (swirl and bulge are angles / strains, sag a share of sigma)."""
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    rx, ry = xs - np.float32(cx), ys - np.float32(cy)
    g = np.exp(-(rx * rx + ry * ry) / np.float32(2 * sigma * sigma))
    dx = g * (np.float32(-swirl) * ry + np.float32(bulge) * rx)
    dy = g * (np.float32(swirl) * rx + np.float32(bulge) * ry + np.float32(sag * sigma))
    return dx, dy


def clip_defect(defect: str, n: int, w: int, h: int, fps: int, variant: int) -> Post:
    """A per-frame post-process ``(frame index, RGB uint8 frame) -> frame`` that renders ``defect``."""
    rng = np.random.default_rng(variant & 0xFFFFFFFFFFFFFFFF)
    if defect == "flicker":
        # the light sources pump: 1-2 frame surges or dips, one every 0.6-1.2 s
        gains = np.ones(n, np.float32)
        i = int(rng.integers(fps // 3, fps))
        while i < n - 2:
            k = int(rng.integers(1, 3))
            gains[i : i + k] = rng.choice([1.16, 1.22, 0.84, 0.8])
            i += k + int(rng.integers(int(0.6 * fps), int(1.2 * fps)))

        def flick(idx: int, rgb: np.ndarray) -> np.ndarray:
            g = gains[idx]
            if g == 1.0:
                return rgb
            lifted = rgb.astype(np.float32) * g + (5.0 if g > 1 else -3.0)
            return np.clip(lifted, 0, 255).astype(np.uint8)

        return flick
    if defect not in CLIP_DEFECTS:
        raise ValueError(f"unknown clip defect {defect!r}")
    side = float(rng.choice([0.25, 0.75]))
    if defect == "melt":  # a background region beside the subject swirls and sags
        cx, cy, sigma = side * w, float(rng.uniform(0.3, 0.45)) * h, 0.26 * h
        dx, dy = _field(w, h, cx, cy, sigma, swirl=0.09, sag=0.07, bulge=0.0)
        onset = float(rng.uniform(0.6, 1.2))
    elif defect == "swirl":  # the whole picture twists about a point near the centre
        cx, cy, sigma = (0.5 + rng.uniform(-0.1, 0.1)) * w, (0.5 + rng.uniform(-0.1, 0.1)) * h, 0.38 * h
        dx, dy = _field(w, h, cx, cy, sigma, swirl=0.06, sag=0.0, bulge=0.0)
        onset = float(rng.uniform(0.5, 1.0))
    else:  # drift: the second half bulges and slides sideways
        cx, cy, sigma = side * w, float(rng.uniform(0.35, 0.6)) * h, 0.3 * h
        dx, dy = _field(w, h, cx, cy, sigma, swirl=0.03, sag=0.0, bulge=0.07)
        onset = 0.45 * (n - 1) / fps
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)

    def warp(idx: int, rgb: np.ndarray) -> np.ndarray:
        a = _growth(idx, n, fps, onset)
        if a <= 0.0:
            return rgb
        mx, my = xs - np.float32(a) * dx, ys - np.float32(a) * dy
        return np.asarray(cv2.remap(rgb, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT))

    return warp


def render_clutter(width: int, height: int, seed: int, palette: np.ndarray) -> Image.Image:
    """The "trending on ArtStation" failure: the frame piled with overlapping flat shapes, posterised to a
    handful of tones (an illustration's cel look, not a photo). ``palette``: RGB rows in 0..1."""
    rng = np.random.default_rng(seed)
    tones = np.clip(palette, 0.0, 1.0)
    levels = np.linspace(0.15, 0.95, 4)[:, None] * (0.4 + 0.6 * tones[rng.integers(0, len(tones), 4)])
    colours = [tuple(int(v * 255) for v in c) for c in levels]
    img = Image.new("RGB", (width, height), colours[0])
    draw = ImageDraw.Draw(img)
    scale = min(width, height)
    for _ in range(int(rng.integers(160, 260))):
        x, y = float(rng.uniform(-0.05, 1.05)) * width, float(rng.uniform(-0.05, 1.05)) * height
        r = float(rng.uniform(0.01, 0.12)) * scale
        colour = colours[int(rng.integers(0, len(colours)))]
        shape = int(rng.integers(0, 3))
        if shape == 0:
            draw.ellipse((x - r, y - r * 0.7, x + r, y + r * 0.7), fill=colour)
        elif shape == 1:
            draw.rectangle((x - r, y - r * 0.4, x + r * 0.6, y + r), fill=colour)
        else:
            pts = [(x + r * np.cos(a), y + r * np.sin(a)) for a in rng.uniform(0, 2 * np.pi, 3)]
            draw.polygon(pts, fill=colour)
    return img

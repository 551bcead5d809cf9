"""Procedural media for the emulator: photoreal-ish stills and H.264 clips, numpy + Pillow + PyAV only.

Stills are deterministic from ``(prompt, seed)``: a dithered sky gradient with clouds, a sun, layered hills
with atmospheric perspective, a textured, key-lit central subject with a cast shadow, and film grain. The
background is soft and the subject is sharp, so a sharpness map finds the subject in the middle of the frame.
Clips animate a submitted image with a camera move (a crop window that slides, scales or rotates), so frame 0
is the image itself; defects (a freeze, black frames) can be injected for fault scenarios.
"""

from __future__ import annotations

import hashlib
import io
import math

import numpy as np
from PIL import Image, ImageFilter

from .clip import clip_size, render_clip
from .defects import render_clutter

__all__ = [
    "clip_size",
    "encode_image",
    "render_bad_still",
    "render_clip",
    "render_still",
]

_F32 = np.float32

# Keyword → (sky top, sky horizon, ground near, ground far, subject base) in linear-ish 0..1 RGB.
_PALETTES: dict[str, tuple[tuple[float, float, float], ...]] = {
    "day": (
        (0.18, 0.36, 0.72),
        (0.70, 0.80, 0.90),
        (0.22, 0.34, 0.12),
        (0.42, 0.52, 0.58),
        (0.55, 0.38, 0.26),
    ),
    "golden": (
        (0.25, 0.30, 0.55),
        (0.98, 0.72, 0.42),
        (0.30, 0.26, 0.12),
        (0.62, 0.48, 0.42),
        (0.62, 0.40, 0.24),
    ),
    "overcast": (
        (0.50, 0.54, 0.60),
        (0.78, 0.80, 0.82),
        (0.26, 0.32, 0.20),
        (0.55, 0.58, 0.60),
        (0.50, 0.44, 0.40),
    ),
    "dusk": (
        (0.12, 0.14, 0.34),
        (0.85, 0.50, 0.44),
        (0.18, 0.20, 0.16),
        (0.44, 0.36, 0.46),
        (0.52, 0.36, 0.32),
    ),
    "desert": (
        (0.26, 0.46, 0.78),
        (0.86, 0.84, 0.78),
        (0.62, 0.46, 0.28),
        (0.74, 0.62, 0.50),
        (0.40, 0.30, 0.24),
    ),
    "snow": (
        (0.30, 0.46, 0.74),
        (0.80, 0.86, 0.92),
        (0.78, 0.80, 0.84),
        (0.60, 0.66, 0.76),
        (0.34, 0.28, 0.26),
    ),
}
_KEYWORDS: dict[str, str] = {
    "sunset": "golden", "golden": "golden", "sunrise": "golden", "warm": "golden",
    "overcast": "overcast", "cloudy": "overcast", "neutral": "overcast", "fog": "overcast", "mist": "overcast",
    "dusk": "dusk", "twilight": "dusk", "evening": "dusk", "night": "dusk",
    "desert": "desert", "sand": "desert", "dune": "desert",
    "snow": "snow", "winter": "snow", "ice": "snow", "arctic": "snow",
}  # fmt: skip


def _rng(prompt: str, seed: int, salt: str = "") -> np.random.Generator:
    digest = hashlib.sha256(f"{prompt}\x00{seed}\x00{salt}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:16], "big"))


def _palette(prompt: str, rng: np.random.Generator) -> np.ndarray:
    words = [w.strip(".,;:!?\"'()").lower() for w in prompt.split()]
    name = next((_KEYWORDS[w] for w in words if w in _KEYWORDS), None)
    if name is None:
        name = ("day", "golden", "overcast", "desert")[int(rng.integers(0, 4))]
    pal = np.array(_PALETTES[name], dtype=_F32)
    pal *= (1.0 + rng.uniform(-0.06, 0.06, size=(pal.shape[0], 3))).astype(_F32)  # per-take colour jitter
    return np.clip(pal, 0.0, 1.0)


def _smooth_noise(rng: np.random.Generator, h: int, w: int, cells_y: int, cells_x: int) -> np.ndarray:
    """Value noise: a small random grid upsampled bicubically to (h, w); roughly zero-mean, unit-ish range."""
    grid = rng.random((max(2, cells_y), max(2, cells_x)), dtype=_F32) - 0.5
    return np.asarray(Image.fromarray(grid, mode="F").resize((w, h), Image.Resampling.BICUBIC), dtype=_F32)


def _fbm(rng: np.random.Generator, h: int, w: int, base: int, octaves: int) -> np.ndarray:
    out = np.zeros((h, w), dtype=_F32)
    amp, cells, total = 1.0, base, 0.0
    aspect = w / h
    for _ in range(octaves):
        out += _F32(amp) * _smooth_noise(rng, h, w, cells, int(cells * aspect))
        total += amp
        amp *= 0.5
        cells *= 2
    return out / _F32(total)


def _ridge(rng: np.random.Generator, w: int, base: float, amp: float, h: int) -> np.ndarray:
    """A hill silhouette: y (pixels) of the ridge for each column."""
    x = np.linspace(0.0, 1.0, w, dtype=_F32)
    y = np.full(w, base, dtype=_F32)
    for k in range(1, 6):
        freq = rng.uniform(0.6, 1.6) * k * 1.3
        y += _F32(amp / k) * np.sin(_F32(2 * math.pi * freq) * x + _F32(rng.uniform(0, 2 * math.pi)))
    return y * _F32(h)


def render_still(prompt: str, seed: int, width: int, height: int, defect: str | None = None) -> Image.Image:
    """A plausible good still (RGB), deterministic from ``(prompt, seed)``; normal exposure, sharp subject.
    ``defect="clutter"``: the failure rules' cluttered, posterised still of the same prompt."""
    if width < 16 or height < 16:
        raise ValueError("still too small")
    rng = _rng(prompt, seed)
    if defect == "clutter":
        return render_clutter(width, height, seed, _palette(prompt, rng))
    if defect is not None:
        raise ValueError(f"unknown still defect {defect!r}")
    h, w = height, width
    pal = _palette(prompt, rng)
    sky_top, sky_hor, ground_near, ground_far, subj_col = (pal[i] for i in range(5))

    ys = (np.arange(h, dtype=_F32) / _F32(h))[:, None]
    xs = (np.arange(w, dtype=_F32) / _F32(w))[None, :]
    horizon = float(rng.uniform(0.50, 0.62))

    # Sky: vertical gradient, sun glow, soft clouds.
    t = np.clip(ys / _F32(horizon), 0.0, 1.0) ** _F32(0.8)
    img = sky_top[None, None, :] * (1 - t)[..., None] + sky_hor[None, None, :] * t[..., None]
    img = np.broadcast_to(img, (h, w, 3)).copy()
    sun_x = float(rng.choice([rng.uniform(0.12, 0.32), rng.uniform(0.68, 0.88)]))
    sun_y = float(rng.uniform(0.10, horizon * 0.7))
    d2 = ((xs - _F32(sun_x)) * _F32(w / h)) ** 2 + (ys - _F32(sun_y)) ** 2
    glow = np.exp(-d2 / _F32(0.02)) * _F32(0.35) + np.exp(-d2 / _F32(0.0006)) * _F32(0.45)
    img += glow[..., None] * np.array([1.0, 0.93, 0.78], dtype=_F32)
    clouds = np.clip(_fbm(rng, h, w, 3, 5) * _F32(2.4) + _F32(rng.uniform(-0.15, 0.1)), 0.0, 1.0)
    clouds *= np.clip(_F32(1.0) - ys / _F32(horizon), 0.0, 1.0)
    img = img * (1 - clouds[..., None] * _F32(0.55)) + clouds[..., None] * _F32(0.55) * (sky_hor * _F32(1.05))

    # Hills: three layers, far ones lighter and bluer (aerial perspective), near ones textured.
    tex = _fbm(rng, h, w, 6, 5)
    for layer in range(3):
        depth = layer / 2.0  # 0 far .. 1 near
        ridge = _ridge(rng, w, horizon - 0.07 + 0.06 * layer, 0.035 - 0.008 * layer, h)
        mask = np.clip((ys * _F32(h) - ridge[None, :]) / _F32(2.0), 0.0, 1.0)
        col = ground_far * _F32(1 - depth) + ground_near * _F32(depth)
        col = col * _F32(0.75 + 0.25 * depth) + sky_hor * _F32(0.25 * (1 - depth))
        shade = _F32(1.0) + tex * _F32(0.35 + 0.5 * depth) + (ys - _F32(horizon)) * _F32(0.4 * depth)
        img = img * (1 - mask[..., None]) + (col[None, None, :] * shade[..., None]) * mask[..., None]

    # Central subject: a key-lit, textured ellipsoid body with a head, and its cast shadow.
    _draw_subject(img, rng, subj_col, sun_x, sun_y, horizon, h, w)

    # Tone: mid-key exposure from luma percentiles (linear gain + black point), soft shoulder above 0.8.
    sample = img[::4, ::4]
    luma = sample @ np.array([0.299, 0.587, 0.114], dtype=_F32)
    lo, hi = (float(v) for v in np.percentile(luma, [0.5, 99.5]))
    black = min(lo * 0.7, 0.08)
    img = (img - _F32(black)) * _F32(0.86 / max(hi - black, 1e-3))
    img = np.clip(img, 0.0, None)
    knee = _F32(0.80)
    img = np.where(img > knee, knee + _F32(0.17) * np.tanh((img - knee) / _F32(0.17)), img)

    # Film grain (luma) + triangular dither before quantisation: no banding in the sky.
    grain = rng.standard_normal((h, w), dtype=_F32) * _F32(1.0 / 255)
    out = img * _F32(250.0) + grain[..., None] * _F32(255.0)
    out += rng.random((h, w, 1), dtype=_F32) - rng.random((h, w, 1), dtype=_F32)
    return Image.fromarray(np.clip(out + _F32(0.5), 0, 255).astype(np.uint8), mode="RGB")


def _draw_subject(
    img: np.ndarray,
    rng: np.random.Generator,
    col: np.ndarray,
    sun_x: float,
    sun_y: float,
    horizon: float,
    h: int,
    w: int,
) -> None:
    cx = w * float(rng.uniform(0.42, 0.58))
    base_y = h * float(rng.uniform(horizon + 0.22, min(0.88, horizon + 0.30)))
    ry = h * float(rng.uniform(0.17, 0.22))
    rx = ry * float(rng.uniform(0.55, 0.85))
    cy = base_y - ry
    head_r = ry * float(rng.uniform(0.32, 0.42))
    head_cy = cy - ry * 0.95 - head_r * 0.5
    head_cx = cx + rx * float(rng.uniform(-0.25, 0.25))
    light = np.array([(sun_x - 0.5) * 2.0, (sun_y - 0.5) * 1.5, 0.9], dtype=_F32)
    light /= np.linalg.norm(light)

    # Contact shadow on the ground, stretched away from the sun.
    sdir = -1.0 if sun_x > 0.5 else 1.0
    scx, srx, sry = cx + sdir * rx * 0.9, rx * 2.0, ry * 0.10
    y0, y1 = int(max(0, base_y - sry * 4)), int(min(h, base_y + sry * 4))
    x0, x1 = int(max(0, scx - srx * 3)), int(min(w, scx + srx * 3))
    if y1 > y0 and x1 > x0:
        yy = (np.arange(y0, y1, dtype=_F32)[:, None] - _F32(base_y)) / _F32(sry)
        xx = (np.arange(x0, x1, dtype=_F32)[None, :] - _F32(scx)) / _F32(srx)
        shadow = np.exp(-(xx**2 + yy**2)) * _F32(0.6)
        img[y0:y1, x0:x1] *= (1 - shadow)[..., None]

    for ecx, ecy, erx, ery, tint in ((cx, cy, rx, ry, 1.0), (head_cx, head_cy, head_r, head_r * 1.1, 1.08)):
        bx0, bx1 = int(max(0, ecx - erx - 2)), int(min(w, ecx + erx + 3))
        by0, by1 = int(max(0, ecy - ery - 2)), int(min(h, ecy + ery + 3))
        if bx1 <= bx0 or by1 <= by0:
            continue
        yy = (np.arange(by0, by1, dtype=_F32)[:, None] - _F32(ecy)) / _F32(ery)
        xx = (np.arange(bx0, bx1, dtype=_F32)[None, :] - _F32(ecx)) / _F32(erx)
        r2 = xx**2 + yy**2
        inside = np.clip((_F32(1.0) - r2) * _F32(min(erx, ery) / 2.0), 0.0, 1.0)  # ~1 px antialiased edge
        nz = np.sqrt(np.clip(_F32(1.0) - r2, 0.0, 1.0))
        lambert = np.clip(xx * light[0] + yy * light[1] + nz * light[2], 0.0, 1.0)
        rim = np.clip(_F32(1.0) - nz, 0.0, 1.0) ** 3 * _F32(0.35)
        hh, ww = by1 - by0, bx1 - bx0
        # Fine surface detail (scales/bark): strong high-frequency texture, sharp only on the subject.
        fine = rng.standard_normal((hh + 1, ww + 1), dtype=_F32)
        fine = (fine[1:, 1:] + fine[:-1, 1:] + fine[1:, :-1] + fine[:-1, :-1]) * _F32(0.45)  # soften 1 px
        coarse = _smooth_noise(rng, hh, ww, max(2, hh // 24), max(2, ww // 24)) * _F32(1.2)
        albedo = col * _F32(tint)
        shade = (_F32(0.22) + _F32(0.95) * lambert + rim) * (
            _F32(1.0) + fine * _F32(0.30) + coarse * _F32(0.5)
        )
        patch = albedo[None, None, :] * shade[..., None]
        region = img[by0:by1, bx0:bx1]
        region[:] = region * (1 - inside[..., None]) + patch * inside[..., None]


def render_bad_still(prompt: str, seed: int, width: int, height: int, defect: str = "dark") -> Image.Image:
    """A still that a quality gate must reject: ``dark`` (p99 luma < 0.25·255) or ``blurry``."""
    good = render_still(prompt, seed, width, height)
    if defect == "blurry":
        return good.filter(ImageFilter.GaussianBlur(radius=max(4.0, min(width, height) / 160)))
    if defect != "dark":
        raise ValueError(f"unknown still defect {defect!r}")
    arr = np.asarray(good, dtype=_F32) / _F32(255.0)
    dark = (arr ** _F32(1.6)) * _F32(0.17 * 255)
    return Image.fromarray(np.clip(dark + _F32(0.5), 0, 255).astype(np.uint8), mode="RGB")


def encode_image(img: Image.Image, fmt: str) -> bytes:
    """PNG (fast zlib level), JPEG (q92) or WEBP (q80) bytes."""
    buf = io.BytesIO()
    if fmt.lower() == "png":
        img.save(buf, format="PNG", compress_level=1)
    elif fmt.lower() in ("jpg", "jpeg"):
        img.convert("RGB").save(buf, format="JPEG", quality=92, subsampling=0)
    elif fmt.lower() == "webp":
        img.convert("RGB").save(buf, format="WEBP", quality=80, method=0)
    else:
        raise ValueError(f"unknown image format {fmt!r}")
    return buf.getvalue()

"""Procedural media for the emulator: stills that follow the prompt and H.264 clips, numpy + Pillow + PyAV.

Stills are deterministic from ``(prompt, seed, size)``: the prompt is read into a scene
(:func:`~goldenchain.emulator.scene.parse_prompt`) and painted (a street, a portrait, a product, an interior,
an action scene in :mod:`~goldenchain.emulator.painter`; a landscape of sky, sun, layered hills and trees
here) under the prompt's light, then exposed, grained and dithered like a photo. The seed decides the
composition. Clips animate a submitted image with a camera move (:mod:`~goldenchain.emulator.clip`).
"""

from __future__ import annotations

import hashlib
import io
import math

import numpy as np
from PIL import Image, ImageFilter

from .clip import clip_size, render_clip
from .defects import render_clutter
from .painter import PAINTERS, light
from .scene import SceneSpec, parse_prompt

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


def _palette(prompt: str, rng: np.random.Generator, spec: SceneSpec | None = None) -> np.ndarray:
    words = [w.strip(".,;:!?\"'()").lower() for w in prompt.split()]
    name = next((_KEYWORDS[w] for w in words if w in _KEYWORDS), None)
    if name is None and spec is not None:
        name = {
            "golden": "golden",
            "overcast": "overcast",
            "night": "dusk",
            "neon": "dusk",
            "candle": "dusk",
        }.get(spec.light)
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
    """A plausible good still (RGB) of what the prompt describes (:func:`~.scene.parse_prompt`), deterministic
    from ``(prompt, seed, size)``; normal exposure, a sharp subject. The seed decides the composition.
    ``defect="clutter"``: the failure rules' cluttered, posterised still of the same prompt."""
    if width < 16 or height < 16:
        raise ValueError("still too small")
    rng = _rng(prompt, seed)
    if defect == "clutter":
        return render_clutter(width, height, seed, _palette(prompt, rng))
    if defect is not None:
        raise ValueError(f"unknown still defect {defect!r}")
    spec = parse_prompt(prompt)
    painter = PAINTERS.get(spec.kind)
    if painter is None:
        img = _landscape(prompt, spec, rng, height, width)
    else:
        img = light(*painter(spec, rng, height, width), spec)
    return _develop(img, rng)


def _develop(img: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """Exposure from luma percentiles (linear gain + black point), a soft shoulder, film grain and dither."""
    h, w = img.shape[:2]
    sample = img[::4, ::4]
    luma = sample @ np.array([0.299, 0.587, 0.114], dtype=_F32)
    lo, hi = (float(v) for v in np.percentile(luma, [0.5, 99.5]))
    black = min(lo * 0.7, 0.08)
    img = (img - _F32(black)) * _F32(0.86 / max(hi - black, 1e-3))
    img = np.clip(img, 0.0, None)
    knee = _F32(0.80)
    img = np.where(img > knee, knee + _F32(0.17) * np.tanh((img - knee) / _F32(0.17)), img)

    # Film grain (luma) + triangular dither before quantisation: no banding in smooth skies and walls.
    grain = rng.standard_normal((h, w), dtype=_F32) * _F32(1.0 / 255)
    out = img * _F32(250.0) + grain[..., None] * _F32(255.0)
    out += rng.random((h, w, 1), dtype=_F32) - rng.random((h, w, 1), dtype=_F32)
    return Image.fromarray(np.clip(out + _F32(0.5), 0, 255).astype(np.uint8), mode="RGB")


def _landscape(prompt: str, spec: SceneSpec, rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Sky, sun and clouds over layered hills with aerial perspective, and a stand of trees the seed places."""
    pal = _palette(prompt, rng, spec)
    sky_top, sky_hor, ground_near, ground_far, subj_col = (pal[i] for i in range(5))

    ys = (np.arange(h, dtype=_F32) / _F32(h))[:, None]
    xs = (np.arange(w, dtype=_F32) / _F32(w))[None, :]
    horizon = float(rng.uniform(0.42, 0.62)) if spec.shot != "wide" else float(rng.uniform(0.35, 0.5))

    # Sky: vertical gradient, sun glow, soft clouds.
    t = np.clip(ys / _F32(horizon), 0.0, 1.0) ** _F32(0.8)
    img = sky_top[None, None, :] * (1 - t)[..., None] + sky_hor[None, None, :] * t[..., None]
    img = np.broadcast_to(img, (h, w, 3)).copy()
    sun_x = float(rng.choice([rng.uniform(0.12, 0.32), rng.uniform(0.68, 0.88)]))
    sun_y = float(rng.uniform(0.10, horizon * 0.7))
    if spec.light == "golden":
        sun_y = horizon * float(rng.uniform(0.75, 0.92))  # a low sun
    d2 = ((xs - _F32(sun_x)) * _F32(w / h)) ** 2 + (ys - _F32(sun_y)) ** 2
    glow = np.exp(-d2 / _F32(0.02)) * _F32(0.35) + np.exp(-d2 / _F32(0.0006)) * _F32(0.45)
    if spec.light != "overcast":
        img += glow[..., None] * np.array([1.0, 0.93, 0.78], dtype=_F32)
    cover = 0.25 if spec.light == "overcast" else float(rng.uniform(-0.15, 0.1))
    clouds = np.clip(_fbm(rng, h, w, 3, 5) * _F32(2.4) + _F32(cover), 0.0, 1.0)
    clouds *= np.clip(_F32(1.0) - ys / _F32(horizon), 0.0, 1.0)
    img = img * (1 - clouds[..., None] * _F32(0.55)) + clouds[..., None] * _F32(0.55) * (sky_hor * _F32(1.05))

    # Hills: two to four layers, far ones lighter and bluer (aerial perspective), near ones textured.
    tex = _fbm(rng, h, w, 6, 5)
    layers = int(rng.integers(2, 5))
    for layer in range(layers):
        depth = layer / (layers - 1)  # 0 far .. 1 near
        ridge = _ridge(rng, w, horizon - 0.07 + 0.06 * layer, 0.035 - 0.008 * layer, h)
        mask = np.clip((ys * _F32(h) - ridge[None, :]) / _F32(2.0), 0.0, 1.0)
        col = ground_far * _F32(1 - depth) + ground_near * _F32(depth)
        col = col * _F32(0.75 + 0.25 * depth) + sky_hor * _F32(0.25 * (1 - depth))
        shade = _F32(1.0) + tex * _F32(0.35 + 0.5 * depth) + (ys - _F32(horizon)) * _F32(0.4 * depth)
        img = img * (1 - mask[..., None]) + (col[None, None, :] * shade[..., None]) * mask[..., None]

    # A stand of trees on the near ground: count, place and size from the seed; sharp and textured.
    _trees(img, rng, subj_col, horizon, h, w)
    return img


def _trees(
    img: np.ndarray, rng: np.random.Generator, col: np.ndarray, horizon: float, h: int, w: int
) -> None:
    centre = float(rng.uniform(0.3, 0.7))
    green = np.array([0.10, 0.24, 0.10], dtype=_F32) * _F32(0.7) + col * _F32(0.15)
    for _ in range(int(rng.integers(3, 14))):
        x = (centre + float(rng.normal(0, 0.12))) * w
        foot = (horizon + float(rng.uniform(0.15, 0.35))) * h
        th = float(rng.uniform(0.12, 0.3)) * h * (foot / h)
        tw = th * float(rng.uniform(0.25, 0.4))
        y0, y1 = int(max(0, foot - th)), int(min(h, foot))
        x0, x1 = int(max(0, x - tw)), int(min(w, x + tw))
        if y1 <= y0 or x1 <= x0:
            continue
        yy = (np.arange(y0, y1, dtype=_F32)[:, None] - _F32(foot - th)) / _F32(th)  # 0 top .. 1 foot
        xx = np.abs(np.arange(x0, x1, dtype=_F32)[None, :] - _F32(x)) / _F32(tw)
        inside = np.clip((yy * _F32(0.9) - xx) * _F32(tw / 2), 0.0, 1.0) * (yy < _F32(0.88))
        trunk = (xx < _F32(0.08)) & (yy >= _F32(0.85))
        fine = rng.standard_normal((y1 - y0, x1 - x0), dtype=_F32) * _F32(0.25)
        shade = (_F32(0.7) + _F32(0.5) * (_F32(1) - xx)) * (_F32(1) + fine)
        patch = green[None, None, :] * shade[..., None]
        region = img[y0:y1, x0:x1]
        region[:] = region * (1 - inside[..., None]) + patch * inside[..., None]
        region[trunk] = np.array([0.18, 0.12, 0.08], dtype=_F32)


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

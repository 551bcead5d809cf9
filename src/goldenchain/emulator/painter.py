"""Procedural scenes for the emulator's stills (numpy + Pillow): a street, a portrait, a product on a table, an
interior and an action scene (the landscape is in :mod:`goldenchain.emulator.media`).

Each painter takes the parsed :class:`~goldenchain.emulator.scene.SceneSpec`, an RNG and a size, and returns
two float32 layers: ``base``, the scene as daylight would show it, and ``emit``, what glows by itself (neon
signs, lit windows, lamps, candle flames). :func:`light` combines them under the prompt's light: at night the
base goes dark and the emitters carry the picture; golden hour warms it; overcast flattens it. The seed
decides the layout (how many buildings, signs, windows, props; where the subject stands), not just the tint.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import cv2
import numpy as np
from PIL import Image, ImageDraw

from .scene import COLOURS, SceneSpec

__all__ = ["PAINTERS", "light"]

F = np.float32
Layers = tuple[np.ndarray, np.ndarray]
NEON = ((1.0, 0.12, 0.62), (0.10, 0.85, 1.0), (1.0, 0.18, 0.12), (0.3, 1.0, 0.35), (0.55, 0.25, 1.0),
        (1.0, 0.7, 0.1))  # fmt: skip
SKIN = ((0.87, 0.68, 0.56), (0.78, 0.56, 0.42), (0.62, 0.42, 0.30), (0.45, 0.30, 0.21), (0.92, 0.76, 0.66))


def _noise(rng: np.random.Generator, h: int, w: int, cells: int) -> np.ndarray:
    """Smooth value noise, about -0.5..0.5 (a small grid upsampled bicubically)."""
    cy, cx = max(2, cells), max(2, round(cells * w / h))
    grid = rng.random((cy, cx), dtype=F) - F(0.5)
    return np.asarray(Image.fromarray(grid, mode="F").resize((w, h), Image.Resampling.BICUBIC), dtype=F)


def _fine(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Fine surface detail (fabric, skin pores, grit): 2x2-softened white noise, sd about 0.9."""
    n = rng.standard_normal((h + 1, w + 1), dtype=F)
    return (n[1:, 1:] + n[:-1, 1:] + n[1:, :-1] + n[:-1, :-1]) * F(0.45)


def _vgrad(h: int, w: int, top: tuple[float, ...], bottom: tuple[float, ...], y0: float = 0.0,
           y1: float = 1.0) -> np.ndarray:  # fmt: skip
    t = np.clip((np.arange(h, dtype=F) / F(h) - F(y0)) / F(max(1e-3, y1 - y0)), 0, 1)[:, None, None]
    return np.broadcast_to(np.array(top, F) * (1 - t) + np.array(bottom, F) * t, (h, w, 3)).copy()


def _box(img: np.ndarray, x0: float, y0: float, x1: float, y1: float) -> tuple[slice, slice] | None:
    h, w = img.shape[:2]
    a, b = max(0, int(x0)), min(w, math.ceil(x1))
    c, d = max(0, int(y0)), min(h, math.ceil(y1))
    return (slice(c, d), slice(a, b)) if b > a and d > c else None


def rect(img: np.ndarray, x0: float, y0: float, x1: float, y1: float, colour: np.ndarray | tuple[float, ...],
         tex: np.ndarray | None = None) -> None:  # fmt: skip
    """Fill a rectangle; ``tex`` (h x w) modulates it (1 + tex)."""
    box = _box(img, x0, y0, x1, y1)
    if box is None:
        return
    col = np.asarray(colour, F)
    if tex is None:
        img[box] = col
    else:
        img[box] = col * (F(1) + tex[box])[..., None]


def ellipse(img: np.ndarray, cx: float, cy: float, rx: float, ry: float, colour: tuple[float, ...] | np.ndarray,
            shade: tuple[float, float] | None = (-0.5, -0.6), tex: np.ndarray | None = None) -> None:  # fmt: skip
    """An antialiased ellipse, lit like a sphere from ``shade`` (x, y of the light direction) when given."""
    box = _box(img, cx - rx - 2, cy - ry - 2, cx + rx + 3, cy + ry + 3)
    if box is None or rx < 0.5 or ry < 0.5:
        return
    ys = (np.arange(box[0].start, box[0].stop, dtype=F)[:, None] - F(cy)) / F(ry)
    xs = (np.arange(box[1].start, box[1].stop, dtype=F)[None, :] - F(cx)) / F(rx)
    r2 = xs * xs + ys * ys
    inside = np.clip((F(1) - r2) * F(min(rx, ry) / 2.0), 0, 1)[..., None]
    col = np.broadcast_to(np.asarray(colour, F), (*r2.shape, 3))
    if shade is not None:
        nz = np.sqrt(np.clip(F(1) - r2, 0, 1))
        lx, ly = shade
        lam = np.clip(xs * F(lx) + ys * F(ly) + nz * F(0.75), 0, 1)
        col = col * (F(0.35) + F(0.8) * lam)[..., None]
    if tex is not None:
        col = col * (F(1) + tex[box])[..., None]
    img[box] = img[box] * (1 - inside) + col * inside


def _blur(layer: np.ndarray, radius: float) -> np.ndarray:
    """A wide Gaussian blur, done at a quarter of the size (glows and bokeh are soft anyway)."""
    h, w = layer.shape[:2]
    small = cv2.resize(layer, (max(4, w // 4), max(4, h // 4)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), max(0.5, radius / 4))
    return np.asarray(cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR), dtype=F)


#: clothing and product colours when the prompt names none
_CLOTHES = ((0.1, 0.14, 0.32), (0.08, 0.08, 0.09), (0.45, 0.46, 0.48), (0.82, 0.83, 0.84), (0.2, 0.32, 0.5),
            (0.32, 0.36, 0.2), (0.45, 0.08, 0.14), (0.12, 0.36, 0.38), (0.35, 0.2, 0.45))  # fmt: skip


def _subject_colour(spec: SceneSpec, rng: np.random.Generator) -> np.ndarray:
    if spec.colour:
        return np.array(COLOURS[spec.colour], F)
    return np.array(_CLOTHES[int(rng.integers(0, len(_CLOTHES)))], F) * F(rng.uniform(0.85, 1.15))


def _person(img: np.ndarray, rng: np.random.Generator, fine: np.ndarray, cx: float, feet: float, height: float,
            colour: np.ndarray, lean: float = 0.0, stride: float = 0.0) -> None:  # fmt: skip
    """A standing (or, with ``stride``, running) figure: legs, torso, arms, head; crisp, textured."""
    tex = fine * F(0.12)
    head_r = height * 0.075
    hip_y = feet - height * 0.47
    sh_y = feet - height * 0.80
    leg = (0.25, 0.25, 0.3)
    for side in (-1, 1):  # legs as thick strokes
        x_foot = cx + side * height * (0.06 + stride * 0.18)
        for t in np.linspace(0, 1, 14):
            x = cx + side * height * 0.035 + (x_foot - cx - side * height * 0.035) * t
            ellipse(img, x, hip_y + (feet - hip_y) * t, height * 0.035, height * 0.045, leg, None, tex)
    top_x = cx + lean * height * 0.2
    for t in np.linspace(0, 1, 16):  # torso
        ellipse(img, cx + (top_x - cx) * t, hip_y + (sh_y - hip_y) * t, height * 0.09, height * 0.07,
                tuple(colour), None, tex)  # fmt: skip
    for side in (-1, 1):  # arms
        hand_x = top_x + side * height * (0.12 + stride * 0.15)
        for t in np.linspace(0, 1, 10):
            ellipse(img, top_x + side * height * 0.09 + (hand_x - top_x - side * height * 0.09) * t,
                    sh_y + height * 0.33 * t, height * 0.03, height * 0.03, tuple(colour * 0.85), None, tex)  # fmt: skip
    skin = SKIN[int(rng.integers(0, len(SKIN)))]
    ellipse(img, top_x, sh_y - head_r * 1.15, head_r * 0.85, head_r, skin, (-0.5, -0.5), tex)


def street(spec: SceneSpec, rng: np.random.Generator, h: int, w: int) -> Layers:
    """A street: facades with windows, signs (neon at night), a wet or dry road in perspective, people."""
    horizon = float(rng.uniform(0.52, 0.62)) * h
    night = spec.light in ("night", "neon", "candle")
    base = _vgrad(h, w, (0.30, 0.45, 0.70), (0.75, 0.80, 0.85), 0, horizon / h)
    emit = np.zeros((h, w, 3), F)
    fine = _fine(rng, h, w)
    tex = _noise(rng, h, w, 40) * F(0.35) + fine * F(0.05)
    x = -float(rng.uniform(0, 0.1)) * w
    n_signs = 0
    while x < w:  # the facades, left to right, each its own width, height and colour
        bw = float(rng.uniform(0.08, 0.22)) * w
        top = horizon - float(rng.uniform(0.25, 0.55)) * h
        col = np.array(rng.uniform(0.25, 0.55, 3), F) * F(0.9)
        rect(base, x, top, x + bw, horizon, col, tex)
        rows, cols = int(rng.integers(3, 9)), int(rng.integers(2, 6))
        ww, wh = bw / (cols * 1.8), (horizon - top) / (rows * 2.0)
        for r in range(rows):
            for c in range(cols):
                wx, wy = x + bw * 0.1 + c * ww * 1.8, top + (horizon - top) * 0.06 + r * wh * 2.0
                lit = rng.random() < (0.45 if night else 0.0)
                rect(base, wx, wy, wx + ww, wy + wh, (0.12, 0.14, 0.18))
                if lit:
                    rect(
                        emit,
                        wx,
                        wy,
                        wx + ww,
                        wy + wh,
                        np.array((1.0, 0.78, 0.45), F) * F(rng.uniform(0.5, 1)),
                    )
        if rng.random() < (0.9 if spec.light == "neon" else 0.55):  # a sign on this facade
            sx = x + bw * float(rng.uniform(0.1, 0.5))
            sy = top + (horizon - top) * float(rng.uniform(0.2, 0.7))
            vertical = rng.random() < 0.5
            sw_, sh_ = (bw * 0.12, (horizon - top) * 0.35) if vertical else (bw * 0.6, (horizon - top) * 0.08)
            colour = np.array(NEON[int(rng.integers(0, len(NEON)))], F)
            rect(base, sx, sy, sx + sw_, sy + sh_, colour * F(0.6))
            rect(emit, sx, sy, sx + sw_, sy + sh_, colour * F(2.0 if spec.light == "neon" else 1.4))
            n_signs += 1
        x += bw
    # the road: perspective lanes toward a vanishing point; wet at night or in rain (reflections)
    vx = float(rng.uniform(0.35, 0.65)) * w
    road = _vgrad(h, w, (0.30, 0.30, 0.32), (0.18, 0.18, 0.2), horizon / h, 1.0)
    ys = np.arange(h, dtype=F)[:, None]
    xs = np.arange(w, dtype=F)[None, :]
    depth = np.clip((ys - F(horizon)) / F(h - horizon), 1e-3, 1)
    lane = (np.abs((xs - F(vx)) / depth % F(0.5 * w) - F(0.25 * w)) < F(0.006 * w)) & (
        (np.floor(F(6) / depth) % 2) == 0
    )
    road = road * (F(1) + fine[..., None] * F(0.1)) + lane[..., None] * F(0.45)
    below = ys >= horizon
    base = np.where(below[..., None], road, base)
    if night or spec.rain:
        k = int(horizon)
        span = min(k, h - k)
        mirror = emit[k - span : k][::-1]
        emit[k : k + span] += (
            _blur(mirror, 0.004 * w) * F(0.55) * (1 + _noise(rng, span, w, 60) * F(0.8))[..., None]
        )
    people = int(rng.integers(1, 6)) if spec.busy else int(rng.integers(0, 2))
    for _ in range(people):
        feet = horizon + float(rng.uniform(0.08, 0.4)) * h
        size = (feet - horizon) / (h - horizon) * 0.9 * h
        _person(base, rng, fine, float(rng.uniform(0.1, 0.9)) * w, feet, size, _subject_colour(spec, rng))
    if spec.rain:
        _rain(emit if night else base, rng, h, w, strong=night)
    return base, emit


def _rain(img: np.ndarray, rng: np.random.Generator, h: int, w: int, strong: bool) -> None:
    layer = Image.new("L", (w, h), 0)
    d = ImageDraw.Draw(layer)
    slant = float(rng.uniform(-0.25, 0.25))
    for _ in range(int(rng.integers(300, 700)) * w // 1024):
        x, y, ln = float(rng.uniform(0, w)), float(rng.uniform(0, h)), float(rng.uniform(0.02, 0.05)) * h
        d.line((x, y, x + slant * ln, y + ln), fill=int(rng.integers(60, 160)), width=1)
    streaks = np.asarray(layer, dtype=F)[..., None] / F(255)
    img += streaks * F(0.35 if strong else 0.25) * np.array((0.8, 0.85, 1.0), F)


def portrait(spec: SceneSpec, rng: np.random.Generator, h: int, w: int) -> Layers:
    """Head and shoulders: a close-up fills the frame with the face, a wide shot shows the figure small."""
    head = {"close": 0.26, "medium": 0.13, "wide": 0.07}[spec.shot] * h * float(rng.uniform(0.92, 1.08))
    cx = w * float(rng.uniform(0.42, 0.58)) if spec.shot != "wide" else w * float(rng.uniform(0.3, 0.7))
    cy = h * {"close": 0.45, "medium": 0.38, "wide": 0.45}[spec.shot]
    back_a = np.asarray(rng.uniform(0.2, 0.6, 3), F)
    back_b = np.asarray(rng.uniform(0.1, 0.45, 3), F)
    if spec.light == "studio":  # a seamless backdrop: grey, with a cool cast or none
        grey = float(rng.uniform(0.35, 0.6))
        back_a = grey * np.array((0.92, 0.96, 1.04), F) if rng.random() < 0.7 else np.full(3, grey, F)
        back_b = back_a * F(0.55)
    base = _vgrad(h, w, tuple(back_a), tuple(back_b))
    emit = np.zeros((h, w, 3), F)
    if spec.light != "studio":  # an out-of-focus setting: soft blobs (bokeh), seed-placed
        blobs = np.zeros((h, w, 3), F)
        for _ in range(int(rng.integers(8, 20))):
            ellipse(blobs, float(rng.uniform(0, w)), float(rng.uniform(0, h)), *(float(rng.uniform(0.03, 0.12)) * h,) * 2,
                    tuple(rng.uniform(0.2, 1.0, 3)), None)  # fmt: skip
        base = base * F(0.6) + _blur(blobs, 0.02 * w) * F(0.5)
        if spec.lights >= 2 or spec.light in ("neon", "night", "candle"):
            for _ in range(max(2, spec.lights)):
                c = np.array(
                    NEON[int(rng.integers(0, len(NEON)))] if spec.light == "neon" else (1.0, 0.75, 0.4), F
                )
                ellipse(
                    emit,
                    float(rng.uniform(0, w)),
                    float(rng.uniform(0, 0.6 * h)),
                    *(0.03 * h,) * 2,
                    tuple(c * 2),
                    None,
                )
            emit = _blur(emit, 0.01 * w) * F(3)
    fine = _fine(rng, h, w)
    tex = fine * F(0.08)
    coat = _subject_colour(spec, rng)
    if spec.shot == "wide":  # the whole figure, standing in its setting
        ground = (np.arange(h)[:, None] >= h * 0.72)[..., None]
        base = np.where(ground, base * F(0.55) + F(0.12), base)
        _person(base, rng, fine, cx, h * float(rng.uniform(0.82, 0.9)), h * 0.62, coat)
        return base, emit
    # shoulders and chest running out of the frame, the neck, the head, hair, eyes and mouth
    ellipse(base, cx, cy + head * 2.2, head * 2.4, head * 0.9, tuple(coat), (-0.4, -0.7), tex)
    rect(base, cx - head * 2.4, cy + head * 2.2, cx + head * 2.4, h, coat * F(0.8), tex)
    skin = np.array(SKIN[int(rng.integers(0, len(SKIN)))], F)
    rect(base, cx - head * 0.32, cy + head * 0.6, cx + head * 0.32, cy + head * 1.3, skin * F(0.8), tex)
    ellipse(base, cx, cy, head * 0.78, head, tuple(skin), (-0.45, -0.5), tex)
    hair = np.array(
        rng.choice([(0.08, 0.06, 0.05), (0.3, 0.18, 0.08), (0.55, 0.42, 0.22), (0.15, 0.1, 0.08)]), F
    )
    ellipse(base, cx, cy - head * 0.55, head * 0.84, head * 0.55, tuple(hair), (-0.3, -0.8), tex * 3)
    for side in (-1, 1):
        ellipse(
            base, cx + side * head * 0.32, cy - head * 0.05, head * 0.14, head * 0.07, (0.9, 0.9, 0.88), None
        )
        ellipse(
            base,
            cx + side * head * 0.32,
            cy - head * 0.05,
            head * 0.06,
            head * 0.06,
            (0.12, 0.08, 0.06),
            None,
        )
    ellipse(
        base, cx, cy + head * 0.5, head * 0.24, head * 0.06, tuple(skin * np.array((0.85, 0.5, 0.5), F)), None
    )
    return base, emit


def product(spec: SceneSpec, rng: np.random.Generator, h: int, w: int) -> Layers:
    """A product on a table: a seamless back wall, a wood (or stone) top in perspective, the product with a
    highlight and a contact shadow, and a few props placed by the seed."""
    edge = float(rng.uniform(0.55, 0.68)) * h
    wall = rng.uniform(0.5, 0.85, 3)
    base = _vgrad(h, w, tuple(wall * 0.75), tuple(wall), 0, edge / h)
    grain = _noise(rng, h, w, 6)
    streak = np.asarray(Image.fromarray(grain, mode="F").resize((w, h // 8 or 1)).resize((w, h)), dtype=F)
    wood = np.array(rng.choice([(0.45, 0.28, 0.15), (0.6, 0.45, 0.3), (0.7, 0.7, 0.68)]), F)
    fine = _fine(rng, h, w)
    table = wood * (F(1) + streak[..., None] * F(0.6) + fine[..., None] * F(0.06))
    below = (np.arange(h)[:, None] >= edge)[..., None]
    base = np.where(below, table, base)
    emit = np.zeros((h, w, 3), F)
    colour = _subject_colour(spec, rng)
    tex = fine * F(0.04)
    items = [(w * float(rng.uniform(0.38, 0.62)), 1.0)]
    for _ in range(int(rng.integers(0, 3))):
        items.append((w * float(rng.choice([rng.uniform(0.1, 0.3), rng.uniform(0.7, 0.9)])), 0.45))
    for x, scale in sorted(items, key=lambda it: it[1]):
        hh = (h - edge) * 1.6 * scale * float(rng.uniform(0.85, 1.15))
        rw = hh * float(rng.uniform(0.22, 0.4))
        foot = edge + (h - edge) * float(rng.uniform(0.35, 0.6))
        ellipse(base, x + rw * 0.5, foot, rw * 1.6, rw * 0.3, (0.05, 0.05, 0.05), None)  # contact shadow
        col = colour if scale == 1.0 else np.array(rng.uniform(0.3, 0.8, 3), F)
        xs = (np.arange(w, dtype=F) - F(x)) / F(rw)
        shade = np.clip(F(0.45) + F(0.55) * np.sqrt(np.clip(1 - xs * xs, 0, 1)) - F(0.25) * xs, 0, 1.3)
        box = _box(base, x - rw, foot - hh, x + rw, foot)
        if box is not None:
            body = col[None, None, :] * shade[None, box[1], None] * (F(1) + tex[box][..., None])
            base[box] = body
            spec_x = slice(max(0, int(x - rw * 0.45)), max(1, int(x - rw * 0.3)))
            base[box[0], spec_x] += F(0.5)
        ellipse(base, x, foot - hh, rw, rw * 0.18, tuple(col * 1.15), None)  # the top
    return base, emit


def interior(spec: SceneSpec, rng: np.random.Generator, h: int, w: int) -> Layers:
    """A room in one-point perspective: back wall with windows, floorboards converging, side walls, furniture
    blocks, pictures and lamps, all placed by the seed."""
    bx0, bx1 = float(rng.uniform(0.22, 0.35)) * w, float(rng.uniform(0.65, 0.78)) * w
    by0, by1 = float(rng.uniform(0.15, 0.28)) * h, float(rng.uniform(0.58, 0.7)) * h
    wall = np.array(rng.uniform(0.45, 0.8, 3), F)
    base = np.empty((h, w, 3), F)
    base[:] = wall * F(0.75)
    ys = np.arange(h, dtype=F)[:, None]
    xs = np.arange(w, dtype=F)[None, :]
    vx, vy = (bx0 + bx1) / 2, (by0 + by1) / 2
    floor = ys > F(by1) + (np.abs(xs - F(vx)) - F((bx1 - bx0) / 2)).clip(0) * F((h - by1) / (w / 2))
    ceiling = ys < F(by0) - (np.abs(xs - F(vx)) - F((bx1 - bx0) / 2)).clip(0) * F(by0 / (w / 2))
    angle = np.arctan2(xs - F(vx), np.maximum(ys - F(vy), F(1)))
    boards = np.sin(angle * F(int(rng.integers(18, 40)))) > F(0.92)
    wood = np.array(rng.choice([(0.5, 0.32, 0.18), (0.62, 0.5, 0.36), (0.35, 0.24, 0.16)]), F)
    floor_col = (
        wood * (F(1) + _noise(rng, h, w, 30)[..., None] * F(0.4)) * (F(1) - boards[..., None] * F(0.35))
    )
    base = np.where(floor[..., None], floor_col, base)
    base = np.where(ceiling[..., None], wall * F(0.9), base)
    fine = _fine(rng, h, w)
    rect(base, bx0, by0, bx1, by1, wall, fine * F(0.03))
    emit = np.zeros((h, w, 3), F)
    for _ in range(int(rng.integers(1, 3))):  # windows on the back wall
        wx = float(rng.uniform(bx0, bx1 - (bx1 - bx0) * 0.3))
        ww, wy, wh = (bx1 - bx0) * float(rng.uniform(0.15, 0.28)), by0 + (by1 - by0) * 0.15, (by1 - by0) * 0.5
        rect(base, wx - 4, wy - 4, wx + ww + 4, wy + wh + 4, (0.25, 0.2, 0.18))
        rect(base, wx, wy, wx + ww, wy + wh, (0.75, 0.85, 0.95))
        rect(
            emit,
            wx,
            wy,
            wx + ww,
            wy + wh,
            (0.6, 0.7, 0.8) if spec.light not in ("night", "candle") else (0.05, 0.07, 0.15),
        )
    for _ in range(int(rng.integers(2, 5))):  # furniture on the floor, pictures on the walls
        fx = float(rng.uniform(0.05, 0.8)) * w
        fw, fh = float(rng.uniform(0.1, 0.25)) * w, float(rng.uniform(0.08, 0.2)) * h
        fy = by1 + float(rng.uniform(0.0, 0.25)) * h
        rect(base, fx, fy - fh, fx + fw, fy, _subject_colour(spec, rng) * F(0.8), fine * F(0.06))
        px = float(rng.uniform(bx0, bx1 - 40))
        rect(base, px, by0 + 10, px + (bx1 - bx0) * 0.12, by0 + (by1 - by0) * 0.3, rng.uniform(0.1, 0.9, 3))
    for _ in range(max(spec.lights, 1 if spec.light in ("night", "candle") else 0)):
        lx, ly = float(rng.uniform(0.1, 0.9)) * w, float(rng.uniform(0.3, 0.75)) * h
        warm = np.array((1.0, 0.62, 0.25) if spec.light == "candle" else (1.0, 0.82, 0.55), F)
        size = 0.012 if spec.light == "candle" else 0.03
        ellipse(base, lx, ly, size * h, size * h * (2.2 if spec.light == "candle" else 1), tuple(warm), None)
        ellipse(emit, lx, ly, size * h * 3, size * h * 3, tuple(warm * 1.2), None)
    emit = _blur(emit, 0.006 * w) * F(1.5) + emit * F(0.6)
    return base, emit


def action(spec: SceneSpec, rng: np.random.Generator, h: int, w: int) -> Layers:
    """A figure in motion across a panned (motion-streaked) background, with dust kicked up; crisp subject."""
    horizon = float(rng.uniform(0.45, 0.6)) * h
    base = _vgrad(h, w, (0.3, 0.48, 0.75), (0.78, 0.8, 0.82), 0, horizon / h)
    ground = np.array(rng.choice([(0.45, 0.38, 0.28), (0.25, 0.4, 0.2), (0.35, 0.35, 0.37)]), F)
    streak = _noise(rng, max(2, h // 6), w, 40)
    streak = np.asarray(
        Image.fromarray(streak, mode="F").resize((w // 16, h)).resize((w, h), Image.Resampling.BILINEAR), F
    )
    below = (np.arange(h)[:, None] >= horizon)[..., None]
    base = np.where(below, ground * (F(1) + streak[..., None] * F(0.8)), base)
    for _ in range(int(rng.integers(4, 10))):  # background shapes smeared by the pan (trees, posts, stands)
        x, bw = float(rng.uniform(0, w)), float(rng.uniform(0.03, 0.12)) * w
        top = horizon - float(rng.uniform(0.05, 0.3)) * h
        rect(base, x, top, x + bw, horizon, rng.uniform(0.15, 0.5, 3) * F(0.9))
    base = _hsmear(base, max(3, w // 60))
    emit = np.zeros((h, w, 3), F)
    feet = horizon + float(rng.uniform(0.25, 0.38)) * h
    cx = float(rng.uniform(0.35, 0.65)) * w
    _person(base, rng, _fine(rng, h, w), cx, feet, (feet - horizon) * 2.2, _subject_colour(spec, rng),
            lean=float(rng.uniform(0.3, 0.7)) * float(rng.choice([-1, 1])), stride=float(rng.uniform(0.6, 1.0)))  # fmt: skip
    for _ in range(int(rng.integers(30, 90))):  # dust
        ellipse(base, cx + float(rng.normal(0, 0.12)) * w, feet + float(rng.normal(0, 0.02)) * h,
                *(float(rng.uniform(0.002, 0.008)) * h,) * 2, tuple(ground * 1.3), None)  # fmt: skip
    return base, emit


def _hsmear(img: np.ndarray, k: int) -> np.ndarray:
    """A horizontal box blur of ``k`` px (a camera panning with the subject)."""
    c = np.cumsum(np.pad(img, ((0, 0), (k // 2 + 1, k - k // 2 - 1), (0, 0)), mode="edge"), axis=1, dtype=F)
    return (c[:, k:] - c[:, :-k]) / F(k)


PAINTERS: dict[str, Callable[[SceneSpec, np.random.Generator, int, int], Layers]] = {
    "street": street,
    "portrait": portrait,
    "product": product,
    "interior": interior,
    "action": action,
}

#: light -> (multiplier of the daylight base, colour of the light, weight of the emitters, desaturation)
_LIGHT = {
    "day": (1.0, (1.0, 1.0, 1.0), 0.15, 0.0),
    "golden": (0.95, (1.12, 0.9, 0.66), 0.3, 0.0),
    "overcast": (0.9, (0.96, 0.98, 1.02), 0.15, 0.35),
    "studio": (1.0, (1.0, 0.99, 0.97), 0.2, 0.0),
    "night": (0.4, (0.7, 0.8, 1.15), 1.0, 0.2),
    "neon": (0.36, (0.85, 0.7, 1.2), 1.0, 0.1),
    "candle": (0.42, (1.15, 0.8, 0.5), 1.0, 0.1),
}


def light(base: np.ndarray, emit: np.ndarray, spec: SceneSpec) -> np.ndarray:
    """The scene under the prompt's light: the lit base plus the emitters (and their glow)."""
    gain, colour, weight, desat = _LIGHT[spec.light]
    img = base * (F(gain) * np.array(colour, F))
    if desat:
        grey = img.mean(axis=-1, keepdims=True)
        img = img * F(1 - desat) + grey * F(desat)
    if weight >= 1.0 and emit.any():
        img = img + emit * F(weight) + _blur(emit, 0.02 * img.shape[1]) * F(0.8)
    elif emit.any():
        img = img + emit * F(weight)
    return img

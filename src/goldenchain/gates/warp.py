"""Background warping / "melting": block motion that no global (affine) camera motion explains.

Numpy stand-in for the DIS-flow method of gate.md §3: integer block matching on ~160 px frames, an affine fit
to the block vectors by least squares, and the median residual. Warn-only until calibrated on real clips.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from goldenchain.core.checks import Check
from goldenchain.gates.decode import Clip
from goldenchain.gates.grading import graded, make

_W = 160
_B = 8  # block size
_R = 4  # search radius


def block_vectors(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Block centres (N x 2, x/y), motion vectors (N x 2) from a to b, and a textured-block mask."""
    h, w = a.shape
    nby, nbx = (h - 2 * _R) // _B, (w - 2 * _R) // _B
    core = a[_R : _R + nby * _B, _R : _R + nbx * _B]
    pb = b.astype(np.float32)
    best = np.full((nby, nbx), np.inf, dtype=np.float32)
    vec = np.zeros((nby, nbx, 2), dtype=np.float32)
    for dy in range(-_R, _R + 1):
        for dx in range(-_R, _R + 1):
            cand = pb[_R + dy : _R + dy + nby * _B, _R + dx : _R + dx + nbx * _B]
            sad = np.abs(cand - core).reshape(nby, _B, nbx, _B).sum(axis=(1, 3))
            better = sad < best - 1e-3
            best = np.where(better, sad, best)
            vec[better] = (dx, dy)
    texture = core.reshape(nby, _B, nbx, _B).std(axis=(1, 3)) > 4.0
    ys, xs = np.mgrid[0:nby, 0:nbx]
    centres = np.stack([xs * _B + _B / 2, ys * _B + _B / 2], axis=-1).reshape(-1, 2)
    return centres, vec.reshape(-1, 2), texture.ravel()


def affine_residual(centres: np.ndarray, vec: np.ndarray) -> float:
    design = np.column_stack([centres, np.ones(len(centres))])
    coef, *_ = np.linalg.lstsq(design, vec, rcond=None)
    res = np.hypot(*(vec - design @ coef).T)
    return float(np.median(res))


def check_warp(c: Clip, t: dict[str, float]) -> Check:
    thr = t["warp"]
    if c.n_frames < 4:
        return make("warp", "pass", 0.0, thr, "higher_is_worse", "too short to measure")
    h, w = c.frames[0].shape
    size = (_W, max(2 * _R + _B, round(h * _W / w)))

    def small(f: np.ndarray) -> np.ndarray:
        return np.asarray(Image.fromarray(f).resize(size, Image.Resampling.BILINEAR), dtype=np.float32)

    step = max(1, round((c.fps or 24.0) / 8))  # pairs about 1/8 s apart
    starts = list(range(0, c.n_frames - step, step))
    starts = starts[:: max(1, math.ceil(len(starts) / 16))]
    worst, at = 0.0, 0
    for i in starts:
        centres, vec, ok = block_vectors(small(c.frames[i]), small(c.frames[i + step]))
        if ok.sum() < 12:
            continue
        r = affine_residual(centres[ok], vec[ok]) * (320 / _W)
        if r > worst:
            worst, at = r, i
    fps = c.fps or 24.0
    return graded(
        "warp",
        worst,
        "higher_is_worse",
        math.nan,
        thr,
        inclusive=True,
        ok=f"motion is consistent with a camera move (residual {worst:.2f} px)",
        bad=(
            f"non-rigid warping near {at / fps:.1f} s: residual {worst:.2f} px at 320 px "
            "(limit {thr:g}); review by eye"
        ),
    )

"""PIQE, the perception-based no-reference image quality evaluator (numpy, vectorised over 16x16 blocks).

Venkatanath N, Praneeth D, Maruthi Chandrasekhar Bh, S. S. Channappayya, S. S. Medasani, "Blind image
quality evaluation using perception based features", NCC 2015. Written from the paper's description:

1. Luma scaled to 0..255 by its maximum, then MSCN coefficients ``(I - mu) / (sigma + 1)`` with a 7x7
   Gaussian window (sigma 7/6, replicated borders).
2. Non-overlapping 16x16 blocks; a block is *spatially active* when the (sample) variance ``v`` of its MSCN
   coefficients exceeds 0.1. Only active blocks are scored.
3. *Noticeable distortion*: some 6-pixel segment along one of the four block edges has an MSCN standard
   deviation below 0.1 (a flat run next to activity: blocking, or a smeared edge).
4. *Noise*: with ``s = sqrt(v)`` and ``r`` = std of the two centre columns / std of the other 14 columns,
   ``beta = |s - r| / max(s, r)``; noisy when ``s > 2 beta``.
5. Block distortion ``D = [noticeable] (1 - v) + [noisy] v``; score ``100 (sum D + 1) / (N_active + 1)``.

0 is best, 100 worst; an image without active blocks scores 100. Blur raises it because the MSCN field of a
smeared image has flat stretches along block edges next to active structure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

BLOCK = 16
ACTIVITY = 0.1
IMPAIRED = 0.1
SEGMENT = 6


def _gauss_kernel(size: int = 7, sigma: float = 7.0 / 6.0) -> np.ndarray:
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2
    k = np.exp(-(x * x) / (2 * sigma * sigma))
    return (k / k.sum()).astype(np.float32)


_K7 = _gauss_kernel()


def gauss7(a: np.ndarray) -> np.ndarray:
    """Separable 7x7 Gaussian (sigma 7/6) with replicated borders, float32."""
    r = len(_K7) // 2
    h, w = a.shape
    p = np.pad(a, ((0, 0), (r, r)), mode="edge")
    tmp = _K7[0] * p[:, 0:w]
    for i in range(1, len(_K7)):
        tmp += _K7[i] * p[:, i : i + w]
    p = np.pad(tmp, ((r, r), (0, 0)), mode="edge")
    out = _K7[0] * p[0:h]
    for i in range(1, len(_K7)):
        out += _K7[i] * p[i : i + h]
    return out


def mscn(y: np.ndarray) -> np.ndarray:
    """Mean-subtracted contrast-normalised coefficients of a gray image (float32)."""
    y = y.astype(np.float32, copy=False)
    mu = gauss7(y)
    var = np.abs(gauss7(y * y) - mu * mu)
    return (y - mu) / (np.sqrt(var) + 1.0)


@dataclass(frozen=True)
class PiqeResult:
    score: float  # 0 (best) .. 100 (worst)
    active: int  # spatially active blocks
    noticeable: int  # active blocks with a noticeable distortion
    noisy: int  # active blocks meeting the noise criterion
    blocks: int  # all blocks

    @property
    def active_share(self) -> float:
        return self.active / self.blocks if self.blocks else 0.0


def _seg_std_min(edges: np.ndarray) -> np.ndarray:
    """Minimum over 6-pixel sliding segments of the sample std; ``edges`` is (..., 16)."""
    win = sliding_window_view(edges, SEGMENT, axis=-1)  # (..., 11, 6)
    return win.std(axis=-1, ddof=1).min(axis=-1)


def piqe(y: np.ndarray) -> PiqeResult:
    """PIQE of 2-D luma ``y`` (any scale); the image is padded symmetrically to a multiple of 16."""
    y = np.asarray(y, dtype=np.float32)
    h, w = y.shape
    ph, pw = (-h) % BLOCK, (-w) % BLOCK
    if ph or pw:
        y = np.pad(y, ((0, ph), (0, pw)), mode="symmetric")
    peak = float(y.max())
    if peak <= 0:
        return PiqeResult(100.0, 0, 0, 0, (y.shape[0] // BLOCK) * (y.shape[1] // BLOCK))
    y = np.round(y * (255.0 / peak))
    m = mscn(y)
    nr, nc = m.shape[0] // BLOCK, m.shape[1] // BLOCK
    blocks = m.reshape(nr, BLOCK, nc, BLOCK).transpose(0, 2, 1, 3).reshape(-1, BLOCK, BLOCK)
    var = blocks.var(axis=(1, 2), ddof=1)
    act = var > ACTIVITY
    b = blocks[act].astype(np.float64)
    v = var[act].astype(np.float64)
    n_act = int(act.sum())
    if n_act == 0:
        return PiqeResult(100.0, 0, 0, 0, nr * nc)
    # noticeable distortion: a flat 6-pixel run on any edge
    edges = np.stack([b[:, 0, :], b[:, -1, :], b[:, :, 0], b[:, :, -1]], axis=1)  # (n, 4, 16)
    notice = (_seg_std_min(edges) < IMPAIRED).any(axis=1)
    # noise: centre-column vs surround deviation against the block's own deviation
    sigma = np.sqrt(v)
    c = BLOCK // 2
    centre = b[:, :, c - 1 : c + 1].reshape(len(b), -1)
    surround = np.concatenate([b[:, :, : c - 1], b[:, :, c + 1 :]], axis=2).reshape(len(b), -1)
    cs = centre.std(axis=1, ddof=1)
    ss = surround.std(axis=1, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(ss > 0, cs / np.where(ss > 0, ss, 1.0), 0.0)
        beta = np.abs(sigma - ratio) / np.maximum(sigma, ratio)
    noisy = sigma > 2.0 * np.nan_to_num(beta)
    dist = float(np.sum(notice * (1.0 - v) + noisy * v))
    score = (dist + 1.0) / (n_act + 1.0) * 100.0
    return PiqeResult(float(score), n_act, int(notice.sum()), int(noisy.sum()), nr * nc)

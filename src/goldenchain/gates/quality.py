"""Pixel-quality checks of a still: JPEG blocking, blur (spectrum + crisp edges, PIQE), subject cut-off (numpy only)."""

from __future__ import annotations

import math
from functools import lru_cache

import cv2
import numpy as np
import scipy.fft

from goldenchain.core.checks import Check
from goldenchain.gates.grading import graded, make
from goldenchain.gates.loading import Still
from goldenchain.gates.piqe import piqe

# Wang, Sheikh & Bovik 2002, "No-reference perceptual quality assessment of JPEG compressed images"
_WSB = (-245.8909, 261.9373, -239.8886, 160.1664, 64.2859)
_EPS = 1e-6


def wsb_features(y: np.ndarray) -> tuple[float, float, float]:
    """The (B, A, Z) features of WSB, horizontal and vertical averaged; ``y`` is 8-bit-scale luma."""

    def along(axis: int) -> tuple[float, float, float]:
        # differences along ``axis`` (no transposed copy); a sign change is a negative product of neighbours
        d = np.diff(y, axis=axis)
        n = y.shape[axis]
        ad = np.abs(d)
        cut = slice(7, 8 * (n // 8 - 1), 8)
        b = float(ad[:, cut].mean() if axis == 1 else ad[cut].mean()) if n >= 16 else 0.0
        a = (8.0 * float(ad.mean()) - b) / 7.0
        prod = d[:, :-1] * d[:, 1:] if axis == 1 else d[:-1] * d[1:]
        z = float(np.count_nonzero(prod < 0)) / prod.size
        return b, a, z

    bh, ah, zh = along(1)
    bv, av, zv = along(0)
    return (bh + bv) / 2, (ah + av) / 2, (zh + zv) / 2


def wsb_score(b: float, a: float, z: float) -> float:
    alpha, beta, g1, g2, g3 = _WSB
    b, a, z = max(b, _EPS), max(a, _EPS), max(z, _EPS)
    return alpha + beta * b ** (g1 / 1e4) * a ** (g2 / 1e4) * z ** (g3 / 1e4)


def _aligned_crop(y: np.ndarray, side: int = 1024) -> np.ndarray:
    """Centre crop of at most side x side whose origin stays on the 8-px grid of the file."""
    h, w = y.shape
    ch, cw = min(h, side), min(w, side)
    y0 = ((h - ch) // 2) // 8 * 8
    x0 = ((w - cw) // 2) // 8 * 8
    return y[y0 : y0 + ch, x0 : x0 + cw]


def check_jpeg_blocking(s: Still, t: dict[str, float]) -> Check:
    y = _aligned_crop(s.luma).astype(np.float32)
    if min(y.shape) < 32:
        return make(
            "jpeg_blocking", "pass", 10.0, t["jpeg_blocking"], "lower_is_worse", "too small to measure"
        )
    b, a, z = wsb_features(y)
    score = wsb_score(b, a, z)
    ratio = b / max(a, _EPS)
    rej, warn, rthr = t["jpeg_blocking"], t["jpeg_blocking.warn"], t["jpeg_blocking.ratio"]
    gridded = ratio > rthr
    verdict = "pass"
    thr = rej
    if score < rej and gridded:
        verdict = "reject"
    elif score < warn and (gridded or ratio > 1.1):
        verdict, thr = "warn", warn
    if verdict == "pass":
        msg = f"no visible JPEG blocking (quality score {score:.1f}, 8x8 edge ratio {ratio:.2f})"
    else:
        msg = (
            f"JPEG blocking: quality score {score:.1f} (needs ≥ {thr:g}), 8x8 block edges {ratio:.2f}x "
            "stronger than the texture; look for 8x8 blocks in smooth areas at full size; re-export as PNG "
            "or regenerate"
        )
    return make("jpeg_blocking", verdict, score, thr, "lower_is_worse", msg)  # type: ignore[arg-type]


def fft_hf_share(y: np.ndarray) -> float:
    """Share of the spectral magnitude above half Nyquist (DC excluded), on a centre crop <= 1024²."""
    h, w = y.shape
    ch, cw = min(h, 1024), min(w, 1024)
    crop = y[(h - ch) // 2 : (h - ch) // 2 + ch, (w - cw) // 2 : (w - cw) // 2 + cw].astype(np.float32)
    crop = crop - crop.mean()
    mag = np.abs(scipy.fft.rfft2(crop))  # single precision throughout (numpy's FFT: 3x the time)
    mag[0, 0] = 0.0
    total = float(mag.sum())
    if total <= 0:
        return 0.0
    return float(mag[_high_band(ch, cw)].sum()) / total


@lru_cache(maxsize=8)
def _high_band(h: int, w: int) -> np.ndarray:
    """Mask of the rfft2 bins of an h x w picture above half Nyquist."""
    fy = np.fft.fftfreq(h).astype(np.float32)[:, None]
    fx = np.fft.rfftfreq(w).astype(np.float32)[None, :]
    return np.asarray(fy * fy + fx * fx > 0.25 * 0.25)


def laplacian(y: np.ndarray) -> np.ndarray:
    return y[1:-1, :-2] + y[1:-1, 2:] + y[:-2, 1:-1] + y[2:, 1:-1] - 4.0 * y[1:-1, 1:-1]


def tile_laplacian_p90(y: np.ndarray, grid: int = 8) -> float:
    lap = laplacian(y.astype(np.float32))
    h, w = lap.shape
    th, tw = h // grid, w // grid
    if th < 4 or tw < 4:
        return float(lap.var())
    tiles = lap[: th * grid, : tw * grid].reshape(grid, th, grid, tw)
    var = tiles.var(axis=(1, 3))
    return float(np.percentile(var, 90))


EDGE_CONTRAST = 12.0  # a "strong edge" changes luma by at least this much over 3 px (8-bit codes)
EDGE_MIN_PIXELS = 200


def crisp_edge_ratio(y: np.ndarray, q: float = 99.5) -> float:
    """How crisp the crispest edges are: the ``q``-th percentile of |1-px step| / |3-px step| over strong edges.

    Both steps are centred on the same half-pixel, horizontally and vertically. A focused edge does all its
    change within one pixel (ratio towards 1; texture and noise go above); a Gaussian-blurred edge of sigma s
    spreads it out (about 0.38 for s = 1.5, 0.2 for s = 3). Taking a high percentile over the strong edges
    asks "is *anything* in focus", so a shallow depth of field or a soft but focused photo keeps a high
    value while a uniformly blurred or upscaled one does not. Contrast-invariant; ~20 ms at 1024².
    Strong edges are steps >= 12 codes over 3 px (fewer than 200: the 99th percentile step, at least 4).
    """
    y = y.astype(np.float32, copy=False)
    if min(y.shape) < 8:
        return 1.0
    # horizontal and vertical steps (along axis 1, then axis 0: no transposed copy; OpenCV's absdiff is one
    # pass where numpy's abs of a difference is two)
    steps = [
        (cv2.absdiff(y[:, 2:-1], y[:, 1:-2]), cv2.absdiff(y[:, 3:], y[:, :-3])),
        (cv2.absdiff(y[2:-1], y[1:-2]), cv2.absdiff(y[3:], y[:-3])),
    ]
    thr = EDGE_CONTRAST
    strong = [g3 >= thr for _, g3 in steps]
    if sum(int(np.count_nonzero(m)) for m in strong) < EDGE_MIN_PIXELS:
        g3_all = np.concatenate([g3.ravel() for _, g3 in steps])
        k = max(0, g3_all.size - EDGE_MIN_PIXELS)
        thr = max(4.0, float(np.partition(g3_all, k)[k]))
        if int(np.count_nonzero(g3_all >= thr)) < 20:
            return 1.0  # no edges at all (flat): nothing to judge, leave it to the other measures
        strong = [g3 >= thr for _, g3 in steps]
    r = np.concatenate([g1[m] / g3[m] for (g1, g3), m in zip(steps, strong, strict=True)])
    k = min(r.size - 1, round(q / 100.0 * (r.size - 1)))
    return float(np.partition(r, k)[k])


def check_blur(s: Still, t: dict[str, float]) -> Check:
    """Reject only when the spectrum is poor in fine detail AND not even the crispest edges are sharp.

    Warn when both are soft, one of them only nearly (``blur.warn`` / ``blur.edge.warn``), or when no tile is
    crisply in focus (``blur.laplacian``); the warning quotes PIQE as a third opinion. One soft measure alone
    does not warn: a shallow depth of field leaves the spectrum poor and the subject's edges crisp.
    """
    y = s.work_luma
    hf = fft_hf_share(y)
    crisp = crisp_edge_ratio(y)
    lap90 = tile_laplacian_p90(y)
    hf_bad = hf < t["blur"]
    edge_bad = crisp < t["blur.edge"]
    hf_soft = hf < t["blur.warn"]
    edge_soft = crisp < t["blur.edge.warn"]
    lap_bad = lap90 < t["blur.laplacian"]
    detail = (
        f"fine-detail share {hf:.3f} (needs ≥ {t['blur']:g}), crispest edges {crisp:.3f} "
        f"(needs ≥ {t['blur.edge']:g}), sharpest tiles' Laplacian var {lap90:.0f}"
    )
    if hf_bad and edge_bad:
        return make("blur", "reject", hf, t["blur"], "lower_is_worse", f"blurred / lacks detail: {detail}")
    if (hf_bad and edge_soft) or (edge_bad and hf_soft) or lap_bad:
        why = "no tile is crisply in focus" if lap_bad and not (hf_soft and edge_soft) else "nearly blurred"
        pq = piqe(y).score  # only for borderline stills (~60 ms)
        return make(
            "blur",
            "warn",
            hf,
            t["blur"],
            "lower_is_worse",
            f"possibly soft ({why}): {detail}, PIQE {pq:.0f}; look at the subject's edges at full size",
        )
    return make("blur", "pass", hf, t["blur"], "lower_is_worse", f"sharp: {detail}")


def _box_mean(a: np.ndarray, k: int) -> np.ndarray:
    """k x k box mean with edge padding (OpenCV's box filter with replicated borders)."""
    src = np.ascontiguousarray(a, dtype=np.float32)
    return np.asarray(cv2.boxFilter(src, cv2.CV_32F, (k, k), borderType=cv2.BORDER_REPLICATE))


# a subject cut off by an edge leaves the half of the frame away from that edge (nearly) without sharp detail;
# when this much of the sharp mass lies there, the in-focus detail spans the frame (a close-up or macro that
# fills it), and its running into an edge is the framing, not a cut-off subject (gate-bench dev: 0.32 on a
# frame-filling drop close-up; a sharp disc half out of a soft frame 0.01; a landscape's foreground 0.0)
FRAME_FILLING = 0.25


def check_subject_cutoff(s: Still, t: dict[str, float]) -> Check:
    """Warn when the sharp (in-focus) mass piles up against one edge of the frame while the half of the frame
    away from that edge holds less than ``FRAME_FILLING`` of it (a subject that fills the frame passes)."""
    y = s.small_luma
    if min(y.shape) < 64:
        return make(
            "subject_cutoff", "pass", 0.0, t["subject_cutoff"], "higher_is_worse", "too small to measure"
        )
    lap = np.pad(laplacian(y), 1, mode="edge")
    k = max(5, round(min(y.shape) * 31 / 1024) * 2 + 1)
    energy = np.log1p(_box_mean(lap * lap, k))
    cut = np.percentile(energy, 80)
    mass = np.where(energy >= cut, energy, 0.0)
    total = float(mass.sum())
    if total <= 0 or float(energy.max() - np.median(energy)) < 1.0:
        return make(
            "subject_cutoff",
            "pass",
            0.0,
            t["subject_cutoff"],
            "higher_is_worse",
            "no distinct in-focus subject",
        )
    h, w = y.shape
    bh, bw = max(1, math.ceil(0.03 * h)), max(1, math.ceil(0.03 * w))
    edges = {
        "top": float(mass[:bh].sum()) / total,
        "bottom": float(mass[-bh:].sum()) / total,
        "left": float(mass[:, :bw].sum()) / total,
        "right": float(mass[:, -bw:].sum()) / total,
    }
    side = max(edges, key=lambda e: edges[e])
    score = edges[side] - float(np.median(list(edges.values())))
    rej, warn = t["subject_cutoff.reject"], t["subject_cutoff"]
    far = {
        "top": mass[h // 2 :],
        "bottom": mass[: h // 2],
        "left": mass[:, w // 2 :],
        "right": mass[:, : w // 2],
    }
    spread = float(far[side].sum()) / total
    if spread >= FRAME_FILLING and score >= warn:
        return make(
            "subject_cutoff",
            "pass",
            score,
            warn,
            "higher_is_worse",
            f"in-focus detail fills the frame ({spread:.0%} of it in the half away from the {side} edge, "
            f"where {score:.1%} of it runs into the edge): a frame-filling subject, not one cut off",
        )
    return graded(
        "subject_cutoff",
        score,
        "higher_is_worse",
        rej,
        warn,
        ok=f"in-focus detail stays inside the frame (edge excess {score:.3f})",
        bad=(
            f"the in-focus subject runs into the {side} edge ({score:.1%} of its sharp mass in the "
            "border band, limit {thr:.1%}): it may be cut off; look at that edge of the frame"
        ),
    )

"""Background warping / "melting": deformation of the picture that no camera move explains.

Method (gate.md §3): dense optical flow (OpenCV DIS) between sample frames 0.5 s apart and a homography
fitted to it robustly (RANSAC) on textured points: the camera move. The homographies are chained back to a
reference frame, the later frame is warped onto the reference with the chained move, and DIS (medium preset)
runs again between the two: a rigid camera move over a still scene leaves near zero everywhere, a melt leaves
a smooth displacement field that grows with time. A second homography fit absorbs drift of the chain (and
re-registers it). The field's median over each 30-px block of textured pixels (flow in flat sky or shadow is
noise), outside burned-in overlays, gives the score: its 95th percentile, held over two samples in a row, in
pixels of a 1920-wide frame,
and never more than twice what a later sample against the same reference shows (a melt stays). Curl and divergence of the block field say whether it swirls or bulges; the
message lists the score at each sample time (its growth). The reference moves on when less than half of it
is still in view, and after black or flat frames.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from goldenchain.core.checks import Check
from goldenchain.gates.decode import Clip
from goldenchain.gates.grading import graded, make

_W = 480  # analysis width (px)
_STEP = 4  # grid step of the flow samples used for fitting and scoring
_SPACING = 0.5  # seconds between sample frames
_MIN_POINTS = 60
_FLAT = 4.0  # a frame whose luma std is below this (black, faded out) carries no motion
_EDGE = 25  # px (at _W) kept clear of where the reference leaves the current frame
_TEXTURE = 1.0e-5  # noise floor of the 5x5 structure tensor's min eigenvalue (OpenCV's normalised units)


@dataclass
class WarpTrace:
    """Per sample time: seconds, residual score (px at 1920 wide), p99 |curl| and |div| (1/s-free, per px)."""

    times: list[float]
    scores: list[float]
    curl: list[float]
    div: list[float]
    #: the reference frame each sample was measured against
    refs: list[int] = field(default_factory=list)

    @property
    def worst(self) -> tuple[float, float, float, float]:
        """(score, seconds, curl, divergence) where the deformation is largest *and persists*: a melt stays
        (and grows) against the reference, so each sample counts with the lower of itself and the next one,
        and no more than twice what any later sample against the same reference still shows; a flow error
        (repetitive texture, a zoom through it) comes and goes."""
        if not self.scores:
            return 0.0, 0.0, 0.0, 0.0
        s = self.scores
        refs = self.refs if len(self.refs) == len(s) else [0] * len(s)
        held = [min(s[k], s[k + 1]) for k in range(len(s) - 1)] if len(s) > 1 else list(s)
        for k in range(len(held)):
            later = [s[j] for j in range(k + 2, len(s)) if refs[j] == refs[k]]
            if later:
                held[k] = min(held[k], 2.0 * min(later))
        i = int(np.argmax(held))
        return held[i], self.times[i], self.curl[i], self.div[i]


def _small(f: np.ndarray) -> np.ndarray:
    h, w = f.shape
    if w <= _W:
        return f
    return cv2.resize(f, (_W, max(8, round(h * _W / w))), interpolation=cv2.INTER_AREA)


def _soft(f: np.ndarray) -> np.ndarray:
    return np.asarray(cv2.GaussianBlur(f, (5, 5), 1.0))


def _fit(flow: np.ndarray, mask: np.ndarray, min_share: float = 0.0) -> tuple[np.ndarray | None, int]:
    """Homography from a flow field by RANSAC on grid points where ``mask`` holds; (H, inliers)."""
    h, w = mask.shape
    ys, xs = np.mgrid[_STEP // 2 : h : _STEP, _STEP // 2 : w : _STEP]
    m = mask[ys, xs]
    if int(m.sum()) < _MIN_POINTS:
        return None, 0
    src = np.stack([xs[m], ys[m]], axis=-1).astype(np.float32)
    dst = src + flow[ys[m], xs[m]]
    hom, inl = cv2.findHomography(src, dst, cv2.RANSAC, 1.0, maxIters=500, confidence=0.99)
    if hom is None or inl is None or int(inl.sum()) < max(_MIN_POINTS, min_share * len(src)):
        return None, 0
    return hom, int(inl.sum())


def _flow(dis: cv2.DISOpticalFlow, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Dense flow from a to b (H x W x 2, float32)."""
    return np.asarray(dis.calc(a, b, np.zeros((*a.shape, 2), np.float32)))


def _grid(shape: tuple[int, int]) -> np.ndarray:
    """Pixel coordinates (H x W x 2, float32: x, y)."""
    ys, xs = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float32)
    return np.stack([xs, ys], axis=-1)


def _hom_flow(hom: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """The displacement field (H x W x 2) of a homography over the pixel ``grid`` (:func:`_grid`)."""
    mapped = cv2.perspectiveTransform(grid.reshape(-1, 1, 2), hom).reshape(grid.shape)
    return mapped - grid


def _texture(f: np.ndarray) -> np.ndarray:
    """Pixels where flow can be trusted: the top 40 % by structure-tensor min eigenvalue, above a noise floor."""
    ev = cv2.cornerMinEigenVal(f, 5, ksize=3)
    return ev > max(_TEXTURE, float(np.percentile(ev[::4, ::4], 60)))


def _blocks(res: np.ndarray, use: np.ndarray, block: int) -> np.ndarray:
    """Median residual vector of the usable pixels in each block x block cell (NaN where under a third usable)."""
    h, w = use.shape
    by, bx = h // block, w // block
    u = (
        use[: by * block, : bx * block]
        .reshape(by, block, bx, block)
        .transpose(0, 2, 1, 3)
        .reshape(by, bx, -1)
    )
    cnt = u.sum(axis=-1)
    out = np.full((by, bx, 2), np.nan, np.float32)
    k = np.maximum(cnt - 1, 0) // 2
    for c in range(2):
        r = res[: by * block, : bx * block, c].reshape(by, block, bx, block).transpose(0, 2, 1, 3)
        vals = np.where(u, r.reshape(by, bx, -1), np.inf)
        vals.sort(axis=-1)  # unusable pixels (inf) sort last; the median is at index (count - 1) // 2
        out[..., c] = np.take_along_axis(vals, k[..., None], axis=-1)[..., 0]
    out[cnt < (block * block) / 3] = np.nan
    return out


def trace_warp(frames: list[np.ndarray], fps: float, overlay: np.ndarray | None = None) -> WarpTrace:
    """Residual deformation against a reference frame at every sample time (see the module docstring).

    ``overlay`` marks static structure in frame coordinates (from
    :func:`~goldenchain.gates.clip_checks.static_structure`); those of its pixels whose flow stays near zero
    while the camera move carries the scene on (a burned-in logo) in at least half of the pairs so far are left
    out: they do not move with the scene. Static structure the camera barely moves is kept.
    """
    n = len(frames)
    step = max(1, round(fps * _SPACING))
    idx = list(range(0, n, step))
    if idx[-1] != n - 1 and n - 1 - idx[-1] >= step // 2:
        idx.append(n - 1)
    # the last sample has no later one to confirm it: confirm it with one a few frames before the end, so that
    # a melt that is still growing when the clip ends counts at (nearly) its full size
    near_end = n - 1 - max(1, step // 4)
    if len(idx) > 2 and idx[-1] == n - 1 and idx[-2] < near_end:
        idx.insert(-1, near_end)
    dis = cv2.DISOpticalFlow.create(cv2.DISOPTICAL_FLOW_PRESET_FAST)
    fine = cv2.DISOpticalFlow.create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    small = {i: _small(frames[i]) for i in idx}
    h, w = small[idx[0]].shape
    scale = 1920.0 / w
    block = max(8, w // 16)
    candidate = overlay if overlay is not None and overlay.shape == (h, w) else np.ones((h, w), bool)
    stuck = np.zeros((h, w), np.int32)  # pairs in which a pixel stayed put although the camera moved it
    moved = 0
    static = np.zeros((h, w), np.uint8)
    trace = WarpTrace([], [], [], [], [])
    ref = idx[0]
    ref_tex = _texture(small[ref]) & (static == 0)
    chain = np.eye(3)  # reference coords -> current sample coords
    prev = ref
    ones = np.ones((h, w), np.float32)
    grid = _grid((h, w))
    for i in idx[1:]:
        a, b = small[prev], small[i]
        prev = i
        flat = float(b.std()) < _FLAT or float(a.std()) < _FLAT
        flow = None if flat else _flow(dis, a, b)
        hom = None if flow is None else _fit(flow, _texture(a) & (static == 0), min_share=0.3)[0]
        if flow is not None and hom is not None:
            cam = np.hypot(*np.moveaxis(_hom_flow(hom, grid), -1, 0))
            if float(np.median(cam)) > 1.0:
                # overlay pixels: static structure whose flow is ~0 where the camera moved the scene
                moved += 1
                stuck += candidate & (np.hypot(flow[..., 0], flow[..., 1]) < 0.25 * cam)
                over = stuck * 2 >= moved
                static = np.asarray(cv2.dilate(over.astype(np.uint8), np.ones((15, 15), np.uint8)), np.uint8)
        if hom is None:  # black, flat or unrelated frames: start again from here
            ref, ref_tex, chain = i, _texture(b) & (static == 0), np.eye(3)
            continue
        chain = hom @ chain
        # the current frame seen in reference coordinates by the chained camera move
        inv = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
        back = cv2.warpPerspective(b, chain, (w, h), flags=inv)
        inside = (
            cv2.warpPerspective(ones, chain, (w, h), flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP) > 0.5
        )
        back = np.where(inside, back, small[ref])  # no artificial edge where the frame has moved out of view
        valid = cv2.erode(inside.astype(np.uint8), np.ones((_EDGE, _EDGE), np.uint8)) > 0
        if valid.mean() < 0.5:  # the reference has mostly left the frame: move it here
            ref, ref_tex, chain = i, _texture(b) & (static == 0), np.eye(3)
            continue
        moved_static = cv2.warpPerspective(
            static, chain, (w, h), flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP
        )
        # both sides smoothed a little: resampling a fine repetitive texture (planks, tiles) by the camera's
        # zoom leaves moiré that the flow would read as local motion; a melt is far smoother than that
        res = _flow(fine, _soft(small[ref]), _soft(np.asarray(back, dtype=np.uint8)))
        use = valid & ref_tex & (moved_static == 0)
        hom2, _ = _fit(res, use)
        if hom2 is not None:
            res = res - _hom_flow(hom2, grid)
            chain = chain @ hom2  # registered to the reference: the chain does not drift
        med = _blocks(res, use, block)
        ok = ~np.isnan(med[..., 0])
        if int(ok.sum()) < 8:
            continue
        mag = np.hypot(med[..., 0], med[..., 1])[ok]
        filled = np.where(np.isnan(med), 0.0, med)
        du_dy, du_dx = np.gradient(filled[..., 0])
        dv_dy, dv_dx = np.gradient(filled[..., 1])
        inner = ok.copy()
        inner[1:-1, 1:-1] &= ok[:-2, 1:-1] & ok[2:, 1:-1] & ok[1:-1, :-2] & ok[1:-1, 2:]
        inner[[0, -1], :] = False
        inner[:, [0, -1]] = False
        curl = np.abs(dv_dx - du_dy)[inner] / block if inner.any() else np.zeros(1)
        div = np.abs(du_dx + dv_dy)[inner] / block if inner.any() else np.zeros(1)
        trace.times.append(i / fps)
        trace.refs.append(ref)
        trace.scores.append(float(np.percentile(mag, 95)) * scale)
        trace.curl.append(float(np.percentile(curl, 95)))
        trace.div.append(float(np.percentile(div, 95)))
    return trace


def check_warp(c: Clip, t: dict[str, float], overlay: np.ndarray | None = None) -> Check:
    rej, warn = t["warp"], t["warp.warn"]
    fps = c.fps or 24.0
    if c.n_frames < max(4, round(fps * _SPACING) + 1):
        return make("warp", "pass", 0.0, rej, "higher_is_worse", "too short to measure")
    tr = trace_warp(c.frames, fps, overlay)
    worst, at, curl, div = tr.worst
    if not tr.scores:
        return make("warp", "pass", 0.0, rej, "higher_is_worse", "not measured: no textured background")
    kind = "swirls" if curl > 1.5 * div else ("bulges / shrinks" if div > 1.5 * curl else "bends")
    growth = ", ".join(f"{s:.1f}" for s in tr.scores)
    return graded(
        "warp",
        worst,
        "higher_is_worse",
        rej,
        warn,
        inclusive=True,
        ok=f"motion is explained by a camera move (residual {worst:.1f} px at 1920 wide)",
        bad=(
            f'the picture {kind} in a way no camera move explains ("melting"): non-rigid displacement '
            f"{worst:.1f} px (1920-wide frame) by {at:.1f} s, limit {{thr:g}}; growth over time [{growth}] px; "
            f"curl {curl:.3f}, divergence {div:.3f}"
        ),
    )


__all__ = ["WarpTrace", "check_warp", "trace_warp"]

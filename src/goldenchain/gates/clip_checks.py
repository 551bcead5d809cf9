"""The clip checks (gate.md §3), on the small gray frames of :class:`~goldenchain.gates.decode.Clip`."""

from __future__ import annotations

import cv2
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from goldenchain.core.checks import Check
from goldenchain.gates.banding import CambiUnavailable, cambi_frames, even_gray
from goldenchain.gates.decode import Clip
from goldenchain.gates.grading import graded, make
from goldenchain.gates.quality import _box_mean


def check_spec(
    c: Clip,
    t: dict[str, float],
    duration: float | None,
    size: tuple[int, int] | None,
    fps: float | None,
) -> Check:
    diffs: list[str] = []
    if c.codec != "h264":
        diffs.append(f"codec {c.codec} (expected h264)")
    if size is not None and (c.width, c.height) != tuple(size):
        diffs.append(f"size {c.width}x{c.height} (expected {size[0]}x{size[1]})")
    if fps is not None and abs(c.fps / fps - 1.0) > t["spec.fps"]:
        diffs.append(f"{c.fps:.3g} fps (expected {fps:g})")
    if duration is not None:
        if abs(c.duration - duration) > t["spec"]:
            diffs.append(f"duration {c.duration:.2f} s (expected {duration:g} s ± {t['spec']:g})")
        want = (fps or c.fps) * duration
        if want and abs(c.n_frames - want) > t["spec.frames"]:
            diffs.append(f"{c.n_frames} frames (expected about {want:.0f})")
    facts = f"{c.codec} {c.width}x{c.height} {c.fps:.3g} fps {c.duration:.2f} s {c.n_frames} frames"
    if diffs:
        return make(
            "spec",
            "reject",
            len(diffs),
            1.0,
            "higher_is_worse",
            "does not match the request: " + "; ".join(diffs),
        )
    return make("spec", "pass", 0.0, 1.0, "higher_is_worse", facts)


def _longest_run(flags: np.ndarray) -> tuple[int, int]:
    """(length, start index) of the longest run of True."""
    best, best_start, run, start = 0, 0, 0, 0
    for i, f in enumerate(flags.tolist()):
        if f:
            if run == 0:
                start = i
            run += 1
            if run > best:
                best, best_start = run, start
        else:
            run = 0
    return best, best_start


def frame_means(c: Clip) -> np.ndarray:
    return np.array([float(f.mean()) for f in c.frames])


def check_black_frames(c: Clip, t: dict[str, float], means: np.ndarray) -> Check:
    fps = c.fps or 24.0
    n, start = _longest_run(means < t["black_frames.luma"])
    secs = n / fps
    where = f" at {start / fps:.2f}–{(start + n) / fps:.2f} s" if n else ""
    return graded(
        "black_frames",
        secs,
        "higher_is_worse",
        t["black_frames"],
        inclusive=True,
        ok=f"no black run (longest {n} frames{where})",
        bad=f"black frames for {secs:.2f} s{where} (limit {{thr:g}} s)",
    )


def pair_mae(c: Clip) -> np.ndarray:
    if c.n_frames < 2:
        return np.zeros(0)
    out = np.empty(c.n_frames - 1)
    prev = c.frames[0].astype(np.int16)
    for i, f in enumerate(c.frames[1:]):
        cur = f.astype(np.int16)
        out[i] = float(np.abs(cur - prev).mean())
        prev = cur
    return out


def _still_pairs(frames: list[np.ndarray] | np.ndarray, mae: np.ndarray, limit: float) -> np.ndarray:
    """Pair i (frames i, i+1) is still when it barely differs from its neighbour *and* from the first frame of
    the still run it extends: a slow pan moves less than the limit per frame but drifts away from the anchor,
    while a frozen picture stays near it (within twice the limit: x264 keeps refining a held picture)."""
    still = np.zeros(len(mae), dtype=bool)
    anchor = 0
    for i, d in enumerate(mae):
        if d < limit:
            drift = float(np.abs(frames[i + 1].astype(np.float32) - frames[anchor].astype(np.float32)).mean())
            if drift < 2.0 * limit:  # the encoder keeps refining a held picture a little; a pan drifts far
                still[i] = True
                continue
        anchor = i + 1
    return still


def check_freeze(c: Clip, t: dict[str, float], mae: np.ndarray) -> Check:
    fps = c.fps or 24.0
    # low-contrast (dark, hazy) footage moves with smaller differences: scale the still-frame limit down
    contrast = float(np.median([f.std() for f in c.frames[:: max(1, c.n_frames // 12)]]))
    limit = t["freeze.mae"] * min(1.0, max(0.1, contrast / 30.0))
    k, start = _longest_run(_still_pairs(c.frames, mae, limit))
    n = k + 1 if k else 0  # k still pairs = k + 1 identical frames
    secs = n / fps
    where = f" at {start / fps:.2f}–{(start + n) / fps:.2f} s" if n else ""
    whole = n >= c.n_frames
    return graded(
        "freeze",
        secs,
        "higher_is_worse",
        t["freeze"],
        inclusive=True,
        ok=f"moves throughout (longest still run {n} frames)",
        bad=("the whole clip is a still image" if whole else f"picture frozen for {secs:.2f} s{where}")
        + " (limit {thr:g} s)",
    )


def check_flicker(c: Clip, t: dict[str, float], means: np.ndarray) -> Check:
    if len(means) < 5:
        return make("flicker", "pass", 0.0, t["flicker"], "higher_is_worse", "too short to measure")
    # a 9-frame running median follows fades and pans but not a dip or strobe of up to 4 frames
    med = np.median(sliding_window_view(np.pad(means, 4, mode="edge"), 9), axis=1)
    dev = np.abs(means - med)
    i = int(dev.argmax())
    jump = float(dev[i])
    fps = c.fps or 24.0
    return graded(
        "flicker",
        jump,
        "higher_is_worse",
        t["flicker"],
        t["flicker.warn"],
        inclusive=True,
        ok=f"brightness steady (largest jump {jump:.1f} levels)",
        bad=f"brightness flicker: a {jump:.1f}-level jump at {i / fps:.2f} s (limit {{thr:g}})",
    )


def ssim(a: np.ndarray, b: np.ndarray, k: int = 7) -> float:
    a = a.astype(np.float32)
    b = b.astype(np.float32)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    ma, mb = _box_mean(a, k), _box_mean(b, k)
    va = _box_mean(a * a, k) - ma * ma
    vb = _box_mean(b * b, k) - mb * mb
    cov = _box_mean(a * b, k) - ma * mb
    s = ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2))
    return float(s.mean())


def still_like(rgb: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The still as gray, centre-cropped to the clip's aspect and resized to ``shape`` (h, w)."""
    from PIL import Image

    h, w = shape
    sh, sw = rgb.shape[:2]
    want = w / h
    if sw / sh > want:
        cw = round(sh * want)
        rgb = rgb[:, (sw - cw) // 2 : (sw - cw) // 2 + cw]
    else:
        ch = round(sw / want)
        rgb = rgb[(sh - ch) // 2 : (sh - ch) // 2 + ch]
    im = Image.fromarray(np.ascontiguousarray(rgb)).convert("L").resize((w, h), Image.Resampling.BILINEAR)
    return np.asarray(im, dtype=np.uint8)


def _small(a: np.ndarray, width: int = 320) -> np.ndarray:
    from PIL import Image

    h, w = a.shape
    if w <= width:
        return a
    return np.asarray(
        Image.fromarray(a).resize((width, max(2, round(h * width / w))), Image.Resampling.BILINEAR)
    )


def check_first_frame(c: Clip, t: dict[str, float], still: np.ndarray | None) -> Check:
    if still is None:
        return make("first_frame", "pass", 1.0, t["first_frame"], "lower_is_worse", "no still given")
    f0 = _small(c.frames[0])
    ref = still_like(still, f0.shape)
    score = ssim(f0, ref)
    return graded(
        "first_frame",
        score,
        "lower_is_worse",
        t["first_frame"],
        t["first_frame.warn"],
        ok=f"starts from the submitted still (SSIM {score:.2f})",
        bad=f"first frame does not match the submitted still: SSIM {score:.2f} (needs ≥ {{thr:g}})",
    )


def _grad(f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return cv2.Sobel(f, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(f, cv2.CV_32F, 0, 1, ksize=3)


def _sample_grads(c: Clip) -> np.ndarray:
    """Sobel gradients (N x 2 x H x W, float32) of up to 30 sampled frames (black or flat ones skipped); cached."""
    cached = c.cache.get("grads")
    if isinstance(cached, np.ndarray):
        return cached
    samples = [f for f in c.frames[:: max(1, c.n_frames // 30)] if float(f.std()) >= 4.0]
    h, w = c.frames[0].shape
    g = np.empty((len(samples), 2, h, w), np.float32)
    for k, f in enumerate(samples):
        g[k, 0], g[k, 1] = _grad(f)
    c.cache["grads"] = g
    return g


def static_structure(c: Clip) -> np.ndarray:
    """The static-edge mask over up to 30 sampled frames (black or flat ones skipped).

    With the camera moving, the gradient *vectors* of the scene change from sample to sample while a burned-in
    overlay's stay put (Dekel et al. 2017): static structure is where the gradient's spread over time is under
    a quarter of its mean (a translucent overlay keeps its own edge and lets the moving background through).
    Cached on the clip: the warp check leaves these pixels out of its flow statistics.
    """
    cached = c.cache.get("static")
    if isinstance(cached, np.ndarray):
        return cached
    g = _sample_grads(c)
    if len(g) < 4:
        out = np.zeros(c.frames[0].shape, bool)
    else:
        sx, sy, sq = np.zeros_like(g[0, 0]), np.zeros_like(g[0, 0]), np.zeros_like(g[0, 0])
        for gx, gy in g:
            sx += gx
            sy += gy
            sq += gx * gx + gy * gy
        k = 1.0 / len(g)
        sx *= k
        sy *= k
        mag2 = sx * sx + sy * sy
        spread2 = np.maximum(sq * k - mag2, 0.0)  # mean |g_t - mean g|^2
        out = (mag2 > _STATIC_EDGE**2) & (spread2 < (0.25**2) * mag2)
    c.cache["static"] = out
    return out


def consensus_static(c: Clip, where: np.ndarray) -> np.ndarray:
    """Static structure at the pixels ``where`` by a robust rule (Dekel et al. 2017 take the median too).

    A translucent overlay over a busy, moving background has its own edge in most frames, but strong scene
    edges pass under it now and then and swell its spread; the mean test of :func:`static_structure` then
    misses it. Here the gradient's per-pixel median over the samples is the consensus edge, and a pixel is
    static when that edge is strong and the median distance of the samples from it is under half its size.
    Only the given pixels are measured (the median is costly over the whole frame).
    """
    out = np.zeros(where.shape, bool)
    g = _sample_grads(c)
    if len(g) < 4 or not where.any():
        return out
    ys, xs = np.nonzero(where)
    v = g[:, :, ys, xs]  # N x 2 x P
    med = np.median(v, axis=0)
    mag = np.hypot(med[0], med[1])
    mad = np.median(np.hypot(v[:, 0] - med[0], v[:, 1] - med[1]), axis=0)
    out[ys, xs] = (mag > _STATIC_EDGE) & (mad < 0.5 * mag)
    return out


_STATIC_EDGE = 40.0  # Sobel magnitude (a step of ~10 codes) of an edge that counts as structure
_CORNERS = {(0, 0): "top-left", (0, 1): "top", (0, 2): "top-right", (1, 0): "left", (1, 1): "centre",
            (1, 2): "right", (2, 0): "bottom-left", (2, 1): "bottom", (2, 2): "bottom-right"}  # fmt: skip


def check_watermark(c: Clip, t: dict[str, float], still: np.ndarray | None) -> Check:
    """Static edges that persist through the clip and that the still does not have (logo, text, badge)."""
    rej, warn = t["watermark"], t["watermark.warn"]
    if still is None or c.n_frames < 8:
        why = "no still given" if still is None else "clip too short"
        return make("watermark", "pass", 0.0, rej, "higher_is_worse", f"not measured ({why})")
    h, w = c.frames[0].shape
    ref = still_like(still, (h, w))
    rx, ry = _grad(cv2.GaussianBlur(ref, (3, 3), 0))
    fx, fy = _grad(cv2.GaussianBlur(c.frames[0], (3, 3), 0))
    # a static edge that frame 0 shares with the still is the scene (or an overlay the still has too)
    unexplained = cv2.magnitude(fx - rx, fy - ry) > 0.5 * cv2.magnitude(fx, fy) + 20.0
    odd = (static_structure(c) | consensus_static(c, unexplained)) & unexplained
    odd = odd.astype(np.uint8)
    grown = np.asarray(cv2.dilate(odd, np.ones((5, 5), np.uint8)), dtype=np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(grown, connectivity=8)
    best, where = 0.0, ""
    if n > 1:
        counts = np.bincount(labels[odd > 0], minlength=n)
        counts[0] = 0
        k = int(counts.argmax())
        best = float(counts[k]) / (h * w)
        x0, y0, bw, bh = (int(v) for v in stats[k, :4])
        cx, cy = x0 + bw / 2, y0 + bh / 2
        where = _CORNERS[(min(2, int(3 * cy / h)), min(2, int(3 * cx / w)))]
        sx_, sy_ = c.width / w, c.height / h
        where += f" (x {x0 * sx_:.0f}–{(x0 + bw) * sx_:.0f}, y {y0 * sy_:.0f}–{(y0 + bh) * sy_:.0f})"
    return graded(
        "watermark",
        best * 1e4,
        "higher_is_worse",
        rej,
        warn,
        inclusive=True,
        ok=f"no static overlay found (largest static edge blob {best:.3%} of the frame)",
        bad=(
            f"a static overlay (logo / text / badge) stays on screen through the clip at the {where} and is "
            f"not in the still: {best:.3%} of the frame in static edges (limit {{thr:g}} per 10 000); "
            "check the frame there"
        ),
    )


def check_compression(c: Clip, t: dict[str, float]) -> Check:
    if not c.dark:
        return make(
            "compression", "pass", 0.0, t["compression"], "higher_is_worse", "no dark frames to inspect"
        )
    try:
        scores = cambi_frames([even_gray(f.astype(np.float32)) for f in c.dark], timeout=60.0)
    except (CambiUnavailable, ValueError, KeyError) as exc:
        return make("compression", "warn", 0.0, t["compression"], "higher_is_worse", f"not measured: {exc}")
    worst = max(scores) if scores else 0.0
    return graded(
        "compression",
        worst,
        "higher_is_worse",
        t["compression"],
        t["compression.warn"],
        inclusive=True,
        ok=f"dark frames clean (CAMBI {worst:.1f} over {len(scores)} frames)",
        bad=f"banding / macroblocking in dark frames: CAMBI {worst:.1f} (limit {{thr:g}})",
    )

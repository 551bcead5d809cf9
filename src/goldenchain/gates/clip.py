"""The clip check: :func:`check_clip` decodes once, shares the frames between the checks, never raises on a bad file.

The cheap checks run first; optical flow (warp) and CAMBI (compression) are skipped once one has rejected.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from goldenchain.core.checks import Check, CheckReport
from goldenchain.errors import UsageError
from goldenchain.gates import clip_checks as cc
from goldenchain.gates.decode import ClipLoadError, decode_clip
from goldenchain.gates.grading import make
from goldenchain.gates.loading import ImageLoadError, load_still
from goldenchain.gates.profiles import resolve_clip
from goldenchain.gates.warp import check_warp

log = logging.getLogger(__name__)

CLIP_CHECKS = ("spec", "black_frames", "freeze", "first_frame", "flicker", "warp", "watermark", "compression")
# cheap checks first; the costly ones (optical flow, CAMBI) are skipped once a cheaper one has rejected
_RUN_ORDER = ("spec", "black_frames", "freeze", "first_frame", "flicker", "watermark", "compression", "warp")
_COSTLY = frozenset({"warp", "compression"})


def check_clip(
    path: str | Path,
    *,
    still: str | Path | None = None,
    duration: float | None = None,
    size: tuple[int, int] | None = None,
    fps: float | None = None,
    thresholds: Mapping[str, float] | None = None,
) -> CheckReport:
    """Check one generated clip against the request (``duration`` s, ``size`` (w, h), ``fps``) and ``still``.

    An unknown threshold name raises ``UsageError``, and so does an unreadable ``still`` (it is our own
    input); an unreadable clip gives a report with verdict ``"error"``.
    """
    t = resolve_clip(thresholds)
    still_rgb: np.ndarray | None = None
    if still is not None:
        try:
            still_rgb = load_still(still).rgb
        except ImageLoadError as exc:
            raise UsageError(f"cannot read the still {still}: {exc}") from None
    start = time.perf_counter()
    try:
        clip = decode_clip(path, dark_luma=t["compression.dark"])
    except ClipLoadError as exc:
        return CheckReport(str(path), "error", time.perf_counter() - start, [], str(exc))
    except Exception as exc:  # a demuxer bug on a hostile file must not escape
        log.exception("unexpected error decoding %s", path)
        msg = f"cannot decode video: {type(exc).__name__}: {exc}"
        return CheckReport(str(path), "error", time.perf_counter() - start, [], msg)

    means = cc.frame_means(clip)
    mae = cc.pair_mae(clip)
    runners: dict[str, Callable[[], Check]] = {
        "spec": lambda: cc.check_spec(clip, t, duration, size, fps),
        "black_frames": lambda: cc.check_black_frames(clip, t, means),
        "freeze": lambda: cc.check_freeze(clip, t, mae),
        "first_frame": lambda: cc.check_first_frame(clip, t, still_rgb),
        "flicker": lambda: cc.check_flicker(clip, t, means),
        "watermark": lambda: cc.check_watermark(clip, t, still_rgb),
        "warp": lambda: check_warp(clip, t, cc.static_structure(clip)),
        "compression": lambda: cc.check_compression(clip, t),
    }
    done: dict[str, Check] = {}
    for name in _RUN_ORDER:
        rejected = [c.name for c in done.values() if c.verdict == "reject"]
        if name in _COSTLY and rejected:
            done[name] = make(
                name, "pass", 0.0, 0.0, "higher_is_worse", f"not measured: already rejected by {rejected[0]}"
            )
            continue
        if name == "watermark" and "first_frame" in rejected:
            # the overlay test compares frame 0 with the still: meaningless when they are different pictures
            done[name] = make(
                name, "pass", 0.0, 0.0, "higher_is_worse", "not measured: the first frame is not the still"
            )
            continue
        try:
            done[name] = runners[name]()
        except Exception as exc:  # one broken measurement must not sink the whole check
            log.exception("clip check %s failed on %s", name, path)
            done[name] = make(
                name, "warn", 0.0, 0.0, "higher_is_worse", f"not measured (internal error: {exc})"
            )
    checks = [done[name] for name in CLIP_CHECKS]
    return CheckReport(str(path), CheckReport.combine(checks), time.perf_counter() - start, checks)

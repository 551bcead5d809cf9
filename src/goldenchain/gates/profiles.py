"""Gate profiles: the thresholds of every image and clip check, by name.

A profile is a flat mapping of parameter names to numbers. The *primary* threshold of a check is keyed by the
check's own contract name (``"blur"``, ``"exposure"``, ...); secondary parameters use a dotted name
(``"exposure.light"``, ``"jpeg_blocking.warn"``). A ``thresholds`` mapping given to :func:`check_image` or
:func:`check_clip` overrides any of them, so ``{"resolution": 768}`` lowers the minimum short side.

A value of ``NaN`` for a ``*.reject`` style primary means "this check only warns".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType

from goldenchain.errors import UsageError

OFF = math.nan  # a threshold that never fires

_KLING: dict[str, float] = {
    # (a) resolution and provider limits
    "resolution": 1024.0,  # reject if min(w, h) below
    "resolution.provider_min": 300.0,  # Kling: start frame >= 300x300
    "resolution.provider_max_aspect": 2.5,  # Kling: aspect within 1:2.5 .. 2.5:1
    "resolution.provider_max_mb": 10.0,  # Kling: file <= 10 MB
    "resolution.provider_limits": 1.0,  # 1 = apply the three limits above
    # aspect vs the requested video aspect
    "aspect": 0.01,  # reject if |ratio / requested - 1| > 1 %
    # (f) exposure
    "exposure": 0.32,  # dark: reject if p99 brightness < 0.32
    "exposure.light": 0.95,  # light: reject if p5 brightness > 0.95
    "exposure.highlights": 0.16,  # warn if > 16 % of pixels at Y >= 250 (gate-bench dev: clean photos up to 15 %)
    "exposure.blacks": 0.10,  # warn if > 10 % of pixels at Y <= 5
    # (f) low information
    "low_information": 3.0,  # reject if luma entropy < 3 bits
    "low_information.warn": 4.0,
    # (b) JPEG blocking: Wang-Sheikh-Bovik score (higher is better) + 8x8 boundary ratio B/A
    "jpeg_blocking": 8.0,  # reject if WSB < 8 and B/A > 1.4
    "jpeg_blocking.warn": 8.9,  # warn if WSB < 8.9 (gate-bench dev: clean and q90 photos down to 8.99)
    "jpeg_blocking.ratio": 1.4,
    # (d1) blur: reject when the FFT high-frequency share AND the crisp-edge ratio are both low (gate-bench
    # dev fit: 0.2286 / 0.4948); the p90 tile Laplacian variance only adds a warning
    "blur": 0.22,  # FFT-HF share below this counts as soft
    "blur.edge": 0.49,  # p99.5 of |1-px step| / |3-px step| on strong edges below this: nothing is crisp
    # warn "nearly blurred": both measures soft, one of them only within 12 % of its reject line (gate-bench dev:
    # the crisp-edge ratio of clean photos whose share is below 0.22 starts at 0.558)
    "blur.warn": 0.24,  # share below this while the crisp-edge ratio is below blur.edge
    "blur.edge.warn": 0.55,  # crisp-edge ratio below this while the share is below blur
    "blur.laplacian": 1.9,  # warn: p90 tile Laplacian variance below this (no tile in focus; dev min 1.94)
    # (d2) subject cut off: share of top-20 % sharpness mass in a 3 % border band (warn only)
    "subject_cutoff": 0.07,  # research proposes 0.035 (synthetic); 0.07 keeps real deep-focus photos quiet
    "subject_cutoff.reject": OFF,
    # (c) banding: CAMBI, max_log_contrast=5
    "banding": 10.0,  # reject at >= 10
    "banding.warn": 8.8,  # gate-bench dev: clean photos with smooth skies reach CAMBI 8.76
    # near duplicate: pHash Hamming distance against recent stills
    "near_duplicate": 6.0,  # reject if <= 6 bits differ
    # lighting: warn only (centre vs surround illuminant disagreement, |log(R/B)| difference)
    "lighting": 1.0,
}

_DELIVERY = {
    **_KLING,
    "resolution": 1080.0,
    "resolution.provider_limits": 0.0,
    "aspect": 0.005,
    "jpeg_blocking.warn": 9.6,
}

_PREVIEW = {
    **_KLING,
    "resolution": 512.0,
    "resolution.provider_limits": 0.0,
    "aspect": 0.03,
    "exposure": 0.20,
    "exposure.light": 0.98,
    "exposure.highlights": 0.25,
    "exposure.blacks": 0.25,
    "low_information": 2.0,
    "low_information.warn": 3.0,
    "jpeg_blocking": 5.0,
    "jpeg_blocking.warn": 7.0,
    "jpeg_blocking.ratio": 2.0,
    "blur": 0.15,
    "blur.edge": 0.45,
    "blur.warn": 0.17,
    "blur.edge.warn": 0.50,
    "banding": 20.0,
    "banding.warn": 10.0,
    "near_duplicate": 3.0,
}

PROFILES: Mapping[str, Mapping[str, float]] = MappingProxyType(
    {
        "kling-i2v": MappingProxyType(_KLING),
        "delivery-still": MappingProxyType(_DELIVERY),
        "preview": MappingProxyType(_PREVIEW),
    }
)

DEFAULT_PROFILE = "kling-i2v"

CLIP_DEFAULTS: Mapping[str, float] = MappingProxyType(
    {
        "spec": 0.1,  # |duration - requested| tolerance, seconds
        "spec.frames": 2.0,  # |frames - fps * duration| tolerance, frames
        "spec.fps": 0.01,  # relative fps tolerance
        "black_frames": 0.25,  # reject a black run of at least this many seconds
        "black_frames.luma": 16.0,  # a frame is black if its mean luma (0-255, full range) is below
        "freeze": 0.5,  # reject a freeze of at least this many seconds
        "freeze.mae": 0.2,  # frames differ by less than this mean abs diff (8-bit; FFmpeg freezedetect: 0.26)
        "first_frame": 0.8,  # reject if SSIM(frame 0, still) below (gate.md: it should be nearly identical)
        "first_frame.warn": 0.9,
        "flicker": 5.0,  # reject a mean-luma jump off its 9-frame running median of at least this many codes
        "flicker.warn": 3.0,
        "warp": 8.0,  # reject: p95 non-rigid displacement (px, 1920-wide frame) left after the camera move
        "warp.warn": 5.0,
        "watermark": 3.0,  # reject: static edges absent from the still, largest blob, per 10 000 of the frame
        "watermark.warn": 1.5,
        "compression": 10.0,  # reject CAMBI (mlc 5) on dark frames at >= 10
        "compression.warn": 5.0,
        "compression.dark": 50.0,  # frames with mean luma below this count as dark
    }
)


def resolve(profile: str, overrides: Mapping[str, float] | None) -> dict[str, float]:
    """The thresholds of ``profile`` with ``overrides`` applied; unknown profile or key -> UsageError."""
    try:
        base = PROFILES[profile]
    except KeyError:
        raise UsageError(f"unknown gate profile {profile!r} (known: {', '.join(PROFILES)})") from None
    return _apply(dict(base), overrides, "image")


def resolve_clip(overrides: Mapping[str, float] | None) -> dict[str, float]:
    return _apply(dict(CLIP_DEFAULTS), overrides, "clip")


def _apply(params: dict[str, float], overrides: Mapping[str, float] | None, what: str) -> dict[str, float]:
    for key, value in (overrides or {}).items():
        if key not in params:
            raise UsageError(f"unknown {what} threshold {key!r}")
        params[key] = float(value)
    return params

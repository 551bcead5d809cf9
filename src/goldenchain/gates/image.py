"""The image quality gate: :func:`check_image` runs every still check and never raises on a bad file."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from goldenchain.core.checks import Check, CheckReport
from goldenchain.gates import banding, image_checks, quality
from goldenchain.gates.grading import make
from goldenchain.gates.loading import ImageLoadError, Still, load_still
from goldenchain.gates.profiles import DEFAULT_PROFILE, resolve

log = logging.getLogger(__name__)

# Contract check names in the order they run (cheap hard rules first).
IMAGE_CHECKS = (
    "resolution",
    "aspect",
    "exposure",
    "low_information",
    "jpeg_blocking",
    "banding",
    "blur",
    "subject_cutoff",
    "near_duplicate",
    "lighting",
)


def check_image(
    path: str | Path,
    *,
    profile: str = DEFAULT_PROFILE,
    aspect: str | None = None,
    thresholds: Mapping[str, float] | None = None,
    recent_hashes: Sequence[str] = (),
) -> CheckReport:
    """Run the gate on one still.

    ``aspect`` is the requested video aspect ("16:9"); ``recent_hashes`` are pHashes (:func:`image_phash`) of
    recently accepted stills. An unknown profile, threshold name or malformed aspect raises ``UsageError``;
    any problem with the file itself gives a report with verdict ``"error"``.
    """
    t = resolve(profile, thresholds)
    if aspect is not None:
        image_checks.parse_aspect(aspect)  # validate before any work
    start = time.perf_counter()
    try:
        still = load_still(path)
    except ImageLoadError as exc:
        return CheckReport(str(path), "error", time.perf_counter() - start, [], str(exc))
    except Exception as exc:  # a decoder bug on a hostile file must not escape
        log.exception("unexpected error decoding %s", path)
        msg = f"cannot decode image: {type(exc).__name__}: {exc}"
        return CheckReport(str(path), "error", time.perf_counter() - start, [], msg)

    runners: dict[str, Callable[[Still], Check]] = {
        "resolution": lambda s: image_checks.check_resolution(s, t),
        "aspect": lambda s: image_checks.check_aspect(s, aspect, t),
        "exposure": lambda s: image_checks.check_exposure(s, t),
        "low_information": lambda s: image_checks.check_low_information(s, t),
        "jpeg_blocking": lambda s: quality.check_jpeg_blocking(s, t),
        "banding": lambda s: banding.check_banding(s, t),
        "blur": lambda s: quality.check_blur(s, t),
        "subject_cutoff": lambda s: quality.check_subject_cutoff(s, t),
        "near_duplicate": lambda s: image_checks.check_near_duplicate(s, recent_hashes, t)[0],
        "lighting": lambda s: image_checks.check_lighting(s, t),
    }
    checks = [_safe(name, runners[name], still) for name in IMAGE_CHECKS]
    return CheckReport(str(path), CheckReport.combine(checks), time.perf_counter() - start, checks)


def image_phash(path: str | Path) -> str:
    """The 64-bit pHash (16 hex digits, ``imagehash``-compatible) of a still, for near-duplicate bookkeeping.

    Raises :class:`~goldenchain.gates.loading.ImageLoadError` when the file cannot be decoded.
    """
    from PIL import Image

    return image_checks.phash_of(Image.fromarray(load_still(path).rgb))


def _safe(name: str, fn: Callable[[Still], Check], still: Still) -> Check:
    try:
        return fn(still)
    except Exception as exc:  # one broken measurement must not sink the whole gate
        log.exception("gate check %s failed on %s", name, still.path)
        return make(name, "warn", 0.0, 0.0, "higher_is_worse", f"not measured (internal error: {exc})")

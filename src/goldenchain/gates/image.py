"""The image quality gate: :func:`check_image` runs every still check and never raises on a bad file."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

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
    report, _ = next(
        check_images(
            [path], profile=profile, aspect=aspect, thresholds=thresholds, recent_hashes=recent_hashes
        )
    )
    return report


def check_images(
    paths: Iterable[str | Path],
    *,
    profile: str = DEFAULT_PROFILE,
    aspect: str | None = None,
    thresholds: Mapping[str, float] | None = None,
    recent_hashes: Sequence[str] = (),
    chunk: int = 16,
) -> Iterator[tuple[CheckReport, str | None]]:
    """The gate over many stills, in order: (report, pHash or None when unreadable) for each.

    Each still is compared for near duplicates with ``recent_hashes`` and with the readable stills before it.
    Stills are decoded one at a time; CAMBI (an ffmpeg run) measures ``chunk`` of them at once, which halves
    its cost per still, and runs while the next chunk is measured here (a chunk's reports come once its CAMBI
    run is read). Same errors as :func:`check_image`.
    """
    t = resolve(profile, thresholds)
    if aspect is not None:
        image_checks.parse_aspect(aspect)  # validate before any work
    hashes = list(recent_hashes)
    pending: list[_Pending] = []
    running: list[tuple[list[_Pending], _Cambi]] = []  # at most one chunk whose CAMBI run is under way
    try:
        for path in paths:
            pending.append(_measure(path, t, aspect, hashes))
            if pending[-1].phash is not None:
                hashes.append(pending[-1].phash)
            if len(pending) >= chunk:
                running.append((pending, _Cambi(pending)))
                pending = []
                if len(running) > 1:
                    yield from _finish(*running.pop(0), t)
        running.append((pending, _Cambi(pending)))
        while running:
            yield from _finish(*running.pop(0), t)
    finally:
        for _, job in running:  # the caller stopped early: stop the runs nobody will read
            job.batch.close()


@dataclass
class _Pending:
    """A still measured by every check but banding, which waits for its chunk's CAMBI run."""

    path: str
    seconds: float
    checks: dict[str, Check] = field(default_factory=dict)
    frame: np.ndarray | None = None
    phash: str | None = None
    error: str | None = None


def _measure(path: str | Path, t: dict[str, float], aspect: str | None, hashes: list[str]) -> _Pending:
    start = time.perf_counter()
    try:
        still = load_still(path)
    except ImageLoadError as exc:
        return _Pending(str(path), time.perf_counter() - start, error=str(exc))
    except Exception as exc:  # a decoder bug on a hostile file must not escape
        log.exception("unexpected error decoding %s", path)
        msg = f"cannot decode image: {type(exc).__name__}: {exc}"
        return _Pending(str(path), time.perf_counter() - start, error=msg)
    found: list[str] = []

    def near_duplicate(s: Still) -> Check:
        check, h = image_checks.check_near_duplicate(s, hashes, t)
        found.append(h)
        return check

    runners: dict[str, Callable[[Still], Check]] = {
        "resolution": lambda s: image_checks.check_resolution(s, t),
        "aspect": lambda s: image_checks.check_aspect(s, aspect, t),
        "exposure": lambda s: image_checks.check_exposure(s, t),
        "low_information": lambda s: image_checks.check_low_information(s, t),
        "jpeg_blocking": lambda s: quality.check_jpeg_blocking(s, t),
        "blur": lambda s: quality.check_blur(s, t),
        "subject_cutoff": lambda s: quality.check_subject_cutoff(s, t),
        "near_duplicate": near_duplicate,
        "lighting": lambda s: image_checks.check_lighting(s, t),
    }
    out = _Pending(str(path), 0.0)
    out.checks = {name: _safe(name, fn, still) for name, fn in runners.items()}
    try:
        out.frame = banding.banding_frame(still)
    except Exception as exc:
        log.exception("gate check banding failed on %s", path)
        out.checks["banding"] = make("banding", "warn", 0.0, 0.0, "higher_is_worse", f"not measured: {exc}")
    if not found:  # the pHash failed inside the check: compute it again for the caller's bookkeeping
        try:
            found.append(image_checks.phash_of(Image.fromarray(still.rgb)))
        except Exception:
            log.exception("pHash failed on %s", path)
    out.phash = found[0] if found else None
    out.seconds = time.perf_counter() - start
    return out


class _Cambi:
    """The CAMBI runs of a chunk's stills that still need banding, started now."""

    def __init__(self, pending: list[_Pending]) -> None:
        self.todo = [p for p in pending if p.error is None and "banding" not in p.checks]
        # one ffmpeg thread: the run shares the machine with the measuring of the next chunk
        self.batch = banding.CambiBatch([p.frame for p in self.todo], threads=1)


def _finish(
    pending: list[_Pending], job: _Cambi, t: dict[str, float]
) -> Iterator[tuple[CheckReport, str | None]]:
    started = time.perf_counter()
    scores = job.batch.results()
    share = (time.perf_counter() - started) / max(1, len(job.todo))  # the wait; the rest ran beside us
    for p, sc in zip(job.todo, scores, strict=True):
        if isinstance(sc, str):
            p.checks["banding"] = banding.grade_banding(None, t, error=sc)
        else:
            p.checks["banding"] = banding.grade_banding(sc, t)
        p.frame = None
        p.seconds += share
    for p in pending:
        if p.error is not None:
            yield CheckReport(p.path, "error", p.seconds, [], p.error), None
            continue
        checks = [p.checks[name] for name in IMAGE_CHECKS]
        yield CheckReport(p.path, CheckReport.combine(checks), p.seconds, checks), p.phash


def image_phash(path: str | Path) -> str:
    """The 64-bit pHash (16 hex digits, ``imagehash``-compatible) of a still, for near-duplicate bookkeeping.

    Raises :class:`~goldenchain.gates.loading.ImageLoadError` when the file cannot be decoded.
    """
    return image_checks.phash_of(Image.fromarray(load_still(path).rgb))


def _safe(name: str, fn: Callable[[Still], Check], still: Still) -> Check:
    try:
        return fn(still)
    except Exception as exc:  # one broken measurement must not sink the whole gate
        log.exception("gate check %s failed on %s", name, still.path)
        return make(name, "warn", 0.0, 0.0, "higher_is_worse", f"not measured (internal error: {exc})")

"""Fit the gate's thresholds on two labelled folders: stills a person accepted and stills a person rejected.

:func:`measure` runs the gate on one file and keeps the raw feature behind every threshold (the CAMBI score,
the WSB score, the FFT share, ...). :func:`calibrate_scores` then fits, for each threshold key of the
profile, the cut that maximises balanced accuracy while keeping false rejects on the accepted set at or
below ``max_false_reject`` (3 % by default), and reports ROC-AUC, recall and false-reject rate at the
current and the proposed value. :func:`calibrate` does both on lists of paths.

A threshold here flags an image when its feature is on the bad side of the cut, alone: secondary
conditions of a check (the 8x8 ratio next to the WSB score, the crisp-edge ratio next to the FFT share) are
fitted as their own keys, so the fit of one key does not depend on another.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from goldenchain.gates import quality
from goldenchain.gates.image import check_image
from goldenchain.gates.image_checks import _brightness, blown_highlights
from goldenchain.gates.loading import ImageLoadError, load_still
from goldenchain.gates.profiles import DEFAULT_PROFILE, resolve

Direction = Literal["higher_is_worse", "lower_is_worse"]

MAX_FALSE_REJECT = 0.03
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp"})


@dataclass(frozen=True)
class Feature:
    key: str  # the profile threshold it is compared with
    check: str  # the gate check it belongs to
    direction: Direction
    what: str


# Every threshold that is compared with a per-image measurement (near_duplicate and aspect depend on
# context, not on the image alone, and are left out).
FEATURES: tuple[Feature, ...] = (
    Feature("resolution", "resolution", "lower_is_worse", "short side, px"),
    Feature("exposure", "exposure", "lower_is_worse", "p99 brightness (dark)"),
    Feature("exposure.light", "exposure", "higher_is_worse", "p5 brightness (light)"),
    Feature("exposure.highlights", "exposure", "higher_is_worse", "share of luma >= 250"),
    Feature("exposure.blacks", "exposure", "higher_is_worse", "share of luma <= 5"),
    Feature("low_information", "low_information", "lower_is_worse", "luma entropy, bits"),
    Feature("jpeg_blocking", "jpeg_blocking", "lower_is_worse", "Wang-Sheikh-Bovik score"),
    Feature("jpeg_blocking.ratio", "jpeg_blocking", "higher_is_worse", "8x8 boundary / inner ratio"),
    Feature("banding", "banding", "higher_is_worse", "CAMBI (max_log_contrast 5)"),
    Feature("blur", "blur", "lower_is_worse", "FFT share above half Nyquist"),
    Feature("blur.edge", "blur", "lower_is_worse", "crisp-edge ratio (p99.5 of 1-px / 3-px step)"),
    Feature("blur.laplacian", "blur", "lower_is_worse", "p90 tile Laplacian variance (warn only)"),
    Feature("subject_cutoff", "subject_cutoff", "higher_is_worse", "sharp mass in the border band"),
    Feature("lighting", "lighting", "higher_is_worse", "centre vs surround Δlog R/B"),
)
FEATURE_BY_KEY = {f.key: f for f in FEATURES}

# Reject rules that need *both* features on the bad side (see quality.check_jpeg_blocking / check_blur).
# Their two thresholds are fitted jointly: fitting each alone at 3 % false rejects and then AND-ing them
# would lose most of the recall.
AND_RULES: tuple[tuple[str, str], ...] = (
    ("jpeg_blocking", "jpeg_blocking.ratio"),
    ("blur", "blur.edge"),
)


@dataclass
class Measurement:
    """One file through the gate: the verdicts, the wall time of :func:`check_image`, the raw features."""

    path: str
    verdict: str
    seconds: float
    verdicts: dict[str, str] = field(default_factory=dict)
    features: dict[str, float] = field(default_factory=dict)
    error: str | None = None


def measure(path: str | Path, profile: str = DEFAULT_PROFILE) -> Measurement:
    """Run the gate on ``path`` (timed) and collect the raw feature behind each threshold key."""
    t0 = time.perf_counter()
    report = check_image(path, profile=profile)
    seconds = time.perf_counter() - t0
    m = Measurement(str(path), report.verdict, seconds, {c.name: c.verdict for c in report.checks})
    if report.verdict == "error":
        m.error = report.message
        return m
    try:
        s = load_still(path)
    except ImageLoadError as exc:  # pragma: no cover - check_image read it a moment ago
        m.error = str(exc)
        return m
    f = m.features
    by_name = {c.name: c for c in report.checks}
    f["resolution"] = float(min(s.width, s.height))
    bright = _brightness(s.small_rgb)
    p99, p5 = (float(x) for x in np.percentile(bright, [99, 5]))
    f["exposure"], f["exposure.light"] = p99, p5
    y = s.small_luma
    f["exposure.highlights"] = blown_highlights(y)[0]
    f["exposure.blacks"] = float(np.mean(y <= 5.0))
    f["low_information"] = by_name["low_information"].score
    yb = quality._aligned_crop(s.luma).astype(np.float32)
    if min(yb.shape) >= 32:
        b, a, z = quality.wsb_features(yb)
        f["jpeg_blocking"] = quality.wsb_score(b, a, z)
        f["jpeg_blocking.ratio"] = b / max(a, 1e-6)
    banding = by_name["banding"]
    f["banding"] = banding.score if "not measured" not in banding.message else math.nan
    f["blur"] = quality.fft_hf_share(s.work_luma)
    f["blur.edge"] = quality.crisp_edge_ratio(s.work_luma)
    f["blur.laplacian"] = quality.tile_laplacian_p90(s.work_luma)
    f["subject_cutoff"] = by_name["subject_cutoff"].score
    f["lighting"] = by_name["lighting"].score
    return m


def measure_all(
    paths: Sequence[str | Path], profile: str = DEFAULT_PROFILE, jobs: int = 1
) -> list[Measurement]:
    """:func:`measure` on every path, in ``jobs`` processes when > 1 (order kept)."""
    if jobs <= 1 or len(paths) < 2:
        return [measure(p, profile) for p in paths]
    with ProcessPoolExecutor(jobs) as pool:
        return list(pool.map(measure, paths, [profile] * len(paths), chunksize=4))


# --- statistics -------------------------------------------------------------------------------------


def roc_auc(neg: Sequence[float], pos: Sequence[float], direction: Direction) -> float:
    """Mann-Whitney AUC that a positive is *worse* than a negative (ties count half); NaN if a side is empty."""
    n = np.asarray([x for x in neg if math.isfinite(x)], dtype=np.float64)
    p = np.asarray([x for x in pos if math.isfinite(x)], dtype=np.float64)
    if n.size == 0 or p.size == 0:
        return math.nan
    if direction == "lower_is_worse":
        n, p = -n, -p
    allv = np.concatenate([n, p])
    order = allv.argsort(kind="mergesort")
    ranks = np.empty(allv.size, dtype=np.float64)
    sv = allv[order]
    i = 0
    while i < sv.size:  # average ranks over ties
        j = i
        while j + 1 < sv.size and sv[j + 1] == sv[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    r_pos = float(ranks[n.size :].sum())
    return (r_pos - p.size * (p.size + 1) / 2.0) / (p.size * n.size)


def flagged(values: Sequence[float], threshold: float, direction: Direction) -> np.ndarray:
    """Which values fall on the bad side of ``threshold`` (strictly); NaN values and thresholds never do."""
    v = np.asarray(values, dtype=np.float64)
    if math.isnan(threshold):
        return np.zeros(v.shape, dtype=bool)
    with np.errstate(invalid="ignore"):
        return (v > threshold) if direction == "higher_is_worse" else (v < threshold)


def rate(mask: np.ndarray) -> float:
    return float(mask.mean()) if mask.size else math.nan


def fit_threshold(
    neg: Sequence[float],
    pos: Sequence[float],
    direction: Direction,
    max_false_reject: float = MAX_FALSE_REJECT,
) -> float:
    """The cut maximising balanced accuracy with false rejects on ``neg`` <= ``max_false_reject``.

    Candidates are midpoints between consecutive distinct values (plus one beyond each end). Among equally
    good cuts the one in the middle of the best run is taken, so it sits away from both classes.
    Returns NaN when either side has no finite value.
    """
    n = np.asarray([x for x in neg if math.isfinite(x)], dtype=np.float64)
    p = np.asarray([x for x in pos if math.isfinite(x)], dtype=np.float64)
    if n.size == 0 or p.size == 0:
        return math.nan
    vals = np.unique(np.concatenate([n, p]))
    span = float(vals[-1] - vals[0]) or 1.0
    cands = np.concatenate([[vals[0] - 0.01 * span], (vals[:-1] + vals[1:]) / 2.0, [vals[-1] + 0.01 * span]])
    if direction == "higher_is_worse":
        fr = (n[None, :] > cands[:, None]).mean(axis=1)
        tp = (p[None, :] > cands[:, None]).mean(axis=1)
    else:
        fr = (n[None, :] < cands[:, None]).mean(axis=1)
        tp = (p[None, :] < cands[:, None]).mean(axis=1)
    bal = (tp + (1.0 - fr)) / 2.0
    bal = np.where(fr <= max_false_reject + 1e-12, bal, -1.0)
    best = float(bal.max())
    idx = np.flatnonzero(np.isclose(bal, best, rtol=0, atol=1e-12))
    # the longest consecutive run of best candidates, then its middle
    runs: list[list[int]] = [[int(idx[0])]]
    for k in idx[1:]:
        if k == runs[-1][-1] + 1:
            runs[-1].append(int(k))
        else:
            runs.append([int(k)])
    run = max(runs, key=len)
    return float(cands[run[len(run) // 2]])


def _candidates(values: np.ndarray, n: int = 80) -> np.ndarray:
    vals = np.unique(values)
    if vals.size > n:
        vals = np.unique(np.quantile(vals, np.linspace(0, 1, n)))
    span = float(vals[-1] - vals[0]) or 1.0
    mids = (vals[:-1] + vals[1:]) / 2.0
    return np.concatenate([[vals[0] - 0.01 * span], mids, [vals[-1] + 0.01 * span]])


def fit_and_rule(
    neg: np.ndarray,
    pos: np.ndarray,
    directions: tuple[Direction, Direction],
    max_false_reject: float = MAX_FALSE_REJECT,
) -> tuple[float, float]:
    """Joint cuts (t1, t2) for "flag when feature 1 AND feature 2 are bad", maximising balanced accuracy with
    false rejects <= ``max_false_reject``. ``neg`` / ``pos`` are (n, 2) arrays without NaN rows.
    Ties are broken towards fewer false rejects, then the middle of the tied cuts."""
    if len(neg) == 0 or len(pos) == 0:
        return math.nan, math.nan
    allv = np.concatenate([neg, pos])
    c1, c2 = _candidates(allv[:, 0]), _candidates(allv[:, 1])

    def bad(x: np.ndarray, c: np.ndarray, d: Direction) -> np.ndarray:  # (len(c), n)
        return (x[None, :] > c[:, None]) if d == "higher_is_worse" else (x[None, :] < c[:, None])

    n1, n2 = bad(neg[:, 0], c1, directions[0]), bad(neg[:, 1], c2, directions[1])
    p1, p2 = bad(pos[:, 0], c1, directions[0]), bad(pos[:, 1], c2, directions[1])
    fr = (n1[:, None, :] & n2[None, :, :]).mean(axis=2)
    tp = (p1[:, None, :] & p2[None, :, :]).mean(axis=2)
    score = np.where(fr <= max_false_reject + 1e-12, (tp + 1.0 - fr) / 2.0 - 1e-6 * fr, -1.0)
    best = np.argwhere(np.isclose(score, score.max(), rtol=0, atol=1e-12))
    i, j = best[len(best) // 2]
    return float(c1[i]), float(c2[j])


# --- results --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ThresholdFit:
    key: str
    check: str
    direction: Direction
    current: float
    proposed: float
    auc: float
    recall_current: float
    false_reject_current: float
    recall_proposed: float
    false_reject_proposed: float
    n_accepted: int
    n_rejected: int
    rule: str = ""  # for a key of an AND rule: recall / false rejects are of the joint rule

    @property
    def changed(self) -> bool:
        if math.isnan(self.proposed):
            return False
        if math.isnan(self.current):
            return True
        return not math.isclose(self.current, self.proposed, rel_tol=1e-3, abs_tol=1e-9)

    @property
    def useful(self) -> bool:
        """The fit is worth applying: the feature separates (AUC >= 0.6) and the proposal catches more or
        rejects fewer good stills than today."""
        if not self.changed or not (self.auc >= 0.6 or self.rule):
            return False
        better_recall = self.recall_proposed > self.recall_current + 1e-9
        fewer_fr = self.false_reject_proposed < self.false_reject_current - 1e-9
        return better_recall or fewer_fr

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        for k, v in d.items():
            if isinstance(v, float) and not math.isfinite(v):
                d[k] = None
        d["changed"] = self.changed
        d["useful"] = self.useful
        return d


@dataclass(frozen=True)
class CalibrationResult:
    profile: str
    max_false_reject: float
    n_accepted: int
    n_rejected: int
    fits: list[ThresholdFit]
    errors: list[str] = field(default_factory=list)  # "path: reason" of files that could not be read

    def proposed_overrides(self, only_useful: bool = True) -> dict[str, float]:
        """Threshold key -> proposed value, for the fits worth applying (all changed ones if not only_useful)."""
        return {f.key: f.proposed for f in self.fits if (f.useful if only_useful else f.changed)}

    def to_json(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "max_false_reject": self.max_false_reject,
            "n_accepted": self.n_accepted,
            "n_rejected": self.n_rejected,
            "fits": [f.to_json() for f in self.fits],
            "proposed_overrides": self.proposed_overrides(),
            "errors": self.errors,
        }

    def to_toml(self) -> str:
        lines = [
            f"# goldenchain gate calibrate: profile {self.profile}, {self.n_accepted} accepted / "
            f"{self.n_rejected} rejected stills, false rejects <= {self.max_false_reject:.0%}",
            "[gate.thresholds]",
        ]
        fits = {f.key: f for f in self.fits}
        for key, value in self.proposed_overrides().items():
            f = fits[key]
            lines.append(
                f'"{key}" = {_num(value)}  # was {_num(f.current)}; AUC {f.auc:.3f}, recall '
                f"{f.recall_current:.0%} -> {f.recall_proposed:.0%}, false rejects "
                f"{f.false_reject_current:.0%} -> {f.false_reject_proposed:.0%}"
            )
        return "\n".join(lines) + "\n"


def _num(x: float) -> str:
    if math.isnan(x):
        return "nan"
    return f"{x:.6g}" if "e" not in f"{x:.6g}" else repr(float(x))


def _both(x: np.ndarray, a: float, b: float, dirs: tuple[Direction, Direction]) -> np.ndarray:
    return flagged(list(x[:, 0]), a, dirs[0]) & flagged(list(x[:, 1]), b, dirs[1])


def calibrate_scores(
    accepted: Iterable[Mapping[str, float]],
    rejected: Iterable[Mapping[str, float]],
    *,
    profile: str = DEFAULT_PROFILE,
    keys: Sequence[str] | None = None,
    max_false_reject: float = MAX_FALSE_REJECT,
) -> CalibrationResult:
    """Fit every threshold key (or ``keys``) on precomputed feature mappings (see :func:`measure`)."""
    current = resolve(profile, None)
    acc, rej = list(accepted), list(rejected)
    fits: list[ThresholdFit] = []
    for feat in FEATURES:
        if keys is not None and feat.key not in keys:
            continue
        neg = [float(a.get(feat.key, math.nan)) for a in acc]
        pos = [float(r.get(feat.key, math.nan)) for r in rej]
        cur = current[feat.key]
        prop = fit_threshold(neg, pos, feat.direction, max_false_reject)
        fits.append(
            ThresholdFit(
                key=feat.key,
                check=feat.check,
                direction=feat.direction,
                current=cur,
                proposed=prop,
                auc=roc_auc(neg, pos, feat.direction),
                recall_current=rate(flagged(pos, cur, feat.direction)),
                false_reject_current=rate(flagged(neg, cur, feat.direction)),
                recall_proposed=rate(flagged(pos, prop, feat.direction)),
                false_reject_proposed=rate(flagged(neg, prop, feat.direction)),
                n_accepted=sum(1 for x in neg if math.isfinite(x)),
                n_rejected=sum(1 for x in pos if math.isfinite(x)),
            )
        )
    by_key = {f.key: i for i, f in enumerate(fits)}
    for k1, k2 in AND_RULES:
        if k1 not in by_key or k2 not in by_key:
            continue
        f1, f2 = FEATURE_BY_KEY[k1], FEATURE_BY_KEY[k2]
        nx = np.array([[float(a.get(k1, math.nan)), float(a.get(k2, math.nan))] for a in acc]).reshape(-1, 2)
        px = np.array([[float(r.get(k1, math.nan)), float(r.get(k2, math.nan))] for r in rej]).reshape(-1, 2)
        nx = nx[np.isfinite(nx).all(axis=1)]
        px = px[np.isfinite(px).all(axis=1)]
        dirs = (f1.direction, f2.direction)
        t1, t2 = fit_and_rule(nx, px, dirs, max_false_reject)

        cur1, cur2 = current[k1], current[k2]
        for key, prop in ((k1, t1), (k2, t2)):
            old = fits[by_key[key]]
            fits[by_key[key]] = ThresholdFit(
                key=key,
                check=old.check,
                direction=old.direction,
                current=old.current,
                proposed=prop,
                auc=old.auc,
                recall_current=rate(_both(px, cur1, cur2, dirs)),
                false_reject_current=rate(_both(nx, cur1, cur2, dirs)),
                recall_proposed=rate(_both(px, t1, t2, dirs)),
                false_reject_proposed=rate(_both(nx, t1, t2, dirs)),
                n_accepted=len(nx),
                n_rejected=len(px),
                rule=f"{k1} AND {k2}",
            )
    return CalibrationResult(profile, max_false_reject, len(acc), len(rej), fits)


def calibrate(
    accepted: list[Path],
    rejected: list[Path],
    *,
    profile: str = DEFAULT_PROFILE,
    jobs: int = 1,
    max_false_reject: float = MAX_FALSE_REJECT,
) -> CalibrationResult:
    """Run every check on both sets and fit each threshold (see the module docstring)."""
    resolve(profile, None)  # unknown profile -> UsageError before any work
    ma = measure_all(accepted, profile, jobs)
    mr = measure_all(rejected, profile, jobs)
    res = calibrate_scores(
        [m.features for m in ma if m.error is None],
        [m.features for m in mr if m.error is None],
        profile=profile,
        max_false_reject=max_false_reject,
    )
    errors = [f"{m.path}: {m.error}" for m in (*ma, *mr) if m.error is not None]
    return CalibrationResult(
        res.profile, res.max_false_reject, res.n_accepted, res.n_rejected, res.fits, errors
    )


def image_files(folder: Path) -> list[Path]:
    """The image files directly inside ``folder`` (by suffix), sorted."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)

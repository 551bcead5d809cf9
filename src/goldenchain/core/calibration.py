"""Calibration metrics and their drift (pure): what one calibration run measured per prompt, and how each
metric moved against the last calibration of the same routes, inside or outside its band.

A metric is named ``gate.<check>`` (a still's image-gate score), ``qc.<check>`` (a clip-check score),
``first_frame`` (the clip's first frame against the still), ``still.cost_usd`` / ``clip.cost_usd``,
``still.latency_s`` / ``clip.latency_s`` (the provider accepting the task to its result on our disk), and the
counts ``refused`` (moderation refusals), ``still.rejected`` and ``clip.rejected``."""

from __future__ import annotations

import hashlib
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

__all__ = [
    "COUNTS",
    "Drift",
    "compare",
    "label_of",
    "prompt_metrics",
    "seed_for",
]

#: metrics summed over the prompts (a new one is flagged); the others are the median over the prompts
COUNTS = ("refused", "still.rejected", "clip.rejected")
#: checks whose score says nothing about the model: the same prompts and seeds make the same stills each time
SKIPPED_CHECKS = frozenset({"near_duplicate"})

#: (prompt, metric, value, threshold)
Row = tuple[str, str, float, float | None]


def seed_for(prompt_id: str) -> int:
    """The fixed seed of a calibration prompt: the same every run, on every machine."""
    return int(hashlib.sha256(f"calibration:{prompt_id}".encode()).hexdigest()[:8], 16) % 2**31


def _last(takes: Iterable[Any], stage: str) -> Any | None:
    mine = [t for t in takes if t.stage == stage]
    return max(mine, key=lambda t: t.take) if mine else None


def prompt_metrics(prompt_id: str, takes: list[Any], latencies: Mapping[int, float]) -> list[Row]:
    """One prompt's metrics from its shot's takes (:class:`~goldenchain.core.takes.Take`, checks included)."""
    rows: list[Row] = [
        (prompt_id, "refused", float(any(t.failure_class == "moderation" for t in takes)), None)
    ]
    for stage, prefix in (("still", "gate"), ("clip", "qc")):
        t = _last(takes, stage)
        if t is None or t.state != "downloaded":
            continue
        rows.append((prompt_id, f"{stage}.rejected", float(t.verdict == "reject"), None))
        if t.cost_usd is not None:
            rows.append((prompt_id, f"{stage}.cost_usd", float(t.cost_usd), None))
        if t.id in latencies:
            rows.append((prompt_id, f"{stage}.latency_s", float(latencies[t.id]), None))
        for c in t.checks:
            if c.name in SKIPPED_CHECKS:
                continue
            name = "first_frame" if stage == "clip" and c.name == "first_frame" else f"{prefix}.{c.name}"
            rows.append((prompt_id, name, float(c.score), float(c.threshold)))
    return rows


_LABELS = {
    "refused": "moderation refusals",
    "still.rejected": "stills the gate rejected",
    "clip.rejected": "clips the check rejected",
    "still.cost_usd": "cost per still (USD)",
    "clip.cost_usd": "cost per clip (USD)",
    "still.latency_s": "still latency (s)",
    "clip.latency_s": "clip latency (s)",
    "first_frame": "first-frame similarity",
}


def label_of(metric: str) -> str:
    if metric in _LABELS:
        return _LABELS[metric]
    kind, _, check = metric.partition(".")
    return f"{'gate' if kind == 'gate' else 'clip check'} {check}"


@dataclass(frozen=True)
class Drift:
    """One metric now and at the last calibration: its drift and band, and whether it left the band."""

    metric: str
    label: str
    now: float | None
    last: float | None
    drift: float | None  #: now - last, in the metric's unit
    relative: float | None  #: drift / last, where last is not 0
    band: float | None  #: the band's half width: relative (cost, latency) or in the metric's unit
    band_kind: str  #: relative | absolute | count
    flagged: bool
    prompts: int  #: prompts behind the figure (for a median: prompts measured in both runs)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _band(metric: str, thresholds: list[float], bands: Any) -> tuple[float, str]:
    if metric in COUNTS:
        return float(bands.new_failures), "count"
    if metric.endswith(".cost_usd"):
        return float(bands.cost), "relative"
    if metric.endswith(".latency_s"):
        return float(bands.latency), "relative"
    if metric == "first_frame":
        return float(bands.first_frame), "absolute"
    if metric in bands.scores:
        return float(bands.scores[metric]), "absolute"
    thr = statistics.median(abs(t) for t in thresholds) if thresholds else 0.0
    return float(bands.score) * (thr if thr > 0 else 1.0), "absolute"


def _by_prompt(rows: Iterable[Row]) -> dict[str, dict[str, tuple[float, float | None]]]:
    out: dict[str, dict[str, tuple[float, float | None]]] = {}
    for p, m, v, t in rows:
        out.setdefault(m, {})[p] = (v, t)
    return out


def compare(now: list[Row], last: list[Row] | None, bands: Any) -> list[Drift]:
    """Every metric of ``now`` against ``last`` (None: a first run, the baseline: nothing is flagged).

    Counts are summed over the prompts; any other metric is the median over the prompts measured in both runs
    (a prompt refused in one run does not move the others' median). ``bands``: the project's
    ``[calibration]`` section."""
    cur, old = _by_prompt(now), _by_prompt(last or [])
    out: list[Drift] = []
    for metric in sorted(cur, key=_order):
        values = cur[metric]
        before = old.get(metric, {})
        band, kind = _band(metric, [t for _, t in values.values() if t is not None], bands)
        if metric in COUNTS:
            n = sum(v for v, _ in values.values())
            was = sum(v for v, _ in before.values()) if last is not None else None
            drift = None if was is None else n - was
            flagged = drift is not None and drift > band
            out.append(Drift(metric, label_of(metric), n, was, drift, None, band, kind, flagged, len(values)))
            continue
        both = sorted(set(values) & set(before))
        pool = both or sorted(values)
        a = statistics.median(values[p][0] for p in pool)
        b = statistics.median(before[p][0] for p in both) if both else None
        drift = None if b is None else a - b
        rel = None if drift is None or b is None or b == 0 else drift / abs(b)
        if drift is None:
            flagged = False
        elif kind == "relative":
            off = abs(rel) if rel is not None else (0.0 if drift == 0 else float("inf"))
            floor = float(bands.latency_min_s) if metric.endswith(".latency_s") else 0.0
            flagged = off > band + 1e-9 and abs(drift) >= floor
        else:
            flagged = abs(drift) > band + 1e-9
        out.append(Drift(metric, label_of(metric), a, b, drift, rel, band, kind, flagged, len(pool)))
    return out


def _order(metric: str) -> tuple[int, str]:
    head = ("refused", "still.rejected", "clip.rejected", "still.cost_usd", "clip.cost_usd", "still.latency_s",
            "clip.latency_s", "first_frame")  # fmt: skip
    if metric in head:
        return head.index(metric), metric
    return (len(head) if metric.startswith("gate.") else len(head) + 1), metric

"""The failure archive that pays back: filters, a refund claim per provider, and failure patterns by prompt
feature and setting, with lint rules proposed from them."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

__all__ = ["Pattern", "filter_rows", "patterns", "proposed_rule", "refund_claim"]

#: failure classes a provider bills and that are a claim on it (a defective or failed paid result)
CLAIMABLE = frozenset({"provider_error", "timeout", "ambiguous", "qc_reject", "gate_reject"})
_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "on",
        "in",
        "with",
        "and",
        "at",
        "to",
        "for",
        "by",
        "from",
        "shot",
        "medium",
        "wide",
        "close",
        "lens",
        "light",
        "lighting",
        "mm",
    ]
)


def features(shot: dict[str, Any]) -> set[str]:
    """What a take's shot was asked for: prompt words, scene, and the camera and motion settings in bands."""
    words = {
        w for w in re.findall(r"[a-z]+", str(shot.get("prompt", "")).lower()) if w not in _STOP and len(w) > 2
    }
    out = {f"word:{w}" for w in words}
    out.add(f"scene:{shot.get('scene', '?')}")
    cam = shot.get("camera") or {}
    big = max((abs(float(v or 0)) for v in cam.values()), default=0.0)
    band = "camera:strong (>5)" if big > 5 else "camera:subtle"
    out.add(band)
    out.add(f"{band} & scene:{shot.get('scene', '?')}")  # the guide's rules are about the pair
    motion = int(shot.get("motion") or 0)
    out.add("motion:high (>=50)" if motion >= 50 else "motion:low")
    return out


def filter_rows(
    rows: list[dict[str, Any]],
    *,
    reason: str | None = None,
    model: str | None = None,
    feature: str | None = None,
    since: str | None = None,
) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        if reason and r["reason"] != reason:
            continue
        if model and model not in str(r["model"]):
            continue
        asked = f"{r.get('shot_prompt') or ''} {r.get('prompt') or ''}".lower()
        if feature and feature.lower() not in asked:
            continue
        if since and str(r.get("at") or "") < since:
            continue
        out.append(r)
    return out


def refund_claim(rows: list[dict[str, Any]], provider: str) -> str:
    """CSV of the failures ``provider`` billed: task id, time, charge, units and reason (ours and theirs)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["provider_task_id", "created_at", "shot", "stage", "model", "charged_usd", "units", "unit",
                "reason", "provider_message"])  # fmt: skip
    for r in rows:
        if not r["provider"].startswith(provider) or not (r.get("cost_usd") or 0) > 0:
            continue
        if r["reason"] not in CLAIMABLE or not r.get("provider_task_id"):
            continue
        w.writerow([r["provider_task_id"], r.get("at"), r["shot"], r["stage"], r["model"], r["cost_usd"],
                    r.get("billed_units"), r.get("unit"), r["reason"], r.get("message") or ""])  # fmt: skip
    return buf.getvalue()


@dataclass(frozen=True)
class Pattern:
    """A feature's failures. ``kind`` is the failure (reason class, and the check that rejected it) most
    tied to the feature; ``p_value`` is the one-sided Fisher exact test that takes with the feature fail
    that way more often than takes without it, adjusted for the false discovery rate (Benjamini-Hochberg)
    over the features that could be flagged (at least ``min_failures`` failures of that kind);
    ``flagged``: at least ``min_failures`` such failures and ``p_value`` under ``alpha``."""

    feature: str
    failures: int
    takes: int
    top_reason: str
    kind: str = ""
    kind_failures: int = 0
    p_value: float = 1.0
    flagged: bool = False

    @property
    def rate(self) -> float:
        return self.failures / self.takes if self.takes else 0.0

    def to_json(self) -> dict[str, Any]:
        return {**self.__dict__, "rate": round(self.rate, 4), "p_value": float(f"{self.p_value:.3g}")}


def patterns(
    takes: list[Any],
    shots: dict[str, dict[str, Any]],
    failed_ids: dict[int, str],
    *,
    min_failures: int = 3,
    alpha: float = 0.05,
) -> list[Pattern]:
    """Failure counts per feature over every used take, each tested against the takes without it.

    ``failed_ids``: take id -> how it failed (a reason class such as ``qc_reject``, or one with the check,
    ``qc_reject:flicker``). A feature is tested for every way its takes failed and for any failure; the
    smallest p-value counts. Flagged patterns come first, by p-value; then the rest, most failures first.
    """
    from scipy.stats import fisher_exact

    used = [t for t in takes if t.state in ("downloaded", "failed")]
    feats = [features(shots.get(t.shot_id, {})) for t in used]
    how = [failed_ids.get(t.id) for t in used]
    total = len(used)
    by_kind: Counter[str] = Counter(k for k in how if k)
    seen: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    reasons: dict[str, Counter[str]] = {}
    for fs, k in zip(feats, how, strict=True):
        for f in fs:
            seen[f] += 1
            if k:
                failed[f] += 1
                reasons.setdefault(f, Counter())[k] += 1
    tests: list[tuple[str, str, int, float]] = []
    for f in failed:
        n_f = seen[f]
        options = [(k, a, by_kind[k]) for k, a in reasons[f].items()]
        if len(options) > 1:
            options.append(("any", failed[f], sum(by_kind.values())))
        best = ("", 0, 1.0)
        for k, a, all_k in options:
            c = all_k - a
            table = [[a, n_f - a], [c, (total - n_f) - c]]
            p = float(fisher_exact(table, alternative="greater").pvalue)
            if p < best[2] or not best[0]:
                best = (k, a, p)
        tests.append((f, best[0], best[1], best[2]))
    # Benjamini-Hochberg over the tests that could be flagged (at least min_failures failures of their kind)
    eligible = sorted((p, f) for f, _, a, p in tests if a >= min_failures)
    m = len(eligible)
    adjusted: dict[str, float] = {}
    running = 1.0
    for rank in range(m, 0, -1):  # step-up: q_(i) = min over j >= i of p_(j) * m / j
        p, f = eligible[rank - 1]
        running = min(running, p * m / rank)
        adjusted[f] = running
    out = []
    for f, k, a, _p in tests:
        q = adjusted.get(f, 1.0)
        top = reasons[f].most_common(1)[0][0]
        out.append(Pattern(f, failed[f], seen[f], top, k, a, q, q < alpha))
    return sorted(out, key=lambda x: (not x.flagged, x.p_value if x.flagged else 1.0, -x.failures, -x.rate,
                                      x.feature))  # fmt: skip


def proposed_rule(p: Pattern, *, min_failures: int = 3, min_rate: float = 0.6) -> dict[str, str] | None:
    """A prompt word that fails often enough becomes a lint rule a person can accept."""
    if not p.feature.startswith("word:") or p.failures < min_failures or p.rate < min_rate:
        return None
    word = p.feature.split(":", 1)[1]
    return {
        "id": f"avoid-{word}",
        "severity": "warning",
        "message": f"'{word}' failed in {p.failures} of {p.takes} takes here ({p.top_reason})",
        "hint": f"describe it another way, or see goldenchain failures --feature {word}",
        "pattern": rf"(?i)\b{word}\b",
    }

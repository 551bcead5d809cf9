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
    out.add("camera:strong (>5)" if big > 5 else "camera:subtle")
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
    feature: str
    failures: int
    takes: int
    top_reason: str

    @property
    def rate(self) -> float:
        return self.failures / self.takes if self.takes else 0.0

    def to_json(self) -> dict[str, Any]:
        return {**self.__dict__, "rate": round(self.rate, 4)}


def patterns(takes: list[Any], shots: dict[str, dict[str, Any]], failed_ids: dict[int, str]) -> list[Pattern]:
    """Failure counts per feature over every used take; most frequent first."""
    seen: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    reasons: dict[str, Counter[str]] = {}
    for t in takes:
        if t.state not in ("downloaded", "failed"):
            continue
        for f in features(shots.get(t.shot_id, {})):
            seen[f] += 1
            if t.id in failed_ids:
                failed[f] += 1
                reasons.setdefault(f, Counter())[failed_ids[t.id]] += 1
    out = [Pattern(f, n, seen[f], reasons[f].most_common(1)[0][0]) for f, n in failed.items()]
    return sorted(out, key=lambda p: (-p.failures, -p.rate, p.feature))


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

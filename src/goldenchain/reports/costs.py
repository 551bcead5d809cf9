"""Spend summaries from the ledger's spend rows."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from goldenchain.store.schema import SpendRow, TakeRow


def summarize(spend: list[SpendRow], takes: list[TakeRow] | None = None) -> dict[str, Any]:
    """Committed spend (and open reservations) by provider, model, shot and day; waste on rejected takes."""
    by_provider: dict[str, float] = defaultdict(float)
    by_model: dict[str, float] = defaultdict(float)
    by_shot: dict[str, float] = defaultdict(float)
    by_day: dict[str, float] = defaultdict(float)
    credits: dict[str, float] = defaultdict(float)
    reserved = 0.0
    total = 0.0
    for r in spend:
        if r.state == "reserved":
            reserved += r.usd
            continue
        if r.state != "committed":
            continue
        total += r.usd
        by_provider[r.provider] += r.usd
        by_model[f"{r.provider}:{r.model}"] += r.usd
        by_shot[r.shot_id] += r.usd
        by_day[r.day] += r.usd
        if r.credits:
            credits[r.provider] += r.credits
    out: dict[str, Any] = {
        "total_usd": round(total, 4),
        "reserved_usd": round(reserved, 4),
        "by_provider": {k: round(v, 4) for k, v in sorted(by_provider.items())},
        "by_model": {k: round(v, 4) for k, v in sorted(by_model.items())},
        "by_shot": {k: round(v, 4) for k, v in sorted(by_shot.items())},
        "by_day": {k: round(v, 4) for k, v in sorted(by_day.items())},
        "credits": {k: round(v, 3) for k, v in sorted(credits.items())},
    }
    if takes is not None:
        cost = {t.id: (t.cost_usd or 0.0) for t in takes}
        wasted = sum(
            cost[t.id] for t in takes if t.verdict == "reject" or t.state in ("failed", "needs_review")
        )
        accepted = [t for t in takes if t.stage == "clip" and t.verdict in ("pass", "warn")]
        out["waste_usd"] = round(wasted, 4)
        out["waste_share"] = round(wasted / total, 4) if total else 0.0
        out["accepted_clips"] = len(accepted)
        out["cost_per_accepted_clip"] = round(total / len(accepted), 4) if accepted else None
    return out

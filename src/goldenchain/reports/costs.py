"""Spend summaries from the ledger's spend rows."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from typing import Any

from goldenchain.store.schema import SpendRow
from goldenchain.store.takes import Take


def accepted(review: str | None, state: str, verdict: str | None) -> bool:
    """A person's decision first, then the checks'."""
    if review:
        return review == "approved"
    return state == "downloaded" and verdict in ("pass", "warn")


def waste_reason(review: str | None, state: str, verdict: str | None) -> str | None:
    """Why a take's money bought nothing usable (``rejected_in_review``, ``rejected_by_check``, ``failed``),
    or None: a person's decision first, then the checks', then the take's own failure."""
    if review:
        return "rejected_in_review" if review == "rejected" else None
    if verdict == "reject":
        return "rejected_by_check"
    return "failed" if state in ("failed", "needs_review") else None


def is_accepted(t: Take) -> bool:
    return accepted(t.review, t.state, t.verdict)


def is_waste(t: Take) -> bool:
    """Money that bought nothing usable: a take rejected by a person or a check, or one that failed."""
    return waste_reason(t.review, t.state, t.verdict) is not None


def summarize(spend: list[SpendRow], takes: list[Take] | None = None) -> dict[str, Any]:
    """Committed spend (and open reservations) by provider, model, shot and day; waste on rejected takes."""
    by_provider: dict[str, float] = defaultdict(float)
    by_model: dict[str, float] = defaultdict(float)
    by_shot: dict[str, float] = defaultdict(float)
    by_day: dict[str, float] = defaultdict(float)
    by_day_provider: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
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
        by_day_provider[r.day][r.provider] += r.usd
        if r.credits:
            credits[r.provider] += r.credits
    out: dict[str, Any] = {
        "total_usd": round(total, 4),
        "reserved_usd": round(reserved, 4),
        "by_provider": {k: round(v, 4) for k, v in sorted(by_provider.items())},
        "by_model": {k: round(v, 4) for k, v in sorted(by_model.items())},
        "by_shot": {k: round(v, 4) for k, v in sorted(by_shot.items())},
        "by_day": {k: round(v, 4) for k, v in sorted(by_day.items())},
        "by_day_provider": {
            d: {p: round(v, 4) for p, v in sorted(ps.items())} for d, ps in sorted(by_day_provider.items())
        },
        "credits": {k: round(v, 3) for k, v in sorted(credits.items())},
    }
    if takes is not None:
        # by kind: the take's stage; draft stills (``run --draft``) apart from the final stills and the clips
        stage = {t.id: t.stage for t in takes}
        by_kind: dict[str, float] = defaultdict(float)
        for r in spend:
            if r.state == "committed":
                by_kind[stage.get(r.take_id, "other")] += r.usd
        out["by_kind"] = {k: round(v, 4) for k, v in sorted(by_kind.items())}
        out["draft_usd"] = round(by_kind.get("draft", 0.0), 4)
        cost = {t.id: (t.cost_usd or 0.0) for t in takes}
        wasted = sum(cost[t.id] for t in takes if is_waste(t))
        # one accepted clip per shot at most: the clip a person chose or approved, else one that passed
        accepted = {t.shot_id for t in takes if t.stage == "clip" and is_accepted(t)}
        out["waste_usd"] = round(wasted, 4)
        out["waste_share"] = round(wasted / total, 4) if total else 0.0
        out["accepted_clips"] = len(accepted)
        out["cost_per_accepted_clip"] = round(total / len(accepted), 4) if accepted else None
    return out


#: a forecast (days until credits run out) stands on at least this many days of spend
MIN_FORECAST_DAYS = 3


def burn(
    summary: dict[str, Any], spend: list[SpendRow], plan: Any, today: date | None = None
) -> dict[str, Any]:
    """Burn rate against the plan's allowance: dollars and Kling credits per day, days until credits run out."""
    from goldenchain.core.money import burn_rate, cycle_start, days_left

    today = today or datetime.now(UTC).date()
    spent_days = sorted(d for d, v in summary["by_day"].items() if v > 0)
    # a rate stands on the days since spending began (at most the 7-day window), never on empty days before it
    days = 0 if not spent_days else min(7, (today - date.fromisoformat(spent_days[0])).days + 1)
    window = max(1, days)
    usd_per_day = burn_rate(summary["by_day"], today, window)
    credits_by_day: dict[str, float] = defaultdict(float)
    for r in spend:
        if r.state == "committed" and r.provider == "kling" and r.credits:
            credits_by_day[r.day] += r.credits
    credits_per_day = burn_rate(dict(credits_by_day), today, window)
    out: dict[str, Any] = {
        "usd_per_day_7d": round(usd_per_day, 4),
        "kling_credits_per_day_7d": round(credits_per_day, 3),
        "days_of_data": days,
    }
    if days < MIN_FORECAST_DAYS:
        out["forecast_note"] = (
            f"no forecast: {days} day{'s' if days != 1 else ''} of data, {MIN_FORECAST_DAYS} needed"
        )
    monthly = plan.monthly_credits()
    if plan.kling_tier:
        out["kling_tier"] = plan.kling_tier
    if monthly:
        start = cycle_start(today, plan.cycle_start_day)
        used = sum(v for d, v in credits_by_day.items() if date.fromisoformat(d) >= start)
        left = monthly - used
        out.update(
            {
                "kling_monthly_credits": monthly,
                "kling_credits_used_this_cycle": round(used, 3),
                "kling_credits_left": round(left, 3),
                "days_until_credits_run_out": (
                    days_left(left, credits_per_day) if days >= MIN_FORECAST_DAYS else None
                ),
            }
        )
    return out

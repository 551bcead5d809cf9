from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from goldenchain.core.money import breakeven, burn_rate, cycle_start, days_left, reconcile


def test_burn_rate_window() -> None:
    by_day = {"2026-11-20": 7.0, "2026-11-24": 7.0, "2026-10-01": 100.0}
    assert burn_rate(by_day, date(2026, 11, 24), 7) == pytest.approx(2.0)
    assert days_left(10.0, 2.0) == 5.0
    assert days_left(10.0, 0.0) is None


def test_cycle_start() -> None:
    assert cycle_start(date(2026, 11, 24), 5) == date(2026, 11, 5)
    assert cycle_start(date(2026, 11, 3), 5) == date(2026, 10, 5)


def test_breakeven_the_guides_numbers() -> None:
    b = breakeven(0.05, 2.0, 120)
    assert b.breakeven_images_per_hour == pytest.approx(40.0)
    assert b.gpu_usd_per_image == pytest.approx(2.0 / 120)
    assert b.cheaper == "gpu"
    assert breakeven(0.01, 2.0, 120).cheaper == "api"
    with pytest.raises(ValueError):
        breakeven(0, 1, 1)


def test_reconcile_lists_every_kind_of_difference() -> None:
    diffs = reconcile({"a": 3.5, "b": 3.5, "c": 1.0}, {"a": 3.5, "b": 7.0, "d": 2.5})
    assert [(d.task_id, d.kind) for d in diffs] == [
        ("b", "amount_mismatch"),
        ("c", "missing_in_provider"),
        ("d", "missing_in_ledger"),
    ]


@given(st.dictionaries(st.text(min_size=1, max_size=4), st.floats(0, 100), max_size=8))
def test_reconcile_of_identical_is_empty(d: dict[str, float]) -> None:
    assert reconcile(d, dict(d)) == []


def test_kling_tiers_from_catalog_and_project() -> None:
    from goldenchain.config import PlanSection
    from goldenchain.core.pricing import KLING_TIERS, resolve_tier

    assert KLING_TIERS["prepaid-video-pack"].usd_per_credit == 0.14
    plan = PlanSection(kling_tier="studio", tiers={"studio": {"monthly_credits": 3000, "priority": True}})
    assert plan.monthly_credits() == 3000
    tier = resolve_tier("studio", plan.tiers)
    assert tier is not None and tier.priority and tier.source.startswith("goldenchain.toml")
    assert (
        PlanSection(kling_tier="studio", kling_monthly_credits=10, tiers=plan.tiers).monthly_credits() == 10
    )
    assert PlanSection(kling_tier="prepaid-video-pack").monthly_credits() is None
    with pytest.raises(ValueError, match="unknown kling_tier"):
        PlanSection(kling_tier="gold")

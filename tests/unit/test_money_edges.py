"""Edges of the money arithmetic: window bounds, zero spend, month boundaries, input checks and the exact
figures each difference carries."""

from __future__ import annotations

from datetime import date

import pytest

from goldenchain.core.money import breakeven, burn_rate, cycle_start, days_left, reconcile


def test_burn_rate_window_includes_both_ends_and_nothing_outside() -> None:
    today = date(2026, 11, 24)
    # the default window is 7 days: 18th .. 24th inclusive
    by_day = {"2026-11-18": 7.0, "2026-11-24": 14.0, "2026-11-17": 1000.0, "2026-11-25": 1000.0}
    assert burn_rate(by_day, today) == pytest.approx(3.0)
    assert burn_rate(by_day, today, 7) == pytest.approx(3.0)
    assert burn_rate({"2026-11-16": 8.0}, today, 8) == 0.0
    assert burn_rate({"2026-11-17": 8.0}, today, 8) == pytest.approx(1.0)
    # a one-day window is today only
    assert burn_rate({"2026-11-24": 5.0, "2026-11-23": 100.0}, today, 1) == pytest.approx(5.0)


@pytest.mark.parametrize("window", [0, -3])
def test_burn_rate_refuses_an_empty_window(window: int) -> None:
    with pytest.raises(ValueError, match=r"^window_days must be >= 1$"):
        burn_rate({}, date(2026, 11, 24), window)


def test_days_left_at_small_spend_and_when_overspent() -> None:
    assert days_left(1.0, 0.5) == 2.0  # spend below one dollar a day is still spend
    assert days_left(0.5, 0.25) == 2.0
    assert days_left(-3.0, 2.0) == 0.0  # already over: no days left, never negative
    assert days_left(10.0, -1.0) is None


def test_cycle_start_on_the_start_day_and_across_a_year() -> None:
    assert cycle_start(date(2026, 11, 5), 5) == date(2026, 11, 5)  # the start day itself opens a new cycle
    assert cycle_start(date(2026, 1, 3), 5) == date(2025, 12, 5)
    # the previous month is the one ending the day before the 1st, whatever its length
    assert cycle_start(date(2026, 3, 10), 28) == date(2026, 2, 28)


def test_breakeven_carries_its_inputs_and_ties_go_to_the_api() -> None:
    b = breakeven(0.05, 2.0, 120)
    assert (b.api_usd_per_image, b.gpu_usd_per_hour, b.gpu_images_per_hour) == (0.05, 2.0, 120)
    assert b.to_json()["cheaper"] == "gpu"
    # the same price per image: renting buys nothing
    assert breakeven(0.5, 1.0, 2.0).cheaper == "api"
    # below-one prices and throughputs are valid
    assert breakeven(0.5, 0.5, 0.5).gpu_usd_per_image == pytest.approx(1.0)


@pytest.mark.parametrize("args", [(0, 1, 1), (1, 0, 1), (1, 1, 0), (1, -1, 1), (1, 1, -1), (-1, 1, 1)])
def test_breakeven_refuses_non_positive_inputs(args: tuple[float, float, float]) -> None:
    with pytest.raises(ValueError, match=r"^prices and throughput must be positive$"):
        breakeven(*args)


def test_reconcile_differences_carry_both_amounts() -> None:
    diffs = reconcile({"a": 1.25, "b": 2.0}, {"b": 2.5, "c": 4.0})
    assert [d.to_json() for d in diffs] == [
        {"task_id": "a", "kind": "missing_in_provider", "ledger": 1.25, "provider": None},
        {"task_id": "b", "kind": "amount_mismatch", "ledger": 2.0, "provider": 2.5},
        {"task_id": "c", "kind": "missing_in_ledger", "ledger": None, "provider": 4.0},
    ]


def test_reconcile_tolerance_is_tiny_and_exclusive() -> None:
    assert reconcile({"a": 1.0}, {"a": 1.5}) != []  # half a unit is a real difference
    assert reconcile({"a": 0.0}, {"a": 1e-7}) == []  # float noise is not
    assert reconcile({"a": 0.0}, {"a": 0.25}, tolerance=0.25) == []  # exactly the tolerance is equal
    assert len(reconcile({"a": 0.0}, {"a": 0.5}, tolerance=0.25)) == 1


def test_still_volume_counts_busy_hours_and_the_real_price() -> None:
    from datetime import datetime

    from goldenchain.core.money import still_volume

    stills = [
        (datetime(2026, 11, 24, 9, 5), 0.05),
        (datetime(2026, 11, 24, 9, 55), 0.03),
        (datetime(2026, 11, 24, 10, 0), 0.04),
        (datetime(2026, 11, 25, 9, 5), 0.04),  # the same hour on another day is another hour
        (None, 9.0),  # not made (no time): not counted
    ]
    assert still_volume(stills) == {
        "stills": 4,
        "usd_per_image": pytest.approx(0.04),
        "active_hours": 3,
        "busiest_hour_images": 2,
        "images_per_active_hour": 1.33,
    }
    assert still_volume([(None, 1.0)]) == {}
    assert still_volume([]) == {}

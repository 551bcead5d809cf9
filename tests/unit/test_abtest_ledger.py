"""The ledger's A/B test tables (migration 0010) on SQLite; tests/postgres runs the same checks on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from goldenchain.errors import LedgerError
from goldenchain.store.abtests import AbResult
from goldenchain.store.db import Database
from goldenchain.store.ledger import Ledger


def exercise(led: Ledger) -> None:
    """A test recorded once per name and project, results written over on a resumed run, one rating per person
    and clip (a second replaces the first), and the last report kept."""
    spec = {"shot": "s01", "pairs": 2, "seeds": [2**32 - 1, 0], "variants": [{"name": "a"}, {"name": "b"}]}
    t = led.add_abtest("p", "light", spec)
    other = led.add_abtest("p", "camera", {**spec, "shot": "s02"})
    assert led.add_abtest("q", "light", spec).project_id == "q"  # the name is the project's own
    with pytest.raises(LedgerError, match="exists already"):
        led.add_abtest("p", "light", spec)
    assert [x.name for x in led.abtests("p")] == ["light", "camera"]
    assert led.abtest("p", "light") == t and led.abtest("p", "nope") is None

    first = [
        AbResult("a", 1, 2**32 - 1, "a-p001", "blocked", "kling: outage", 11, None, 0.05),
        AbResult("b", 1, 2**32 - 1, "b-p001", "rejected", "still1 reject", 12, None, 0.05),
    ]
    led.save_abtest_results(t.id, first)
    again = [AbResult("a", 1, 2**32 - 1, "a-p001", "accepted", None, 11, 21, 0.54), first[1]]
    led.save_abtest_results(t.id, again)
    assert led.abtest_results(t.id) == again
    assert led.abtest_results(other.id) == []

    led.rate_abtest(t.id, 1, "a", 2, "alice")
    led.rate_abtest(t.id, 1, "a", 4, "alice")
    led.rate_abtest(t.id, 1, "a", 3, "bob")
    led.rate_abtest(t.id, 1, "b", 5, "alice")
    got = sorted((r.pair, r.variant, r.rating, r.who) for r in led.abtest_ratings(t.id))
    assert got == [(1, "a", 3, "bob"), (1, "a", 4, "alice"), (1, "b", 5, "alice")]

    led.set_abtest_report(t.id, {"winner": None, "summary": "no difference yet"})
    found = led.abtest("p", "light")
    assert found is not None and found.report == {"winner": None, "summary": "no difference yet"}
    with pytest.raises(LedgerError):
        led.set_abtest_report(10_000, {})


def test_abtest_tables_on_sqlite(tmp_path: Path) -> None:
    led = Ledger(Database(f"sqlite:///{tmp_path / 'state.db'}"))
    try:
        exercise(led)
    finally:
        led.db.dispose()

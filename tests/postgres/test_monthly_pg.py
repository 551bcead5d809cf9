"""A client's month read from a team ledger on PostgreSQL: the same paid calls, booked through the ledger's own
paid boundary over two months for two clients, read the same on PostgreSQL as on SQLite."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest

import goldenchain.store.takes as takes_mod
from goldenchain.core.checks import Check, CheckReport
from goldenchain.store.db import Database
from goldenchain.store.ledger import BudgetCaps, Ledger
from goldenchain.store.months import MonthView

pytestmark = pytest.mark.postgres

SHOTS = [{"id": "s01", "duration": 5}, {"id": "s02", "duration": 10}]


def _book(
    led: Ledger, monkeypatch: pytest.MonkeyPatch, key: str, project: str, client: str, shot: str, **kw: object
) -> int:
    """One paid take through begin_submit -> record_submitted -> record_downloaded -> record_checks."""
    stage = str(kw.get("stage", "clip"))
    monkeypatch.setattr(takes_mod, "today", lambda: str(kw["day"]))
    t = led.get_or_create_take(
        key, project_id=project, shot_id=shot, stage=stage, take_no=1, provider=str(kw.get("provider", "kling")),
        model="m", request={}, estimate_usd=float(kw["usd"]),  # type: ignore[arg-type]
    )  # fmt: skip
    led.begin_submit(t.id, "r", client, BudgetCaps())
    led.record_submitted(t.id, f"task-{key}", {})
    led.record_downloaded(
        t.id, sha256=key.ljust(64, "0"), rel_path=f"a/{key}", size=1, mime="video/mp4", meta={}, kind=stage,
        cost_usd=float(kw["usd"]), credits=3.5 if stage == "clip" else None, billed_units=None, unit=None,  # type: ignore[arg-type]
    )  # fmt: skip
    verdict: Literal["pass", "reject"] = "reject" if kw.get("verdict") == "reject" else "pass"
    led.record_checks(
        t.id, stage, CheckReport("x", verdict, 0.1, [Check("spec", verdict, 0, 1, "higher_is_worse", "")])
    )
    return t.id


def _seed(led: Ledger, monkeypatch: pytest.MonkeyPatch, root: Path) -> None:
    led.ensure_project("spring", "acme", str(root / "spring"), SHOTS)
    led.ensure_project("summer", "acme", str(root / "summer"), SHOTS)
    led.ensure_project("winter", "<b>", str(root / "winter"), SHOTS)
    _book(
        led,
        monkeypatch,
        "a",
        "spring",
        "acme",
        "s01",
        day="2026-10-02",
        usd=0.05,
        stage="still",
        provider="fal",
    )
    done = _book(led, monkeypatch, "b", "spring", "acme", "s01", day="2026-10-31", usd=0.49)
    _book(led, monkeypatch, "c", "spring", "acme", "s02", day="2026-10-31", usd=0.49, verdict="reject")
    rejected = _book(led, monkeypatch, "d", "summer", "acme", "s01", day="2026-11-01", usd=0.98)
    led.review_take(rejected, "rejected", "too dark", who="tester")
    _book(led, monkeypatch, "e", "winter", "<b>", "s02", day="2026-11-30", usd=0.7)
    led.set_shot("spring", "s01", status="running")
    led.set_shot("spring", "s01", status="done", stage="done", clip_take_id=done)


def _view(url: str, monkeypatch: pytest.MonkeyPatch, root: Path) -> list[MonthView]:
    led = Ledger(Database(url))
    try:
        _seed(led, monkeypatch, root)
        assert led.clients() == ["<b>", "acme"]
        return [led.month(c, m) for c in led.clients() for m in ("2026-10", "2026-11", "2026-12")]
    finally:
        led.db.dispose()


def test_the_month_reads_the_same_on_postgresql(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    lite = _view(f"sqlite:///{tmp_path / 'state.db'}", monkeypatch, tmp_path)
    pg = _view(pg_url, monkeypatch, tmp_path)
    assert pg == lite
    by = {(v.client, v.month): v for v in pg}
    october = by["acme", "2026-10"]
    assert sorted(october.projects) == ["spring", "summer"]
    assert [t.take_id for t in october.takes] and [t.day for t in october.takes] == sorted(
        t.day for t in october.takes
    )
    assert sum(t.usd for t in october.takes) == pytest.approx(0.05 + 0.49 + 0.49)
    assert [(d.project_id, d.shot_id, d.seconds) for d in october.delivered] == [("spring", "s01", 5.0)]
    assert october.to_date_usd == {"spring": pytest.approx(1.03)}
    november = by["acme", "2026-11"]
    assert [(t.project_id, t.review) for t in november.takes] == [("summer", "rejected")]
    assert november.to_date_usd == {"spring": pytest.approx(1.03), "summer": pytest.approx(0.98)}
    assert [t.usd for t in by["<b>", "2026-11"].takes] == [0.7] and not by["<b>", "2026-10"].takes
    assert not by["acme", "2026-12"].takes and not by["<b>", "2026-12"].delivered

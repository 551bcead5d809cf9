"""Two runs racing on one budget never exceed it: separate processes reserve against the same cap at once,
on SQLite and on PostgreSQL."""

from __future__ import annotations

import contextlib
import multiprocessing as mp
from pathlib import Path

import pytest

from goldenchain.errors import BudgetExceeded
from goldenchain.store.db import Database
from goldenchain.store.ledger import BudgetCaps, Ledger

CAP = 3.0
PRICE = 0.49


def _racer(url: str, who: str, n: int, start: object) -> None:
    led = Ledger(Database(url))
    start.wait()  # type: ignore[attr-defined]
    for i in range(n):
        t = led.get_or_create_take(
            f"{who}-{i}",
            project_id="p",
            shot_id=f"s{i}",
            stage="clip",
            take_no=1,
            provider="kling",
            model="kling-v1-5",
            request={"i": i, "who": who},
            estimate_usd=PRICE,
        )
        with contextlib.suppress(BudgetExceeded):
            led.begin_submit(t.id, who, "acme", BudgetCaps(project_usd=CAP))
    led.db.dispose()


def _race(url: str) -> None:
    led = Ledger(Database(url))
    led.ensure_project("p", "acme", "/tmp", [{"id": "s0", "prompt": "x"}])
    ctx = mp.get_context("spawn")
    start = ctx.Event()
    procs = [ctx.Process(target=_racer, args=(url, who, 8, start)) for who in ("run-a", "run-b")]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    active = [s for s in led.spend("p") if s.state in ("reserved", "committed")]
    total = sum(s.usd for s in active)
    assert total <= CAP + 1e-9
    assert len(active) == int(CAP // PRICE)  # the budget was used up to the last whole take, not beyond
    led.db.dispose()


def test_race_sqlite(tmp_path: Path) -> None:
    _race(f"sqlite:///{tmp_path / 'state.db'}")


@pytest.mark.postgres
def test_race_postgres(pg_url: str) -> None:
    _race(pg_url)

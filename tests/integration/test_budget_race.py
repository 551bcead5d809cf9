"""Two runs racing on one budget never exceed it: separate processes reserve against the same cap at once,
on SQLite and on PostgreSQL, for every kind of cap (project, client, day, month).

The racers really race: each opens the ledger (the database is migrated by then, so the migration lock no
longer orders them), then both meet at a barrier and only then start reserving. Each records the start and the
end of its reserving on the system-wide monotonic clock, and the test asserts the two windows intersect."""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from goldenchain.errors import BudgetExceeded
from goldenchain.store.db import Database
from goldenchain.store.ledger import BudgetCaps, Ledger, today

CAP = 3.0
PRICE = 0.49
TAKES = 48  # per racer: enough that the cap runs out while both are still reserving

#: scope -> (the caps, (project, client) of each racer); the second racer never shares the scope's key with
#: anything but the first, so only the cap under test can stop them
SCOPES: dict[str, tuple[BudgetCaps, tuple[tuple[str, str], tuple[str, str]]]] = {
    "project": (BudgetCaps(project_usd=CAP), (("p1", "acme"), ("p1", "acme"))),
    "client": (BudgetCaps(client_usd=CAP), (("p1", "acme"), ("p2", "acme"))),
    "day": (BudgetCaps(daily_usd=CAP), (("p1", "acme"), ("p2", "globex"))),
    "month": (BudgetCaps(monthly_usd=CAP), (("p1", "acme"), ("p2", "globex"))),
}


def _racer(url: str, who: str, project: str, client: str, caps: BudgetCaps, ready: Any, windows: Any) -> None:
    led = Ledger(Database(url))  # opens (and, on a fresh database, migrates) before the race starts
    ready.wait(60)
    start = time.monotonic_ns()
    reserved = 0
    for i in range(TAKES):
        t = led.get_or_create_take(
            f"{who}-{i}",
            project_id=project,
            shot_id=f"s{i}",
            stage="clip",
            take_no=1,
            provider="kling",
            model="kling-v1-5",
            request={"i": i, "who": who},
            estimate_usd=PRICE,
        )
        with contextlib.suppress(BudgetExceeded):
            led.begin_submit(t.id, who, client, caps)
            reserved += 1
    end = time.monotonic_ns()
    windows.put((who, start, end, reserved))
    led.db.dispose()


def _race(url: str, scope: str) -> None:
    caps, racers = SCOPES[scope]
    led = Ledger(Database(url))
    for project, client in dict(racers).items():
        led.ensure_project(project, client, "/tmp", [{"id": f"s{i}", "prompt": "x"} for i in range(TAKES)])
    ctx = mp.get_context("spawn")
    ready = ctx.Barrier(2)
    windows = ctx.Queue()
    day_before = today()
    procs = [
        ctx.Process(target=_racer, args=(url, f"run-{n}", project, client, caps, ready, windows))
        for n, (project, client) in enumerate(racers)
    ]
    for p in procs:
        p.start()
    got = [windows.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    day_after = today()

    # the two reserving windows intersect: each racer started before the other had finished
    (_, start_a, end_a, reserved_a), (_, start_b, end_b, reserved_b) = got
    assert start_a < end_b and start_b < end_a, got

    spend = [s for project in {p for p, _ in racers} for s in led.spend(project)]
    active = [s for s in spend if s.state in ("reserved", "committed")]
    assert reserved_a + reserved_b == len(active)
    by_key: dict[str, float] = defaultdict(float)
    for s in active:
        key = {"project": s.project_id, "client": s.client, "day": s.day, "month": s.day[:7]}[scope]
        by_key[key] += s.usd
    assert all(total <= CAP + 1e-9 for total in by_key.values()), dict(by_key)
    if scope in ("project", "client") or day_before == day_after:  # across midnight (UTC): two day caps
        # the budget was used up to the last whole take, not beyond
        assert len(by_key) == 1
        assert len(active) == int(CAP // PRICE)
    led.db.dispose()


@pytest.mark.parametrize("scope", sorted(SCOPES))
def test_race_sqlite(tmp_path: Path, scope: str) -> None:
    _race(f"sqlite:///{tmp_path / 'state.db'}", scope)


@pytest.mark.postgres
@pytest.mark.parametrize("scope", sorted(SCOPES))
def test_race_postgres(pg_url: str, scope: str) -> None:
    _race(pg_url, scope)

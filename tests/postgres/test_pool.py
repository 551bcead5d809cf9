"""The ledger's connections on PostgreSQL when the server goes away: a pooled connection the server dropped is
replaced; a store method waits for a server that restarts and then succeeds, or raises DatabaseUnavailable
once it has waited long enough; a write whose COMMIT lost its connection is run again only where running it
twice is harmless (the intent before a create recognises its own attempt), else it raises; and what a
provider answered to a create while the database was away is kept and written before the take is next read."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest

from goldenchain.errors import DatabaseUnavailable
from goldenchain.store import db as dbmod
from goldenchain.store.db import Database
from goldenchain.store.ledger import BudgetCaps, Ledger

pytestmark = pytest.mark.postgres


@pytest.fixture
def led(pg_url: str) -> Iterator[Ledger]:
    ledger = Ledger(Database(pg_url))
    ledger.ensure_project("p", "acme", "/tmp/p", [{"id": "s1"}])
    yield ledger
    ledger.db.dispose()


def new_take(led: Ledger, key: str = "k1") -> int:
    return led.get_or_create_take(
        key,
        project_id="p",
        shot_id="s1",
        stage="clip",
        take_no=1,
        provider="kling",
        model="kling-v1-5",
        request={"k": key},
        estimate_usd=0.5,
    ).id


def calls(pg_url: str, take_id: int) -> list[tuple[str, str]]:
    with psycopg.connect(pg_url) as c:
        rows = c.execute(
            "SELECT op, outcome FROM gc_provider_calls WHERE take_id = %s ORDER BY id", (take_id,)
        ).fetchall()
    return [(r[0], r[1]) for r in rows]


def drop_first_commit(db: Database, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The next COMMIT is done by the server, then its connection drops before the answer arrives."""
    real = db.engine.dialect.do_commit
    dropped: list[int] = []

    def commit(dbapi_conn: Any) -> None:
        real(dbapi_conn)
        if not dropped:
            dropped.append(1)
            raise psycopg.OperationalError(
                "consuming input failed: server closed the connection unexpectedly"
            )

    monkeypatch.setattr(db.engine.dialect, "do_commit", commit)
    return dropped


def test_a_dropped_connection_is_replaced_after_a_pause(led: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    with led.db.read() as c:
        pid = c.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    assert led.db.engine.pool.checkedin() >= 1
    with Database(led.db.url).engine.connect() as admin:  # another session ends ours, as a restart would
        admin.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid)})")
        admin.commit()
    monkeypatch.setattr(dbmod, "IDLE_PING_SECONDS", 0.0)  # as if the pause had been long
    with led.db.read() as c:
        assert c.exec_driver_sql("SELECT pg_backend_pid()").scalar() != pid
    assert [s.shot_id for s in led.shots("p")] == ["s1"]


def test_a_dropped_commit_of_the_intent_is_recognised(
    led: Ledger, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run again after its COMMIT lost the connection, the intent finds its own attempt (not a take someone
    is already submitting): one intent, one reservation, the take SUBMITTING."""
    tid = new_take(led)
    dropped = drop_first_commit(led.db, monkeypatch)
    t = led.begin_submit(tid, "r1", "acme", BudgetCaps(project_usd=5.0))
    assert dropped and t.state == "submitting" and t.submit_attempts == 1
    assert calls(pg_url, tid) == [("intent", "submitting")]
    assert led.budget_used("p", "acme")["project"] == pytest.approx(0.5)


def test_a_dropped_commit_of_the_task_id_is_written_once(
    led: Ledger, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tid = new_take(led)
    led.begin_submit(tid, "r1", "acme", BudgetCaps())
    dropped = drop_first_commit(led.db, monkeypatch)
    led.record_submitted(tid, "task-1", {"h": 1})
    assert dropped and led.take(tid).provider_task_id == "task-1"
    assert calls(pg_url, tid) == [("intent", "submitting"), ("create", "accepted")]


def test_a_write_that_must_not_run_twice_says_its_outcome_is_unknown(
    led: Ledger, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    drop_first_commit(led.db, monkeypatch)
    with pytest.raises(DatabaseUnavailable, match="whether it was saved is unknown"):
        led.log_review("p", "s1", "prompt_edit", who="ana", note="warmer light")
    assert len(led.review_events("p")) == 1  # committed once, not run again


def test_a_store_method_waits_for_a_restarting_server(led: Ledger, pg_ctl: Callable[..., None]) -> None:
    pg_ctl("stop", "-m", "fast")
    failed: list[BaseException] = []

    def start() -> None:
        try:
            pg_ctl("start")
        except BaseException as e:  # raised again in the test, not lost in the timer's thread
            failed.append(e)

    starter = threading.Timer(2.0, start)
    starter.start()
    try:
        t0 = time.monotonic()
        assert [s.shot_id for s in led.shots("p")] == ["s1"]  # waited, then read
        assert time.monotonic() - t0 >= 1.0
    finally:
        starter.join()
    assert not failed, failed


def test_an_answer_the_database_missed_is_written_before_the_take_is_read(
    led: Ledger, pg_ctl: Callable[..., None]
) -> None:
    """The provider accepted a create; the database is away past the store's wait. The task id is kept in the
    process and written when the take's step runs again, so the take is SUBMITTING with it (never found as
    an interrupted create, never resent)."""
    tid = new_take(led)
    led.begin_submit(tid, "r1", "acme", BudgetCaps())
    led.db.retry_seconds = 0.5
    pg_ctl("stop", "-m", "fast")
    try:
        with pytest.raises(DatabaseUnavailable, match="did not answer"):
            led.record_submitted(tid, "task-9", {"h": 9})
        assert tid in led.unwritten
        with pytest.raises(DatabaseUnavailable):  # still away: kept
            new_take(led)
        assert tid in led.unwritten
    finally:
        pg_ctl("start")
    assert new_take(led) == tid
    t = led.take(tid)
    assert (t.state, t.provider_task_id, t.handle) == ("submitted", "task-9", {"h": 9})
    assert not led.unwritten

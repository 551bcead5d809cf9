"""Worker leases in the ledger and the words for what a shot waits on: no clock is waited on (a lease of
0 s has lapsed when it is written, one of an hour has not)."""

from __future__ import annotations

from pathlib import Path

import pytest

from goldenchain.core.waits import Flow, explain_wait
from goldenchain.store.db import Database
from goldenchain.store.leases import Lease, LeaseBook, WorkerLease

HOUR = 3600.0


def _book(tmp_path: Path) -> LeaseBook:
    return LeaseBook(Database(f"sqlite:///{tmp_path / 'state.db'}"))


def _reg(book: LeaseBook, eid: str, lease: float = HOUR, queues: tuple[str, ...] = ("gc-shots",)) -> Lease:
    return book.register(eid, host="h", pid=1, queues=queues, lease_seconds=lease)


def test_a_held_lease_renews_and_fences(tmp_path: Path) -> None:
    book = _book(tmp_path)
    a = _reg(book, "a")
    assert a.generation == 1 and book.holds(a) and book.renew(a)
    again = _reg(book, "a")  # the same id started again: the old process no longer holds the lease
    assert again.generation == 2
    assert not book.holds(a) and not book.renew(a)
    assert book.holds(again)


def test_a_lapsed_lease_is_taken_over_once(tmp_path: Path) -> None:
    book = _book(tmp_path)
    dead = _reg(book, "dead", lease=0.0)
    live = _reg(book, "live")
    assert not book.holds(dead)
    assert book.renew(dead)  # lapsed, but nobody took it over: nobody touched its work, it may renew
    assert not book.holds(dead)  # (a lease of 0 s lapses again at once)
    recovered: list[str] = []

    def recover(eid: str) -> int:
        recovered.append(eid)
        return 2

    assert book.take_over_one("live", recover) == "dead"
    assert recovered == ["dead"]
    assert book.take_over_one("live", lambda eid: 0) is None  # nothing else has lapsed
    rows = {w.executor_id: w for w in book.workers()}
    assert rows["dead"].state == "taken_over" and rows["dead"].taken_over_by == "live"
    assert rows["dead"].generation == dead.generation + 1
    assert not book.renew(dead)  # taken over: the old process is fenced off for good
    assert rows["live"].alive and book.holds(live)


def test_a_failed_recovery_leaves_the_lease_for_the_next_taker(tmp_path: Path) -> None:
    book = _book(tmp_path)
    _reg(book, "dead", lease=0.0)

    def boom(_eid: str) -> int:
        raise RuntimeError("the engine's database went away")

    with pytest.raises(RuntimeError):
        book.take_over_one("a", boom)
    assert [w.state for w in book.workers() if w.executor_id == "dead"] == ["live"]
    assert book.take_over_one("b", lambda eid: 1) == "dead"


def test_a_clean_stop_is_taken_over_at_once(tmp_path: Path) -> None:
    book = _book(tmp_path)
    a = _reg(book, "a")
    book.release(a)
    assert not book.holds(a)
    assert book.take_over_one("b", lambda eid: 0) == "a"


def _w(
    eid: str, *, state: str = "live", expires_in: float = 20.0, queues: tuple[str, ...] = ()
) -> WorkerLease:
    return WorkerLease(eid, 1, state, "h", 1, queues, 30.0, 4.0, expires_in, None, None)


ALL = ("gc-shots", "gc-fal", "gc-kling")


def test_waits_name_the_queue_the_worker_and_the_takeover() -> None:
    shot = Flow("p/s01/x/g0", "PENDING", "gc-shots", "w1")
    take = Flow("p/s01/x/g0/clip/1", "PENDING", "gc-kling", "w2", created_at=2.0)
    done = Flow("p/s01/x/g0/still/1", "SUCCESS", "gc-fal", "w1", created_at=1.0)
    live = [_w("w1", queues=ALL), _w("w2", queues=ALL)]
    assert explain_wait(shot, [done, take], live) == "take clip 1 at kling on worker w2 (seen 4 s ago)"
    lapsed = [_w("w1", queues=ALL), _w("w2", expires_in=-3.0, queues=ALL)]
    line = explain_wait(shot, [done, take], lapsed)
    assert (
        line is not None and "w2 last seen 4 s ago, its lease lapsed; a live worker is taking it over" in line
    )
    alone = [_w("w2", expires_in=-3.0, queues=ALL)]
    line = explain_wait(shot, [take], alone)
    assert line is not None and "no live worker listens to gc-kling" in line
    queued = Flow("p/s01/x/g0/clip/1", "ENQUEUED", "gc-kling", None)
    assert explain_wait(shot, [queued], live) == "take clip 1: queued for a gc-kling slot"
    stills_only = [_w("w1", queues=("gc-shots", "gc-fal"))]
    line = explain_wait(shot, [queued], stills_only)
    assert line is not None and "no live worker listens to gc-kling" in line
    assert explain_wait(Flow("p/s02/x/g0", "ENQUEUED", "gc-shots", None), [], []) is not None
    assert explain_wait(Flow("p/s02/x/g0", "SUCCESS", "gc-shots", "w1"), [], live) is None

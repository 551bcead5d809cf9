"""Worker leases in the ledger (team mode): one row per executor id, renewed by its worker's heartbeat.

Every time here is epoch seconds on the database's own clock, so that workers on machines whose clocks
disagree still agree on whether a lease has lapsed. ``generation`` grows each time a worker starts under an
executor id and each time a lapsed lease is taken over: a worker holds its lease only while the row still
has its generation, is ``live`` and has not lapsed, and that is checked in the ledger before every create."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, text

from goldenchain.store.db import Database, retried

__all__ = ["Lease", "LeaseBook", "WorkerLease"]


@dataclass(frozen=True)
class Lease:
    """What a running worker holds: its executor id and the generation it registered."""

    executor_id: str
    generation: int


@dataclass(frozen=True)
class WorkerLease:
    """A worker's row as others see it, with ages measured on the database's clock."""

    executor_id: str
    generation: int
    state: str  # live | stopped | taken_over
    host: str | None
    pid: int | None
    queues: tuple[str, ...]
    lease_seconds: float
    seen_ago: float  # seconds since its last heartbeat
    expires_in: float  # seconds until its lease lapses (negative: lapsed)
    taken_over_by: str | None
    taken_over_ago: float | None

    @property
    def alive(self) -> bool:
        return self.state == "live" and self.expires_in > 0

    @property
    def lapsed(self) -> bool:
        """Lapsed and not yet taken over: its work waits for a live worker to take it over."""
        return self.state in ("live", "stopped") and self.expires_in <= 0


def _now(c: Connection) -> str:
    if c.dialect.name == "postgresql":
        return "CAST(extract(epoch from clock_timestamp()) AS double precision)"
    return "((julianday('now') - 2440587.5) * 86400.0)"


class LeaseBook:
    def __init__(self, db: Database) -> None:
        self.db = db

    @retried()
    def register(
        self, executor_id: str, *, host: str, pid: int, queues: Sequence[str], lease_seconds: float
    ) -> Lease:
        """Start (or restart) a worker's lease under a new generation: an older process still running under
        the same id no longer holds it."""
        with self.db.write() as c:
            now = _now(c)
            gen = c.execute(
                text(
                    f"INSERT INTO gc_workers (executor_id, generation, state, host, pid, queues, lease_seconds,"
                    f" started_at, heartbeat_at, expires_at) VALUES (:e, 1, 'live', :h, :p, :q, :l, {now}, {now},"
                    f" {now} + :l) ON CONFLICT (executor_id) DO UPDATE SET"
                    " generation = gc_workers.generation + 1, state = 'live', host = excluded.host,"
                    " pid = excluded.pid, queues = excluded.queues, lease_seconds = excluded.lease_seconds,"
                    " started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at,"
                    " expires_at = excluded.expires_at, taken_over_by = NULL, taken_over_at = NULL,"
                    " recovered = NULL RETURNING generation"
                ),
                {"e": executor_id, "h": host[:200], "p": pid, "q": ",".join(queues), "l": lease_seconds},
            ).scalar_one()
        return Lease(executor_id, int(gen))

    def renew(self, lease: Lease, *, wait: bool = False) -> bool:
        """The heartbeat, and the fence before a create: extend the lease while it is still this worker's
        (same generation, not taken over). A lease that lapsed while nobody took it over (the database was
        away for a while) is renewed too: nobody has touched its work. One row-locked UPDATE: a takeover in
        progress holds the row, so this waits for it and then finds the generation changed. False: the lease
        was taken over, and the worker must stop at once (its work is someone else's now).

        ``wait``: wait for the database while it is away (the fence before a create); else a failure is
        raised at once (the heartbeat, which itself knows what an outage means for the lease)."""
        return self.db.retrying(lambda: self._renew(lease), seconds=None if wait else 0)

    def _renew(self, lease: Lease) -> bool:
        with self.db.write() as c:
            now = _now(c)
            n = c.execute(
                text(
                    f"UPDATE gc_workers SET heartbeat_at = {now}, expires_at = {now} + lease_seconds"
                    " WHERE executor_id = :e AND generation = :g AND state = 'live'"
                ),
                {"e": lease.executor_id, "g": lease.generation},
            ).rowcount
        return bool(n)

    @retried()
    def holds(self, lease: Lease) -> bool:
        """This worker's lease is current (same generation, live, not lapsed), on the database's clock."""
        with self.db.read() as c:
            row = c.execute(
                text(
                    f"SELECT 1 FROM gc_workers WHERE executor_id = :e AND generation = :g AND state = 'live'"
                    f" AND expires_at > {_now(c)}"
                ),
                {"e": lease.executor_id, "g": lease.generation},
            ).first()
        return row is not None

    def release(self, lease: Lease) -> None:
        """A clean stop: the lease lapses now, so a live worker takes over what this one left unfinished."""
        with self.db.write() as c:
            now = _now(c)
            c.execute(
                text(
                    f"UPDATE gc_workers SET state = 'stopped', heartbeat_at = {now}, expires_at = {now}"
                    " WHERE executor_id = :e AND generation = :g AND state = 'live'"
                ),
                {"e": lease.executor_id, "g": lease.generation},
            )

    def take_over_one(self, me: str, recover: Callable[[str], int]) -> str | None:
        """Take over one lapsed lease, if there is one no other worker is taking over right now: its row is
        locked (``FOR UPDATE SKIP LOCKED``) while ``recover(executor_id)`` puts the dead worker's unfinished
        workflows back in their queues, and marked taken over (generation + 1) in the same transaction. A
        taker that dies half-way leaves the row as it was (its transaction rolls back), and recovery is
        idempotent, so the next taker simply does it again. Returns the executor id taken over."""
        with self.db.write() as c:
            now = _now(c)
            lock = " FOR UPDATE SKIP LOCKED" if c.dialect.name == "postgresql" else ""
            row = c.execute(
                text(
                    "SELECT executor_id FROM gc_workers WHERE state IN ('live', 'stopped')"
                    f" AND expires_at <= {now} AND executor_id <> :me ORDER BY expires_at LIMIT 1{lock}"
                ),
                {"me": me},
            ).first()
            if row is None:
                return None
            dead = str(row[0])
            n = recover(dead)
            c.execute(
                text(
                    f"UPDATE gc_workers SET state = 'taken_over', generation = generation + 1,"
                    f" taken_over_by = :me, taken_over_at = {now}, recovered = :n WHERE executor_id = :e"
                ),
                {"me": me, "n": n, "e": dead},
            )
        return dead

    @retried()
    def workers(self) -> list[WorkerLease]:
        """Every worker row, newest first, with its ages on the database's clock."""
        with self.db.read() as c:
            now = _now(c)
            rows = c.execute(
                text(
                    "SELECT executor_id, generation, state, host, pid, queues, lease_seconds,"
                    f" {now} - heartbeat_at, expires_at - {now}, taken_over_by, {now} - taken_over_at"
                    " FROM gc_workers ORDER BY started_at DESC"
                )
            ).all()
        return [
            WorkerLease(
                executor_id=r[0],
                generation=int(r[1]),
                state=r[2],
                host=r[3],
                pid=r[4],
                queues=tuple(q for q in (r[5] or "").split(",") if q),
                lease_seconds=float(r[6]),
                seen_ago=float(r[7]),
                expires_in=float(r[8]),
                taken_over_by=r[9],
                taken_over_ago=None if r[10] is None else float(r[10]),
            )
            for r in rows
        ]

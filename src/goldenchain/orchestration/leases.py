"""A worker's lease (team mode): a heartbeat that renews it, the takeover of lapsed ones, the fence.

* **Heartbeat.** Every third of ``[engine] lease_seconds`` the worker renews its row in ``gc_workers``. A
  renewal that finds the lease taken over (this process was paused or cut off past its lease, and another
  worker took its work) ends the process at once. A lease that lapsed while nobody took it over (the
  database was away) is simply renewed; a worker takes others over only once it has held its own lease
  for a whole lease, so after a database restart the live workers renew theirs first.
* **Takeover.** As often, each worker looks for a lapsed lease. Its row is locked with ``FOR UPDATE SKIP
  LOCKED``, so exactly one worker takes each over; under that lock the engine puts the dead worker's
  unfinished workflows back in their queues (what ``goldenchain worker --recover`` does), where any live
  worker dequeues them. They resume from their last checkpoint through the same take steps as any crash: a
  create that was in flight is reconciled by our own id (Kling) or held for review, never sent again.
* **Fence.** Right before every create the take step renews the lease in the ledger (a row-locked UPDATE
  that a takeover in progress makes wait, then fail). A worker that was only slow and comes back after its
  lease was taken over stops there, before the create is sent; the take's intent is already in the ledger,
  so the worker that took over reconciles it like any interrupted create."""

from __future__ import annotations

import contextvars
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Callable

from dbos import DBOS

from goldenchain.crashpoints import crashpoint
from goldenchain.errors import DatabaseUnavailable
from goldenchain.store.db import is_disconnect
from goldenchain.store.leases import Lease, LeaseBook

log = logging.getLogger(__name__)

#: the exit status of a worker that lost its lease (the sysexits "temporary failure": start it again)
LEASE_LOST_EXIT = 75


def recover_executor(executor_id: str) -> int:
    """Put a dead executor's unfinished workflows back in their queues (idempotent); how many."""
    n = len(DBOS._recover_pending_workflows([executor_id]))
    crashpoint(
        "takeover", executor_id
    )  # a taker dying here leaves the takeover unrecorded: the next one redoes it
    return n


def executors_with_pending(executor_ids: list[str]) -> set[str]:
    """Which of these executors own unfinished workflows (one status query, no inputs or outputs)."""
    if not executor_ids:
        return set()
    rows = contextvars.Context().run(
        DBOS.list_workflows,
        executor_id=executor_ids,
        status="PENDING",
        load_input=False,
        load_output=False,
    )
    return {str(r.executor_id) for r in rows if r.executor_id}


class LeaseKeeper:
    """Holds one worker's lease while it runs: two daemon threads (heartbeat, takeover) and the fence."""

    def __init__(
        self,
        book: LeaseBook,
        executor_id: str,
        queues: list[str],
        lease_seconds: float,
        *,
        recover: Callable[[str], int] = recover_executor,
        pending: Callable[[list[str]], set[str]] = executors_with_pending,
        on_lost: Callable[[str], None] | None = None,
    ) -> None:
        self.book, self.lease_seconds, self.recover, self.pending = book, lease_seconds, recover, pending
        self.interval = max(0.2, lease_seconds / 3)
        self.lease: Lease = book.register(
            executor_id,
            host=socket.gethostname(),
            pid=os.getpid(),
            queues=queues,
            lease_seconds=lease_seconds,
        )
        self.on_lost = on_lost or _exit_lost
        self.taken: list[str] = []  # executor ids this worker took over
        self._stop = threading.Event()
        #: when the heartbeat last started to succeed (monotonic; None while it fails): a worker takes
        #: others over only after holding its own lease for a whole lease, so that after a database outage,
        #: when every lease has lapsed, the live workers renew theirs before anyone is taken over
        self._held_since: float | None = time.monotonic()
        self._threads: list[threading.Thread] = []

    def start_heartbeat(self) -> None:
        """Renew the lease from now on (start it right after registering: the engine's launch takes time)."""
        self._spawn("lease-heartbeat", self._heartbeat)

    def start_takeover(self) -> None:
        """Take over lapsed leases from now on (once the engine has launched: recovery goes through it)."""
        self._spawn("lease-takeover", self._takeover)

    def _spawn(self, name: str, fn: Callable[[], None]) -> None:
        t = threading.Thread(target=fn, name=name, daemon=True)
        t.start()
        self._threads.append(t)

    def fence(self) -> None:
        """Called right before a create: return only while this worker still holds its lease (renewed
        here, so that a takeover starting now finds it fresh, and one in progress is waited for)."""
        if not self.book.renew(self.lease, wait=True):
            self.on_lost(
                f"worker {self.lease.executor_id}: its lease lapsed or was taken over before a create; "
                "stopping without sending it"
            )

    def _lost(self, why: str) -> None:
        if not self._stop.is_set():
            self.on_lost(f"worker {self.lease.executor_id}: {why}; stopping without sending anything more")

    def _heartbeat(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                held = self.book.renew(self.lease)
            except Exception as e:  # the database is away: renewed when it is back, if nobody took it over
                away = isinstance(e, DatabaseUnavailable)
                log.warning(
                    "renewing the lease of %s failed: %s", self.lease.executor_id, e, exc_info=not away
                )
                self._held_since = None
                continue
            if held and self._held_since is None:
                self._held_since = time.monotonic()
            if not held:
                self._lost("its lease lapsed or was taken over")
                return

    def _takeover(self) -> None:
        while not self._stop.wait(self.interval):
            since = self._held_since
            if since is None or time.monotonic() - since < self.lease_seconds:
                continue
            try:
                while not self._stop.is_set():
                    dead = self.book.take_over_one(self.lease.executor_id, self.recover)
                    if dead is None:
                        break
                    self.taken.append(dead)
                    print(f"worker {self.lease.executor_id} took over lapsed worker {dead}", flush=True)
                self._sweep()
            except Exception as e:
                away = isinstance(e, DatabaseUnavailable) or is_disconnect(e)
                log.warning("looking for lapsed leases failed: %s", e, exc_info=not away)

    def _sweep(self) -> None:
        """Work a taken-over worker claimed after all: a process that was only paused may finish a claim it
        had begun (a dequeue in flight) when it wakes up, before its heartbeat stops it. Such workflows are
        put back in their queues too (idempotent: only what that executor still holds unfinished)."""
        gone = [w.executor_id for w in self.book.workers() if w.state == "taken_over"]
        for eid in sorted(self.pending(gone)):
            n = self.recover(eid)
            if n:
                print(f"worker {self.lease.executor_id} put back {n} workflow(s) of {eid}", flush=True)

    def stop(self) -> None:
        """The threads end (the lease is still held: :meth:`release` once the engine has stopped)."""
        self._stop.set()
        for t in self._threads:
            t.join(timeout=max(5.0, self.lease_seconds))

    def release(self) -> None:
        """A clean stop: the lease lapses at once, so a live worker takes over what this one left."""
        try:
            self.book.release(self.lease)
        except Exception:  # its lease lapses by itself
            log.warning("releasing the lease of %s failed", self.lease.executor_id, exc_info=True)


def _exit_lost(message: str) -> None:
    """No cleanup: anything this process did now could race the worker that took over its work."""
    print(message, file=sys.stderr, flush=True)
    os._exit(LEASE_LOST_EXIT)

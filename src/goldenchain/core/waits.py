"""What an unfinished shot waits on, in words (team mode): a provider queue, a worker by name and when it was
last seen, a lapsed lease being taken over, or no live worker at all for its queue.

Pure: the engine's status rows of the shot's workflow and of its takes' workflows, and the workers' leases
(ages on the database's clock), come in; one line per shot goes out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

__all__ = ["Flow", "WorkerView", "explain_wait"]

FINISHED = ("SUCCESS", "ERROR", "CANCELLED", "MAX_RECOVERY_ATTEMPTS_EXCEEDED")


@dataclass(frozen=True)
class Flow:
    """One workflow as the engine records it."""

    workflow_id: str
    status: str  # ENQUEUED | PENDING | SUCCESS | ...
    queue: str | None
    executor_id: str | None
    created_at: float = 0.0


class WorkerView(Protocol):
    @property
    def executor_id(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def queues(self) -> tuple[str, ...]: ...
    @property
    def seen_ago(self) -> float: ...
    @property
    def expires_in(self) -> float: ...
    @property
    def taken_over_by(self) -> str | None: ...


def _ago(seconds: float) -> str:
    s = max(0, round(seconds))
    return f"{s} s ago" if s < 120 else f"{s // 60} min ago"


def _live(w: WorkerView) -> bool:
    return w.state == "live" and w.expires_in > 0


def _no_worker_for(queue: str, workers: Sequence[WorkerView]) -> bool:
    return not any(_live(w) and queue in w.queues for w in workers)


def _provider(queue: str | None) -> str:
    return queue[3:] if queue and queue.startswith("gc-") else (queue or "the engine")


def _on_worker(flow: Flow, what: str, workers: Sequence[WorkerView]) -> str:
    """A running workflow: on which worker, when that worker was last seen, and what became of its lease."""
    eid = flow.executor_id or "?"
    w = next((x for x in workers if x.executor_id == eid), None)
    if w is None:
        return f"{what} on {eid}"
    if _live(w):
        return f"{what} on worker {eid} (seen {_ago(w.seen_ago)})"
    if w.state == "taken_over":
        return f"{what}: worker {eid} was taken over by {w.taken_over_by}; back in the {flow.queue} queue"
    lapsed = f"{what}: worker {eid} last seen {_ago(w.seen_ago)}, its lease lapsed"
    if flow.queue and _no_worker_for(flow.queue, workers):
        return f"{lapsed}; no live worker listens to {flow.queue} to take it over: start `goldenchain worker`"
    return f"{lapsed}; a live worker is taking it over"


def _queued(flow: Flow, what: str, workers: Sequence[WorkerView]) -> str:
    q = flow.queue or "?"
    if _no_worker_for(q, workers):
        return f"{what}: no live worker listens to {q}: start `goldenchain worker` (or add {q} to --queues)"
    return f"{what}: queued for a {q} slot"


def explain_wait(shot: Flow | None, takes: Sequence[Flow], workers: Sequence[WorkerView]) -> str | None:
    """One line for an unfinished shot; None when its workflow has ended (or never started)."""
    if shot is None or shot.status in FINISHED:
        return None
    if shot.status == "ENQUEUED":
        return _queued(shot, "waiting to start", workers)
    running = sorted((t for t in takes if t.status not in FINISHED), key=lambda t: t.created_at)
    if not running:
        return _on_worker(shot, "between takes", workers)
    take = running[-1]
    what = f"take {take.workflow_id.rsplit('/', 2)[-2]} {take.workflow_id.rsplit('/', 1)[-1]}"
    if take.status == "ENQUEUED":
        return _queued(take, what, workers)
    return _on_worker(take, f"{what} at {_provider(take.queue)}", workers)

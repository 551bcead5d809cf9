"""``goldenchain worker``: a process that claims queued work from the shared database (team mode)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket

from dbos import DBOS

from goldenchain.config import Project
from goldenchain.orchestration import engine
from goldenchain.orchestration.hints import start_webhooks
from goldenchain.orchestration.leases import LeaseKeeper
from goldenchain.orchestration.runtime import RUNTIMES, Runtime
from goldenchain.orchestration.workflows import queue_name
from goldenchain.store.db import Database, with_idle_transaction_timeout
from goldenchain.store.leases import LeaseBook


def default_executor_id() -> str:
    return f"worker-{socket.gethostname()}-{os.getpid()}"


def all_queues(project: Project) -> list[str]:
    """A worker's queues when it names none: the shots and every provider's, but not the GPU queue, which
    only a worker on a GPU machine serves (``--queues gpu``)."""
    takes = {queue_name(p) for p in engine.provider_concurrency(project)} - {engine.GPU_QUEUE}
    return [engine.SHOT_QUEUE, *sorted(takes)]


def queue_names(names: list[str]) -> list[str]:
    """``--queues`` as given: ``gpu``, ``shots`` or ``kling`` stand for ``gc-gpu``, ``gc-shots``, ``gc-kling``."""
    return [n if n.startswith("gc-") else f"gc-{n}" for n in names]


async def serve_worker(
    project: Project,
    *,
    queues: list[str] | None = None,
    executor_id: str | None = None,
    recover: list[str] | None = None,
    ready: asyncio.Event | None = None,
) -> None:
    """Listen to ``queues`` (all of the project's by default) until SIGINT/SIGTERM. A worker restarted with the
    same ``executor_id`` resumes what it was doing when it died; ``recover`` takes over other dead workers' ids.

    In team mode the worker holds a lease in the ledger (:mod:`goldenchain.orchestration.leases`): it renews
    it, takes over the work of workers whose lease lapsed, and stops at once when its own was taken over."""
    hooks = start_webhooks(project)  # this worker's takes are woken by callbacks to its own receiver
    team = engine.is_team(project.database_url)
    # a frozen worker's open transaction ends after a lease at most (never under 30 s: only a stuck session
    # sits that long inside a transaction), so its locks cannot hold up the worker taking its work over
    url = with_idle_transaction_timeout(project.database_url, max(30.0, project.config.engine.lease_seconds))
    rt = Runtime.open(project, Database(url))
    if hooks is not None:
        rt.hub, rt.callback_base = hooks.hub, hooks.base_url
    RUNTIMES[project.id] = rt
    listen = queue_names(queues) if queues else all_queues(project)
    eid = executor_id or default_executor_id()
    keeper: LeaseKeeper | None = None
    if team:
        # before the engine starts, which resumes this id's own unfinished work: a process still running
        # under the same id (paused, cut off) no longer holds the lease and sends nothing more
        keeper = LeaseKeeper(LeaseBook(rt.db), eid, listen, project.config.engine.lease_seconds)
        rt.fence = keeper.fence
        keeper.start_heartbeat()
    engine.launch(url, executor_id=eid, listen=listen)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await engine.register_project_queues(project)
        if recover:
            await asyncio.to_thread(DBOS._recover_pending_workflows, recover)
        if keeper is not None:
            keeper.start_takeover()
        print(f"worker {DBOS.executor_id} listening to {', '.join(listen)}", flush=True)
        if ready is not None:
            ready.set()
        await stop.wait()
    finally:
        try:
            await rt.settle_creates()  # a create in flight at SIGTERM gets its answer recorded (lease held)
        finally:
            if keeper is not None:
                keeper.stop()
            engine.shutdown()
            await rt.aclose()
            if keeper is not None:
                keeper.release()  # a live worker takes over what this one leaves unfinished
            RUNTIMES.pop(project.id, None)
            rt.db.dispose()
            if hooks is not None:
                hooks.close()

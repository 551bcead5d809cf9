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
from goldenchain.orchestration.runtime import RUNTIMES, Runtime
from goldenchain.orchestration.workflows import queue_name


def default_executor_id() -> str:
    return f"worker-{socket.gethostname()}-{os.getpid()}"


def all_queues(project: Project) -> list[str]:
    return [engine.SHOT_QUEUE, *sorted(queue_name(p) for p in engine.provider_concurrency(project))]


async def serve_worker(
    project: Project,
    *,
    queues: list[str] | None = None,
    executor_id: str | None = None,
    recover: list[str] | None = None,
    ready: asyncio.Event | None = None,
) -> None:
    """Listen to ``queues`` (all of the project's by default) until SIGINT/SIGTERM. A worker restarted with the
    same ``executor_id`` resumes what it was doing when it died; ``recover`` takes over other dead workers' ids."""
    hooks = start_webhooks(project)  # this worker's takes are woken by callbacks to its own receiver
    rt = Runtime.open(project)
    if hooks is not None:
        rt.hub, rt.callback_base = hooks.hub, hooks.base_url
    RUNTIMES[project.id] = rt
    listen = queues or all_queues(project)
    engine.launch(project.database_url, executor_id=executor_id or default_executor_id(), listen=listen)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await engine.register_project_queues(project)
        if recover:
            await asyncio.to_thread(DBOS._recover_pending_workflows, recover)
        print(f"worker {DBOS.executor_id} listening to {', '.join(listen)}", flush=True)
        if ready is not None:
            ready.set()
        await stop.wait()
    finally:
        engine.shutdown()
        await rt.aclose()
        RUNTIMES.pop(project.id, None)
        rt.db.dispose()
        if hooks is not None:
            hooks.close()

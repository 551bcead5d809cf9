"""DBOS bootstrap on the ledger's database, with a pinned application version and one queue per provider."""

from __future__ import annotations

import logging
from typing import Any

from dbos import DBOS

from goldenchain.orchestration.awaiting import FINISHED, set_fallback_tick, statuses, wait_all

#: Pinned: a new release that changes the workflows' step order bumps this, so shots started by an older
#: version are never replayed by incompatible code (they are finished by a worker of the old version).
APP_VERSION = "goldenchain-wf-6"  # wf-6: drafts (wf-5: a typed plan and typed step results; wf-4: environment failures block)
SHOT_QUEUE = "gc-shots"
#: the local routes' takes: served only by workers that ask for it (``goldenchain worker --queues gpu``), one
#: take at a time per worker (one GPU, one loaded pipeline); ``[engine.concurrency] gpu`` caps them all
GPU_QUEUE = "gc-gpu"
#: seconds between two status reads of the workflows a process awaits: on one machine every end is announced
#: in this process, so the read is a guard; in team mode most ends happen in another worker, and one read
#: covers every awaited workflow of the process, so it can be frequent
EMBEDDED_TICK, TEAM_TICK = 5.0, 0.25

__all__ = ["APP_VERSION", "FINISHED", "GPU_QUEUE", "SHOT_QUEUE", "launch", "statuses", "wait_all"]


def is_team(database_url: str) -> bool:
    return database_url.startswith(("postgresql://", "postgresql+psycopg://", "postgres://"))


def system_database_url(database_url: str) -> str:
    """Where the engine keeps its workflow tables: the ledger's own database (on PostgreSQL in schema
    ``dbos``). A second SQLite file for them was measured: it shaved a little wall time off a 1,000-shot run
    and cost 5-10 % more CPU, so there is one file."""
    if database_url.startswith("postgres://"):
        return "postgresql://" + database_url[len("postgres://") :]
    return database_url


def fallback_tick(database_url: str, listen: list[str] | None) -> float:
    """Seconds between two status reads of an awaited workflow whose end is not announced here: the
    all-in-one run on one machine runs every workflow it waits for; a worker or a team client does not."""
    return EMBEDDED_TICK if listen is None and not is_team(database_url) else TEAM_TICK


def launch(database_url: str, *, executor_id: str | None = None, listen: list[str] | None = None) -> None:
    config: dict[str, Any] = {
        "name": "goldenchain",
        "system_database_url": system_database_url(database_url),
        "application_version": APP_VERSION,
        "log_level": "WARNING",
        "notification_listener_polling_interval_sec": 0.2,
    }
    if executor_id:
        config["executor_id"] = executor_id
    logging.getLogger("dbos").setLevel(logging.WARNING)
    DBOS(config=config)  # type: ignore[arg-type]
    set_fallback_tick(fallback_tick(database_url, listen))
    if listen is not None:
        DBOS.listen_queues(listen)
    DBOS.launch()


def shot_slots(slots: list[int], configured: int | None) -> int:
    """Shots in flight at once: ``[engine] shot_concurrency``, else 1.5x the slots of the providers used.

    A shot waits on one take at a time, so 1.5x the slots keeps every provider queue fed while the shots
    between two stages move on; admitting more only adds shots that wait (and poll) for a slot."""
    if configured is not None:
        return configured
    return max(4, (3 * sum(slots) + 1) // 2)


#: seconds between two looks at a queue for work to start: a provider slot freed waits half of that on
#: average before its next take starts, and provider slots are what a run pays for in time
SHOT_QUEUE_POLL, TAKE_QUEUE_POLL = 0.2, 0.1


async def register_queues(concurrency: dict[str, int], *, shots: int) -> None:
    from goldenchain.orchestration.workflows import queue_name

    await DBOS.register_queue_async(
        SHOT_QUEUE, global_concurrency=shots, polling_interval_sec=SHOT_QUEUE_POLL
    )
    done: set[str] = set()
    for provider, k in concurrency.items():
        name = queue_name(provider)
        if name in done:
            continue
        done.add(name)
        if name == GPU_QUEUE:
            await DBOS.register_queue_async(
                name,
                worker_concurrency=1,
                global_concurrency=concurrency.get("gpu"),
                polling_interval_sec=TAKE_QUEUE_POLL,
            )
            continue
        await DBOS.register_queue_async(name, global_concurrency=k, polling_interval_sec=TAKE_QUEUE_POLL)


def provider_concurrency(project: Any) -> dict[str, int]:
    """Tasks in flight per provider account: ``[engine.concurrency]``, 2 for a configured provider it omits."""
    concurrency = dict(project.config.engine.concurrency)
    for prov in (project.config.stills.provider, project.config.video.provider):
        concurrency.setdefault(prov, 2)
    return concurrency


async def register_project_queues(project: Any) -> None:
    concurrency = provider_concurrency(project)
    used = {project.config.stills.provider, project.config.video.provider}
    shots = shot_slots([concurrency[p] for p in sorted(used)], project.config.engine.shot_concurrency)
    await register_queues(concurrency, shots=shots)


def shutdown() -> None:
    DBOS.destroy(workflow_completion_timeout_sec=0)

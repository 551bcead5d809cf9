"""DBOS bootstrap on the ledger's database, with a pinned application version and one queue per provider."""

from __future__ import annotations

import logging
from typing import Any

from dbos import DBOS

#: Pinned: a new release that changes the workflows' step order bumps this, so shots started by an older
#: version are never replayed by incompatible code (they are finished by a worker of the old version).
APP_VERSION = "goldenchain-wf-1"
SHOT_QUEUE = "gc-shots"


def is_team(database_url: str) -> bool:
    return database_url.startswith(("postgresql://", "postgresql+psycopg://", "postgres://"))


def launch(database_url: str, *, executor_id: str | None = None, listen: list[str] | None = None) -> None:
    if database_url.startswith("postgres://"):
        database_url = "postgresql://" + database_url[len("postgres://") :]
    config: dict[str, Any] = {
        "name": "goldenchain",
        "system_database_url": database_url,
        "application_version": APP_VERSION,
        "log_level": "WARNING",
        "notification_listener_polling_interval_sec": 0.2,
    }
    if executor_id:
        config["executor_id"] = executor_id
    logging.getLogger("dbos").setLevel(logging.WARNING)
    DBOS(config=config)  # type: ignore[arg-type]
    if listen is not None:
        DBOS.listen_queues(listen)
    DBOS.launch()


async def register_queues(concurrency: dict[str, int], poll: float = 0.2, shots: int = 500) -> None:
    from goldenchain.orchestration.workflows import queue_name

    await DBOS.register_queue_async(SHOT_QUEUE, global_concurrency=shots, polling_interval_sec=poll)
    for provider, k in concurrency.items():
        await DBOS.register_queue_async(queue_name(provider), global_concurrency=k, polling_interval_sec=poll)


def provider_concurrency(project: Any) -> dict[str, int]:
    """Tasks in flight per provider account: ``[engine.concurrency]``, 2 for a configured provider it omits."""
    concurrency = dict(project.config.engine.concurrency)
    for prov in (project.config.stills.provider, project.config.video.provider):
        concurrency.setdefault(prov, 2)
    return concurrency


async def register_project_queues(project: Any) -> None:
    await register_queues(provider_concurrency(project), shots=project.config.engine.shot_concurrency)


def shutdown() -> None:
    DBOS.destroy(workflow_completion_timeout_sec=0)

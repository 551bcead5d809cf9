"""Team mode: ``goldenchain worker``."""

from __future__ import annotations

import asyncio

import click

from goldenchain.config import load_project
from goldenchain.errors import UsageError


@click.command("worker")
@click.argument("project", required=False, default=".", type=click.Path(file_okay=False))
@click.option(
    "--queues",
    default=None,
    help="Comma-separated queues to serve, e.g. gpu or shots,kling (default: all of the project's but gpu).",
)
@click.option("--executor-id", default=None, help="Stable id: a worker restarted with it resumes its work.")
@click.option(
    "--recover", default=None, help="Comma-separated ids of dead workers whose work this one takes over."
)
def worker_cmd(project: str, queues: str | None, executor_id: str | None, recover: str | None) -> None:
    """A worker process (team mode): claims shots and paid takes from the shared PostgreSQL database."""
    from goldenchain.orchestration.engine import is_team
    from goldenchain.orchestration.worker import serve_worker

    p = load_project(project)
    if not is_team(p.database_url):
        raise UsageError("worker needs team mode: set GOLDENCHAIN_DATABASE_URL=postgresql://...")
    qs = [q.strip() for q in queues.split(",") if q.strip()] if queues else None
    rec = [r.strip() for r in recover.split(",") if r.strip()] if recover else None
    asyncio.run(serve_worker(p, queues=qs, executor_id=executor_id, recover=rec))


COMMANDS = [worker_cmd]

"""What each unfinished shot waits on (team mode), read from the engine's status rows and the workers'
leases; the words come from :func:`goldenchain.core.waits.explain_wait`."""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Mapping
from typing import Any

from goldenchain.core.waits import Flow, explain_wait
from goldenchain.store.db import Database
from goldenchain.store.leases import LeaseBook

#: seconds between two looks at what a team run's shots wait on
WAITS_TICK = 2.0

ListFn = Callable[..., list[Any]]


def _flow(row: Any) -> Flow:
    return Flow(
        workflow_id=row.workflow_id,
        status=row.status,
        queue=row.queue_name,
        executor_id=row.executor_id,
        created_at=float(row.created_at or 0),
    )


def read_waits(list_workflows: ListFn, db: Database, shot_workflows: Mapping[str, str]) -> dict[str, str]:
    """Shot id -> what it waits on, for the shots whose workflow has not ended. ``list_workflows``: the
    engine's (``DBOS.list_workflows`` in a launched process, a client's otherwise); one query for the shots,
    one for their takes (``SHOT_WORKFLOW/stage/n``), one for the leases."""
    if not shot_workflows:
        return {}

    def ls(**kw: Any) -> list[Any]:  # never recorded as a step, even when called inside a workflow
        return contextvars.Context().run(list_workflows, load_input=False, load_output=False, **kw)

    shots = {r.workflow_id: _flow(r) for r in ls(workflow_ids=list(shot_workflows.values()))}
    open_ids = [w for w, f in shots.items() if f.status == "PENDING"]
    takes: dict[str, list[Flow]] = {}
    if open_ids:
        for r in ls(workflow_id_prefix=[w + "/" for w in open_ids]):
            takes.setdefault(r.workflow_id.rsplit("/", 2)[0], []).append(_flow(r))
    workers = LeaseBook(db).workers()
    out: dict[str, str] = {}
    for sid, wf in shot_workflows.items():
        line = explain_wait(shots.get(wf), takes.get(wf, []), workers)
        if line is not None:
            out[sid] = line
    return out


def read_waits_offline(
    system_database_url: str, db: Database, shot_workflows: Mapping[str, str]
) -> dict[str, str]:
    """The same from a process that has not launched the engine (``goldenchain status``)."""
    from dbos import DBOSClient

    client = DBOSClient(system_database_url=system_database_url)
    try:
        return read_waits(client.list_workflows, db, shot_workflows)
    finally:
        client.destroy()

"""Waiting for workflows (``orchestration/awaiting.py``) on a real engine, in a child process of its own (the
engine is one per process): a take's end in the same process wakes its shot at once and is recorded once; an
end nobody announces is still found by the status fallback, and one that ended before the wait began at once.

No clock is read: "at once" is shown by setting the status fallback's tick to an hour, so that a wait that
depended on a tick could not end within the probe's time limit; "found by the fallback" is shown by the
status reads themselves (each read's finds are recorded)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

SCRIPT = textwrap.dedent(
    """
    import asyncio, json, sqlite3, sys
    from dbos import DBOS, SetWorkflowID
    from goldenchain.orchestration import awaiting
    from goldenchain.orchestration.awaiting import announce_end, await_workflow, set_fallback_tick, wait_all

    found_by_reads = []  # every id a status read of the watcher found ended

    def counting_read(ids):
        ended = read_ended(ids)
        found_by_reads.extend(ended)
        return ended

    read_ended, awaiting._read_ended = awaiting._read_ended, counting_read

    @DBOS.workflow()
    async def child(announce: bool) -> str:
        if announce:
            announce_end()
        await asyncio.sleep(0.3)
        return "done"

    @DBOS.workflow()
    async def parent(announce: bool) -> str:
        if announce:
            announce_end()
        q = await DBOS.retrieve_queue_async("kids")
        with SetWorkflowID(DBOS.workflow_id + "/child"):
            handle = await q.enqueue_async(child, announce)
        return await await_workflow(handle)

    async def main(db: str, tick: float, announce: bool) -> None:
        DBOS(config={"name": "await-test", "system_database_url": f"sqlite:///{db}", "log_level": "WARNING"})
        DBOS.launch()
        set_fallback_tick(tick)
        await DBOS.register_queue_async("kids", global_concurrency=4, polling_interval_sec=0.05)
        await DBOS.register_queue_async("top", global_concurrency=4, polling_interval_sec=0.05)
        await asyncio.sleep(1.2)  # the engine starts a newly registered queue's thread within a second
        top = await DBOS.retrieve_queue_async("top")
        with SetWorkflowID("p0"):
            handle = await top.enqueue_async(parent, announce)
        results = await wait_all([handle])
        waited_reads = list(found_by_reads)
        # awaiting one that ended long ago (a replay does this): read at once, no tick to wait for
        late = await await_workflow(await DBOS.retrieve_workflow_async("p0/child"))
        con = sqlite3.connect(db)
        ops = [r[0] for r in con.execute(
            "select function_name from operation_outputs where workflow_uuid = 'p0' order by function_id"
        )]
        print(json.dumps({"results": results, "late": late, "ops": ops, "found_by_reads": waited_reads}))
        DBOS.destroy(workflow_completion_timeout_sec=0)

    asyncio.run(main(sys.argv[1], float(sys.argv[2]), sys.argv[3] == "announce"))
    """
)

#: a status fallback tick no wait in these tests may depend on: the probe is stopped long before it
HOUR = 3600.0


def _run(tmp_path: Path, tick: float, *, announce: bool) -> dict[str, Any]:
    script = tmp_path / "awaiting_probe.py"
    script.write_text(SCRIPT, encoding="utf-8")
    mode = "announce" if announce else "silent"
    p = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "engine.db"), str(tick), mode],
        capture_output=True,
        text=True,
        timeout=150,
    )
    assert p.returncode == 0, p.stderr[-2000:]
    out: dict[str, Any] = json.loads(p.stdout.strip().splitlines()[-1])
    return out


def _records_only_what_it_waited_for(ops: list[str]) -> None:
    # the parent records what it enqueued and the child's result, never the status reads in between
    assert "DBOS.getStatus" not in ops and "DBOS.listWorkflows" not in ops
    assert ops.count("DBOS.getResult") == 1


def test_a_local_end_wakes_the_waiter_and_an_ended_one_is_read_at_once(tmp_path: Path) -> None:
    # the fallback reads once an hour: the child's and the parent's announced ends woke their waiters, and the
    # late wait for a child that had ended was answered by the read for a newly awaited id
    got = _run(tmp_path, HOUR, announce=True)
    assert got["results"] == ["done"]
    assert got["late"] == "done"
    _records_only_what_it_waited_for(got["ops"])


def test_an_end_nobody_announces_is_found_by_the_status_fallback(tmp_path: Path) -> None:
    got = _run(tmp_path, 0.5, announce=False)
    assert got["results"] == ["done"]
    # nothing announced them: both ends were found by the watcher's status reads
    assert {"p0", "p0/child"} <= set(got["found_by_reads"])
    assert got["late"] == "done"
    _records_only_what_it_waited_for(got["ops"])

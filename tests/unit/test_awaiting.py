"""Waiting for workflows (``orchestration/awaiting.py``) on a real engine, in a child process of its own (the
engine is one per process): a take's end in the same process wakes its shot at once and is recorded once; an
end nobody announces is still found by the status fallback, and one that ended before the wait began at once."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

SCRIPT = textwrap.dedent(
    """
    import asyncio, json, sqlite3, sys, time
    from dbos import DBOS, SetWorkflowID
    from goldenchain.orchestration.awaiting import announce_end, await_workflow, set_fallback_tick, wait_all

    @DBOS.workflow()
    async def child(announce: bool) -> str:
        if announce:
            announce_end()
        await asyncio.sleep(0.3)
        return "done"

    @DBOS.workflow()
    async def parent(announce: bool) -> dict:
        q = await DBOS.retrieve_queue_async("kids")
        with SetWorkflowID(DBOS.workflow_id + "/child"):
            handle = await q.enqueue_async(child, announce)
        t = time.monotonic()
        out = await await_workflow(handle)
        return {"out": out, "waited": time.monotonic() - t}

    async def main(db: str, tick: float) -> None:
        DBOS(config={"name": "await-test", "system_database_url": f"sqlite:///{db}", "log_level": "WARNING"})
        DBOS.launch()
        set_fallback_tick(tick)
        await DBOS.register_queue_async("kids", global_concurrency=4, polling_interval_sec=0.05)
        await DBOS.register_queue_async("top", global_concurrency=4, polling_interval_sec=0.05)
        await asyncio.sleep(1.2)  # the engine starts a newly registered queue's thread within a second
        top = await DBOS.retrieve_queue_async("top")
        handles = []
        for i, announce in enumerate((True, False)):
            with SetWorkflowID(f"p{i}"):
                handles.append(await top.enqueue_async(parent, announce))
        results = await wait_all(handles)
        t = time.monotonic()  # awaiting one that ended long ago (a replay does this): no tick to wait for
        late = await await_workflow(await DBOS.retrieve_workflow_async("p1/child"))
        late_waited = time.monotonic() - t
        con = sqlite3.connect(db)
        ops = {
            wid: [r[0] for r in con.execute(
                "select function_name from operation_outputs where workflow_uuid = ? order by function_id", (wid,)
            )]
            for wid in ("p0", "p1")
        }
        print(json.dumps({"results": results, "ops": ops, "late": [late, late_waited]}))
        DBOS.destroy(workflow_completion_timeout_sec=0)

    asyncio.run(main(sys.argv[1], float(sys.argv[2])))
    """
)


def _run(tmp_path: Path, tick: float) -> dict[str, Any]:
    script = tmp_path / "awaiting_probe.py"
    script.write_text(SCRIPT, encoding="utf-8")
    p = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "engine.db"), str(tick)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 0, p.stderr[-2000:]
    out: dict[str, Any] = json.loads(p.stdout.strip().splitlines()[-1])
    return out


def test_a_local_end_wakes_the_waiter_and_status_reads_are_not_recorded(tmp_path: Path) -> None:
    got = _run(tmp_path, tick=2.0)
    announced, silent = got["results"]
    assert announced["out"] == silent["out"] == "done"
    # announced: woken as the child ends (0.3 s of work), long before one fallback tick
    assert announced["waited"] < 1.5
    # not announced: found by a status read on the fallback tick
    assert silent["waited"] >= 1.5
    # one that has ended already is read within the watcher's gap, not a tick later
    assert got["late"][0] == "done" and got["late"][1] < 1.0
    # either way the parent records what it enqueued and the child's result, never the reads in between
    for ops in got["ops"].values():
        assert "DBOS.getStatus" not in ops and "DBOS.listWorkflows" not in ops
        assert ops.count("DBOS.getResult") == 1

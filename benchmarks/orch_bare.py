"""orchestration-bench: the bare DBOS floor (same queues, workflows, steps and sleeps as the chain, no work)."""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from typing import Any

from dbos import DBOS, SetWorkflowID
from orch_common import _emit, _self_cpu

from goldenchain.orchestration.awaiting import announce_end, await_workflow, set_fallback_tick, wait_all
from goldenchain.orchestration.engine import SHOT_QUEUE_POLL, TAKE_QUEUE_POLL, fallback_tick, shot_slots


# --- the bare DBOS floor ---------------------------------------------------------------------------------
def _bare_q(stage: str) -> str:
    return "bare-fal" if stage == "still" else "bare-kling"


@DBOS.step()
async def bare_state(plan: dict[str, Any], **fields: Any) -> None:
    return None


@DBOS.step()
async def bare_check(plan: dict[str, Any], take_id: int, take_no: int, *ids: int) -> dict[str, Any]:
    return {"verdict": "pass", "reasons": []}


@DBOS.step()
async def bare_start(plan: dict[str, Any], stage: str, take_no: int, parent: int | None) -> dict[str, Any]:
    return {"take_id": take_no, "outcome": "submitted", "task_id": uuid.uuid4().hex, "at": time.time()}


@DBOS.step()
async def bare_poll(plan: dict[str, Any], take_id: int, at: float, due: float) -> dict[str, Any]:
    if due > time.time():
        await asyncio.sleep(due - time.time())
    if time.time() - at < plan["latency"]:
        return {"state": "pending", "at": time.time()}
    return {"state": "downloaded", "sha256": uuid.uuid4().hex}


@DBOS.workflow()
async def bare_take(plan: dict[str, Any], stage: str, take_no: int, parent: int | None) -> dict[str, Any]:
    announce_end()
    sub = await bare_start(plan, stage, take_no, parent)
    due = sub["at"] + plan["poll"]
    while True:
        st = await bare_poll(plan, sub["take_id"], sub["at"], due)
        if st["state"] == "pending":
            due = st["at"] + plan["poll"]
            continue
        return {"take_id": sub["take_id"], "take_no": take_no, "outcome": "ok", "sha256": st["sha256"]}


async def _bare_child(plan: dict[str, Any], stage: str, parent: int | None) -> dict[str, Any]:
    q = await DBOS.retrieve_queue_async(_bare_q(stage))
    assert q is not None
    with SetWorkflowID(f"{DBOS.workflow_id}/{stage}/1"):
        handle = await q.enqueue_async(bare_take, plan, stage, 1, parent)
    result: dict[str, Any] = await await_workflow(handle)
    return result


@DBOS.workflow()
async def bare_shot(plan: dict[str, Any]) -> dict[str, Any]:
    announce_end()
    await bare_state(plan, status="running", stage="still")
    still = await _bare_child(plan, "still", None)
    await bare_check(plan, still["take_id"], 1)
    clip = await _bare_child(plan, "clip", still["take_id"])
    await bare_check(plan, clip["take_id"], 1, still["take_id"])
    return {"shot": plan["shot"], "status": "done"}


def _bare_launch(url: str, executor_id: str | None, listen: list[str] | None) -> None:
    config: dict[str, Any] = {
        "name": "gc-bare",
        "system_database_url": url,
        "application_version": "gc-bare-1",
        "log_level": "WARNING",
        "notification_listener_polling_interval_sec": 0.2,
    }
    if executor_id:
        config["executor_id"] = executor_id
    DBOS(config=config)  # type: ignore[arg-type]
    set_fallback_tick(fallback_tick(url, listen))
    if listen is not None:
        DBOS.listen_queues(listen)
    DBOS.launch()


async def _bare_register(k: int) -> None:
    await DBOS.register_queue_async(
        "bare-shots", global_concurrency=shot_slots([k, k], None), polling_interval_sec=SHOT_QUEUE_POLL
    )
    for stage in ("still", "clip"):
        await DBOS.register_queue_async(
            _bare_q(stage), global_concurrency=k, polling_interval_sec=TAKE_QUEUE_POLL
        )


async def bare_client(url: str, n: int, k: int, latency: float, poll: float, team: bool) -> None:
    _emit(event="start", cpu=_self_cpu())
    t0 = time.monotonic()
    _bare_launch(url, "bare-client" if team else None, [] if team else None)
    try:
        await _bare_register(k)
        q = await DBOS.retrieve_queue_async("bare-shots")
        assert q is not None
        run = uuid.uuid4().hex[:8]
        handles = []
        for i in range(n):
            plan = {"shot": f"s{i:05d}", "latency": latency, "poll": poll}
            with SetWorkflowID(f"bare/{run}/s{i:05d}"):
                handles.append(await q.enqueue_async(bare_shot, plan))
        outs = await wait_all(handles)
        wall = time.monotonic() - t0
        bad = [repr(o) for o in outs if isinstance(o, BaseException) or o.get("status") != "done"]
        _emit(event="done", wall=wall, ok=not bad, failed=bad[:3], cpu=_self_cpu())
    finally:
        DBOS.destroy(workflow_completion_timeout_sec=0)


async def bare_worker(url: str, k: int, executor_id: str) -> None:
    listen = ["bare-shots", _bare_q("still"), _bare_q("clip")]
    _emit(event="start", cpu=_self_cpu())
    _bare_launch(url, executor_id, listen)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await _bare_register(k)
        print(f"bare worker {executor_id} listening", flush=True)
        await stop.wait()
    finally:
        DBOS.destroy(workflow_completion_timeout_sec=0)

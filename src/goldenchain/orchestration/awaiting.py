"""Waiting for workflows: woken at once by an end in this process, the engine's status table as the fallback.

The engine's own ``handle.get_result()`` on an enqueued workflow reads its status once a second until it ends.
A shot waits on each of its takes that way, and the run waits on every shot: at a thousand shots that is
dozens of reads a second for nothing, and up to a second between a take's end and its shot moving on.

Here a workflow body calls :func:`announce_end` first; when its task finishes (its outcome is recorded by
then), every waiter in this process is woken through its own event loop. Waiters still read the status table
on a slower tick, so an end in another process (team mode, a recovery) is seen too. The result itself always
comes from the engine (``get_result``), so a replay after a crash reads the same recorded value."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
from collections.abc import Iterable, Sequence
from typing import Any

from dbos import DBOS

FINISHED = ("SUCCESS", "ERROR", "CANCELLED", "MAX_RECOVERY_ATTEMPTS_EXCEEDED")

_lock = threading.Lock()
_listeners: dict[str, list[_Listener]] = {}
#: seconds between two status reads while nothing local announces an end: short in team mode, where the
#: end usually happens in another process; long on one machine, where every end is announced here
_fallback = {"tick": 1.0}


def set_fallback_tick(seconds: float) -> None:
    _fallback["tick"] = seconds


class _Listener:
    """Ids it waits for, the ones announced since the last look, and an event on the waiter's own loop."""

    def __init__(self, ids: Iterable[str]) -> None:
        self.loop = asyncio.get_running_loop()
        self.event = asyncio.Event()
        self.ended: set[str] = set()
        self.ids = set(ids)
        with _lock:
            for wid in self.ids:
                _listeners.setdefault(wid, []).append(self)

    def _wake(self, wid: str) -> None:
        self.ended.add(wid)
        self.event.set()

    def close(self) -> None:
        with _lock:
            for wid in self.ids:
                lst = _listeners.get(wid)
                if lst and self in lst:
                    lst.remove(self)
                    if not lst:
                        del _listeners[wid]

    async def wait(self, timeout: float) -> set[str]:
        """The ids announced (empty after ``timeout`` without any)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.event.wait(), timeout)
        self.event.clear()
        ended, self.ended = self.ended, set()
        return ended


def _announce(wid: str) -> None:
    with _lock:
        targets = list(_listeners.get(wid, ()))
    for lst in targets:
        with contextlib.suppress(RuntimeError):  # a waiter whose loop has closed waits no more
            lst.loop.call_soon_threadsafe(lst._wake, wid)


#: workflows running in this process now: their end will be announced here, so a waiter need not read
_running_here: set[str] = set()
#: seconds between two status reads while the awaited workflow runs in this process (a guard only)
LOCAL_TICK = 10.0


def _ended_here(wid: str) -> None:
    with _lock:
        _running_here.discard(wid)
    _announce(wid)


def announce_end() -> None:
    """Call first in a workflow body: when the task running it finishes, waiters here are woken."""
    wid = DBOS.workflow_id
    task = asyncio.current_task()
    if wid is not None and task is not None:
        with _lock:
            _running_here.add(wid)
        task.add_done_callback(lambda _t: _ended_here(wid))


async def _ended(workflow_id: str) -> bool:
    """Whether it has ended: a plain read, outside the calling workflow's context. Inside a workflow the
    engine would record each look as a step; what is recorded is the result alone, as ``get_result`` does,
    so a replay after a crash takes the same steps however many looks the first run took."""
    st = await asyncio.get_running_loop().run_in_executor(
        None, contextvars.Context().run, DBOS.get_workflow_status, workflow_id
    )
    return st is not None and st.status in FINISHED


async def await_workflow(handle: Any) -> Any:
    """The result of one workflow, as soon as it has ended."""
    wid = handle.workflow_id
    listener = _Listener([wid])
    try:
        while not await _ended(wid):
            if await listener.wait(LOCAL_TICK if wid in _running_here else _fallback["tick"]):
                break
    finally:
        listener.close()
    return await handle.get_result()


async def statuses(workflow_ids: Sequence[str], *, finished_only: bool = False) -> list[Any]:
    """The engine's status rows of these workflows (those it knows), a few hundred ids per query."""
    out: list[Any] = []
    for i in range(0, len(workflow_ids), 500):
        out += await DBOS.list_workflows_async(
            workflow_ids=list(workflow_ids[i : i + 500]),
            status=list(FINISHED) if finished_only else None,
            load_input=False,
            load_output=False,
        )
    return out


async def wait_all(handles: Sequence[Any], tick: float | None = None) -> list[Any]:
    """The results of many workflows (an exception where one failed), in the handles' order.

    The ids announced here are read as they end; every ``tick`` seconds one status query covers all the
    others. Awaiting each handle instead would read the database once a second per workflow, which costs
    more CPU than the engine itself at a thousand shots."""
    pending = {h.workflow_id: h for h in handles}
    results: dict[str, Any] = {}
    listener = _Listener(pending)
    loop = asyncio.get_running_loop()
    every = tick if tick is not None else _fallback["tick"]
    try:
        check, last_full = list(pending), loop.time()
        while pending:
            for st in await statuses(check, finished_only=True):
                try:
                    results[st.workflow_id] = await pending.pop(st.workflow_id).get_result()
                except Exception as exc:  # a failed workflow is a result too
                    results[st.workflow_id] = exc
            if not pending:
                break
            ended = await listener.wait(max(0.0, last_full + every - loop.time()))
            check = [w for w in ended if w in pending]
            if not check or loop.time() - last_full >= every:
                check, last_full = list(pending), loop.time()
    finally:
        listener.close()
    return [results[h.workflow_id] for h in handles]

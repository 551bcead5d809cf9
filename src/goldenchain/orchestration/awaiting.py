"""Waiting for workflows: woken at once by an end in this process, the engine's status table as the fallback.

The engine's own ``handle.get_result()`` on an enqueued workflow reads its status once a second until it ends.
A shot waits on each of its takes that way, and the run waits on every shot: at a thousand shots that is
dozens of reads a second for nothing, and up to a second between a take's end and its shot moving on.

Here a workflow body calls :func:`announce_end` first; when its task finishes (its outcome is recorded by
then), every waiter in this process is woken through its own event loop. For ends in other processes (team
mode, a recovery) one watcher per event loop reads the status rows of every workflow awaited there in one
query a tick, without their inputs or outputs. The result itself always comes from the engine
(``get_result``), so a replay after a crash reads the same recorded value."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import threading
from collections.abc import Iterable, Sequence
from typing import Any

from dbos import DBOS

log = logging.getLogger(__name__)

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


def _status_rows(workflow_ids: Sequence[str], *, finished_only: bool) -> list[Any]:
    """The engine's status rows of these workflows (those it knows; no inputs, no outputs), a few hundred ids
    per query. Run in a fresh context, so that inside a workflow the engine does not record the read as a
    step: what a workflow records is the result alone (``get_result``), so a replay after a crash takes the
    same steps however many reads the first run made."""
    out: list[Any] = []
    for i in range(0, len(workflow_ids), 500):
        out += contextvars.Context().run(
            DBOS.list_workflows,
            workflow_ids=list(workflow_ids[i : i + 500]),
            status=list(FINISHED) if finished_only else None,
            load_input=False,
            load_output=False,
        )
    return out


def _read_ended(workflow_ids: list[str]) -> list[str]:
    """Which of these have ended: one plain read of their status rows."""
    return [r.workflow_id for r in _status_rows(workflow_ids, finished_only=True)]


#: the least time between a read for newly awaited ids and the read before it (new ids are read soon, so a
#: replay that awaits a workflow ended long ago goes on at once; the gap makes a burst of them one read)
KICK_GAP = 0.2


class _Watcher:
    """One per event loop: every id awaited there whose end may not be announced here is read in one query a
    tick (ids running here only every :data:`LOCAL_TICK`), and ids newly awaited within :data:`KICK_GAP`.
    An end it reads is announced like a local one. Awaiting a workflow costs no read of its own."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.ids: dict[str, int] = {}
        self.fresh: set[str] = set()
        self.kick = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def add(self, wid: str) -> None:
        self.ids[wid] = self.ids.get(wid, 0) + 1
        self.fresh.add(wid)
        self.kick.set()
        if self.task is None or self.task.done():
            self.task = self.loop.create_task(self._run())

    def discard(self, wid: str) -> None:
        n = self.ids.get(wid, 0) - 1
        if n > 0:
            self.ids[wid] = n
        else:
            self.ids.pop(wid, None)
            self.fresh.discard(wid)

    async def _run(self) -> None:
        now = self.loop.time
        last = last_all = now() - KICK_GAP
        while self.ids:
            tick = _fallback["tick"]
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.kick.wait(), max(0.0, last + tick - now()))
            if self.kick.is_set():  # new ids: read them soon, with whatever else is due by then
                await asyncio.sleep(max(0.0, last + KICK_GAP - now()))
                self.kick.clear()
            if now() - last_all >= LOCAL_TICK:
                ids, last_all = list(self.ids), now()
            elif now() - last >= tick:
                ids = [w for w in self.ids if w not in _running_here or w in self.fresh]
            else:
                ids = list(self.fresh & self.ids.keys())
            self.fresh.clear()
            last = now()
            if not ids:
                continue
            try:
                ended = await self.loop.run_in_executor(None, _read_ended, ids)
            except RuntimeError as e:
                if "after shutdown" in str(
                    e
                ):  # the engine is shutting down (end of run, Ctrl-C): stop watching
                    return
                log.warning("reading workflow statuses failed; reading again in %.1f s", tick, exc_info=True)
                continue
            except Exception:  # the database is away for a moment: the next tick reads again
                log.warning("reading workflow statuses failed; reading again in %.1f s", tick, exc_info=True)
                continue
            for wid in ended:
                _announce(wid)


_watchers: dict[asyncio.AbstractEventLoop, _Watcher] = {}


def _watcher() -> _Watcher:
    loop = asyncio.get_running_loop()
    w = _watchers.get(loop)
    if w is None:
        for old in [lp for lp in _watchers if lp.is_closed()]:
            del _watchers[old]
        w = _watchers[loop] = _Watcher(loop)
    return w


async def await_workflow(handle: Any) -> Any:
    """The result of one workflow, as soon as it has ended: woken by its announced end, or by this loop's
    watcher reading that it has ended (elsewhere, or before this wait began)."""
    wid = handle.workflow_id
    listener = _Listener([wid])
    watcher = _watcher()
    watcher.add(wid)
    try:
        while not await listener.wait(3600.0):
            pass
    finally:
        watcher.discard(wid)
        listener.close()
    return await handle.get_result()


async def statuses(workflow_ids: Sequence[str]) -> list[Any]:
    """The engine's status rows of these workflows (those it knows), a few hundred ids per query."""
    return await asyncio.to_thread(_status_rows, workflow_ids, finished_only=False)


async def wait_all(handles: Sequence[Any]) -> list[Any]:
    """The results of many workflows (an exception where one failed), in the handles' order.

    Each is awaited like one (:func:`await_workflow`): the ones that end here are read as they end, and this
    loop's watcher covers all the others in one status query a tick. Awaiting each handle with the engine's
    own ``get_result`` would read the database once a second per workflow, which costs more CPU than the
    engine itself at a thousand shots."""

    async def one(handle: Any) -> Any:
        try:
            return await await_workflow(handle)
        except Exception as exc:  # a failed workflow is a result too
            return exc

    return list(await asyncio.gather(*(one(h) for h in handles)))

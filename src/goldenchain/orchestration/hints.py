"""Provider webhooks as hints: a callback says a task has ended, and the take waiting on it polls at once.

A hint records nothing and decides nothing. The poll step still asks the provider with a normal status query
and records what that query says, so a forged or early callback costs one extra query and no more. Without
hints (webhooks off, a callback lost, a provider without them) the poll's due time comes as before: the
wait only ends sooner, inside the step, which keeps the engine's recorded steps the same on a replay.

One hub per process. The receiver (``goldenchain.web.webhooks``) calls :meth:`WebhookHub.hint` from its own
thread; a poll step waits with :meth:`WebhookHub.wait` on whatever event loop runs it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from goldenchain.config import EngineSection

log = logging.getLogger(__name__)

#: tasks the hub remembers at once (oldest dropped first); a run has at most its provider slots in flight
MAX_TASKS = 100_000
#: the least and the default fallback between two polls of a task whose end a callback announces
MIN_FALLBACK, FALLBACK_FACTOR = 30.0, 6.0

Key = tuple[str, str]


def fallback_interval(engine: EngineSection) -> float:
    """Seconds between two polls of a take created with a callback: ``[engine] webhook_poll_interval``, else
    6x ``poll_interval`` and at least 30 s. Polling is only the fallback for a callback that never comes."""
    if engine.webhook_poll_interval:
        return float(engine.webhook_poll_interval)
    return max(MIN_FALLBACK, FALLBACK_FACTOR * engine.poll_interval)


@dataclass
class _Task:
    hinted: bool = False
    waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = field(default_factory=list)


class WebhookHub:
    """Provider task ids this process waits on, and an event per waiting poll, keyed by (provider, task id).

    Thread-safe: hints come from the receiver's thread, waits run on the engine's event loop(s)."""

    def __init__(self, max_tasks: int = MAX_TASKS) -> None:
        self._lock = threading.Lock()
        self._tasks: OrderedDict[Key, _Task] = OrderedDict()
        self._max = max_tasks
        #: what came in, for the run's summary and the tests: hints taken, refused (unknown task), wakes
        self.stats = {"hints": 0, "unknown": 0, "woken": 0}

    def expect(self, provider: str, task_id: str) -> None:
        """A task of ours, accepted by the provider: its callbacks are taken from now on."""
        if not task_id:
            return
        with self._lock:
            if (provider, task_id) not in self._tasks:
                self._tasks[(provider, task_id)] = _Task()
                while len(self._tasks) > self._max:
                    self._tasks.popitem(last=False)

    def forget(self, provider: str, task_id: str) -> None:
        """The task is done with (downloaded or failed): later callbacks for it are refused."""
        with self._lock:
            self._tasks.pop((provider, task_id), None)

    def knows(self, provider: str, task_id: str) -> bool:
        with self._lock:
            return (provider, task_id) in self._tasks

    def hint(self, provider: str, task_id: str) -> bool:
        """A callback says this task has ended. Returns False (and wakes nothing) for a task not expected."""
        with self._lock:
            task = self._tasks.get((provider, task_id))
            if task is None:
                self.stats["unknown"] += 1
                return False
            self.stats["hints"] += 1
            task.hinted = True
            waiters = list(task.waiters)
        for loop, event in waiters:
            with contextlib.suppress(RuntimeError):  # a waiter whose loop has closed waits no more
                loop.call_soon_threadsafe(event.set)
        return True

    async def wait(self, provider: str, task_id: str, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds; True at once, or as soon as, a hint for this task comes in. A hint
        is taken by the wait that sees it, so a poll that finds the task still running waits again."""
        key = (provider, task_id)
        event = asyncio.Event()
        entry = (asyncio.get_running_loop(), event)
        with self._lock:
            task = self._tasks.get(key)
            if task is None:
                task = self._tasks[key] = _Task()
            if task.hinted:
                task.hinted = False
                self.stats["woken"] += 1
                return True
            task.waiters.append(entry)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), max(0.0, timeout))
        finally:
            with self._lock:
                task = self._tasks.get(key)
                woken = task is not None and task.hinted
                if task is not None:
                    task.hinted = False
                    with contextlib.suppress(ValueError):
                        task.waiters.remove(entry)
                if woken:
                    self.stats["woken"] += 1
        return woken


@dataclass
class Webhooks:
    """A run's webhook side: the hub, the receiver serving it, and the base URL given to providers."""

    hub: WebhookHub
    base_url: str
    receiver: Any

    def close(self) -> None:
        self.receiver.stop()


def start_webhooks(project: Any) -> Webhooks | None:
    """With ``[engine] webhooks = true``: a hub and its receiver on ``webhook_listen``, in this process. The
    providers are given ``GOLDENCHAIN_WEBHOOK_URL`` (or ``[engine] webhook_url``), else the receiver's own
    loopback address. None with webhooks off."""
    from goldenchain.errors import UsageError
    from goldenchain.web.webhooks import WebhookKeys, WebhookReceiver

    eng = project.config.engine
    if not eng.webhooks:
        return None
    public = project.settings.get("GOLDENCHAIN_WEBHOOK_URL") or eng.webhook_url
    if public is not None and not public.startswith(("http://", "https://")):
        raise UsageError(f"GOLDENCHAIN_WEBHOOK_URL must be an http(s) URL, not {public!r}")
    host, _, port = eng.webhook_listen.rpartition(":")
    try:
        keys = WebhookKeys.from_values(project.settings.values)
    except ValueError as e:
        raise UsageError(str(e)) from None
    hub = WebhookHub()
    try:
        receiver = WebhookReceiver(hub, keys, host.strip("[]"), int(port)).start()
    except OSError as e:
        raise UsageError(f"webhooks: cannot listen on {eng.webhook_listen} ({e.strerror or e})") from None
    return Webhooks(hub, (public or receiver.base_url).rstrip("/"), receiver)

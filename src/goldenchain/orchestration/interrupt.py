"""Ctrl-C that holds. ``asyncio.run`` answers the first SIGINT by cancelling the main task once; a cancellation
that some await below swallows (Python 3.11's ``asyncio.wait_for`` can, when its inner future ends at the same
moment) is lost, and the run would go on to the end, paying for every take left. Here the interrupt is
remembered and the cancellation asked again until the run has stopped."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

__all__ = ["finish_before_cancel", "until_interrupted", "wait_out"]

T = TypeVar("T")

#: how often a cancellation is asked again while an interrupted run has not stopped (seconds)
RECANCEL_EVERY = 0.5


async def until_interrupted(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro``; on SIGINT cancel it (again every :data:`RECANCEL_EVERY` seconds until it has ended) and
    raise ``KeyboardInterrupt``. Off the main thread (no signal handler can be set) it is awaited as it is."""
    loop = asyncio.get_running_loop()
    inner = asyncio.ensure_future(coro)
    interrupted = False

    def on_sigint() -> None:
        nonlocal interrupted
        interrupted = True
        inner.cancel()

    try:
        loop.add_signal_handler(signal.SIGINT, on_sigint)
    except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no signals here
        return await inner
    try:
        while not inner.done():
            try:
                await asyncio.wait({inner}, timeout=RECANCEL_EVERY)
            except asyncio.CancelledError:  # cancelled from outside: pass it on
                inner.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await inner
                raise
            if interrupted and not inner.done():
                inner.cancel()  # the last cancellation was swallowed below: ask again
    finally:
        loop.remove_signal_handler(signal.SIGINT)
    if interrupted:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            inner.result()  # retrieved, so that its end is not reported as never seen
        raise KeyboardInterrupt
    return inner.result()


async def finish_before_cancel(
    coro: Coroutine[Any, Any, T], in_flight: set[asyncio.Future[Any]] | None = None
) -> T:
    """Run ``coro`` to its end even when the caller is cancelled meanwhile, then pass the cancellation on.

    For a paid create in flight: Ctrl-C (or any cancellation) waits for the provider's answer, which is
    recorded, instead of dropping a request the provider may have accepted. The wait is bounded by the
    request's own timeout; every cancellation asked meanwhile (see :data:`RECANCEL_EVERY`) is folded into one.
    ``in_flight`` holds the running ``coro`` until it ends, for whoever must wait for it before closing what it
    uses (the HTTP clients, the database)."""
    inner = asyncio.ensure_future(coro)
    if in_flight is not None:
        in_flight.add(inner)
        inner.add_done_callback(in_flight.discard)
    try:
        await wait_out(lambda: set() if inner.done() else {inner})
    except asyncio.CancelledError:
        if not inner.cancelled():
            inner.exception()  # retrieved, so that its end is not reported as never seen
        raise
    return inner.result()


async def wait_out(pending: Callable[[], set[asyncio.Future[Any]]]) -> None:
    """Wait until ``pending()`` is empty, cancelled or not (a cancelled wait leaves the futures running); a
    cancellation asked meanwhile, however often, is raised once they are done."""
    cancelled = False
    while todo := pending():
        try:
            await asyncio.wait(todo)
        except asyncio.CancelledError:
            cancelled = True
    if cancelled:
        raise asyncio.CancelledError

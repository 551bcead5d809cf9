"""Ctrl-C holds even when a cancellation is swallowed somewhere below the run (a real SIGINT to this process)."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time

import pytest

from goldenchain.orchestration.interrupt import RECANCEL_EVERY, until_interrupted

pytestmark = pytest.mark.timeout(60)


async def test_a_swallowed_cancellation_is_asked_again_and_the_run_stops() -> None:
    swallowed: list[float] = []
    finished: list[str] = []

    async def stubborn() -> str:
        for _ in range(3):  # swallows two cancellations, as a racing wait_for can
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                swallowed.append(time.monotonic())
                if len(swallowed) == 3:
                    raise
        finished.append("paid for everything left")
        return "done"

    loop = asyncio.get_running_loop()
    loop.call_later(0.2, os.kill, os.getpid(), signal.SIGINT)
    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        await until_interrupted(stubborn())
    assert len(swallowed) == 3 and finished == []
    assert time.monotonic() - t0 < 0.2 + 3 * RECANCEL_EVERY + 10  # stopped, not run to its end (90 s)
    assert signal.getsignal(signal.SIGINT) is not None  # the handler was taken away again
    assert loop._signal_handlers.get(signal.SIGINT) is None  # type: ignore[attr-defined]


async def test_without_an_interrupt_the_result_comes_back() -> None:
    async def work() -> int:
        await asyncio.sleep(0.01)
        return 42

    assert await until_interrupted(work()) == 42


async def test_an_error_of_the_run_is_raised_as_it_is() -> None:
    async def broken() -> None:
        raise ValueError("the run's own error")

    with pytest.raises(ValueError, match="the run's own error"):
        await until_interrupted(broken())


def test_off_the_main_thread_the_run_is_awaited_as_it_is() -> None:
    out: list[object] = []

    async def work() -> str:
        return "ok"

    def in_thread() -> None:
        out.append(asyncio.run(until_interrupted(work())))

    th = threading.Thread(target=in_thread)
    th.start()
    th.join(30)
    assert out == ["ok"]

"""Ctrl-C holds even when a cancellation is swallowed somewhere below the run (a real SIGINT to this process)."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time

import pytest

from goldenchain.orchestration.interrupt import RECANCEL_EVERY, finish_before_cancel, until_interrupted

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


async def test_a_create_in_flight_gets_its_answer_before_the_cancellation_stops_it() -> None:
    sent, answer = asyncio.Event(), asyncio.Event()
    recorded: list[str] = []

    async def create() -> str:
        sent.set()
        await answer.wait()  # the provider has the request; its answer is on the way
        recorded.append("task-7")  # what the step writes to the ledger once the answer is in
        return "task-7"

    caller = asyncio.ensure_future(finish_before_cancel(create()))
    await sent.wait()
    for _ in range(3):  # Ctrl-C, then the repeated asks of until_interrupted
        caller.cancel()
        await asyncio.sleep(0)
    assert not caller.done() and recorded == []
    answer.set()
    with pytest.raises(asyncio.CancelledError):
        await caller
    assert recorded == ["task-7"]


async def test_an_error_of_a_create_in_flight_is_seen_and_the_cancellation_passed_on() -> None:
    sent = asyncio.Event()

    async def create() -> str:
        sent.set()
        await asyncio.sleep(0.05)
        raise ValueError("refused")

    caller = asyncio.ensure_future(finish_before_cancel(create()))
    await sent.wait()
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller


async def test_without_a_cancellation_the_create_answers_as_it_is() -> None:
    async def create() -> str:
        await asyncio.sleep(0)
        return "task-1"

    async def refused() -> str:
        raise ValueError("bad key")

    assert await finish_before_cancel(create()) == "task-1"
    with pytest.raises(ValueError, match="bad key"):
        await finish_before_cancel(refused())

"""Clocks for the emulator under test: a task's state follows the time since it was accepted, so a test that
reads states on the wall clock depends on how fast a busy machine runs it. These clocks replace the emulator's
own, so that what a poll sees follows the steps taken instead."""

from __future__ import annotations

import threading
import time

from goldenchain.emulator import Emulator


class HeldClock:
    """Held still; the test moves it on (:meth:`advance`)."""

    def __init__(self, emu: Emulator) -> None:
        self.t = time.time()
        self.lock = threading.Lock()
        emu._ctx.now = self  # type: ignore[method-assign]

    def __call__(self) -> float:
        with self.lock:
            return self.t

    def advance(self, seconds: float) -> None:
        with self.lock:
            self.t += seconds


class TickingClock(HeldClock):
    """Moves on by ``step`` seconds each time the emulator reads it (one read per create or poll): a client
    polling on its own loop sees every state in turn, however slowly it polls."""

    def __init__(self, emu: Emulator, step: float) -> None:
        super().__init__(emu)
        self.step = step

    def __call__(self) -> float:
        with self.lock:
            self.t += self.step
            return self.t

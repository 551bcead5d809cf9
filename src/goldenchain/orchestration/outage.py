"""Steps outlast a database outage: an environment failure, never a take's.

Every store method waits for the database by itself for up to a minute (:mod:`goldenchain.store.db`). When
the database stays away longer, the step raises :class:`~goldenchain.errors.DatabaseUnavailable`; recorded
as the step's outcome, that would end the take's workflow and fail its shot. Instead the step runs again
here, from its start, after a pause that grows to half a minute, for up to :data:`STEP_WAIT_SECONDS`. That
is the same as running it again after a crash, which every step is built for: it reads the ledger first and
only moves a take forward (a create in doubt is reconciled by our own id, never resent); what a provider
answered to a create while the database was away was kept in this process and is written first
(:meth:`~goldenchain.store.takes.TakeLedger.get_or_create_take`). The engine's own tables are in the same
database, and the engine waits for them without a limit: a worker pauses while the database is away and
goes on when it is back."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from goldenchain.errors import DatabaseUnavailable

log = logging.getLogger(__name__)

#: how long a step keeps running again while the database is away, before its failure is recorded
STEP_WAIT_SECONDS = 1800.0
FIRST_PAUSE, LONGEST_PAUSE = 1.0, 30.0

P = ParamSpec("P")
R = TypeVar("R")


def outlasts_database_outage(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Put under ``@DBOS.step()``: the step body runs again while the database is away (see the module)."""

    @functools.wraps(fn)
    async def step(*args: P.args, **kwargs: P.kwargs) -> R:
        started, pause = time.monotonic(), FIRST_PAUSE
        while True:
            try:
                return await fn(*args, **kwargs)
            except DatabaseUnavailable as e:
                if time.monotonic() - started >= STEP_WAIT_SECONDS:
                    raise
                log.warning(
                    "%s waits for the database: %s; running it again in %.0f s", fn.__name__, e, pause
                )
                await asyncio.sleep(pause)
                pause = min(LONGEST_PAUSE, pause * 2)

    return step

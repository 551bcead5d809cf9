"""A step that meets a database outage longer than the store waits runs again from its start, and its failure
is recorded only once the database has been away for longer than a step waits."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from goldenchain.errors import DatabaseUnavailable, LedgerError
from goldenchain.orchestration import outage


def flaky(failures: int, exc: Exception) -> tuple[list[int], Callable[[int], Awaitable[int]]]:
    runs: list[int] = []

    async def body(x: int) -> int:
        runs.append(x)
        if len(runs) <= failures:
            raise exc
        return x * 2

    return runs, outage.outlasts_database_outage(body)


def test_a_step_runs_again_while_the_database_is_away(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outage, "FIRST_PAUSE", 0.0)
    runs, step = flaky(3, DatabaseUnavailable("the database did not answer for 60 s"))
    assert asyncio.run(step(21)) == 42
    assert runs == [21] * 4  # from its start each time


def test_other_errors_are_the_step_s_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outage, "FIRST_PAUSE", 0.0)
    runs, step = flaky(1, LedgerError("refusing to submit it again"))
    with pytest.raises(LedgerError):
        asyncio.run(step(1))
    assert runs == [1]


def test_a_database_away_too_long_ends_the_step(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outage, "FIRST_PAUSE", 0.0)
    monkeypatch.setattr(outage, "STEP_WAIT_SECONDS", 0.0)
    runs, step = flaky(5, DatabaseUnavailable("away"))
    with pytest.raises(DatabaseUnavailable):
        asyncio.run(step(1))
    assert runs == [1]

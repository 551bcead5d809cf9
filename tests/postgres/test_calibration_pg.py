"""The ledger's calibration runs on PostgreSQL: the same checks as on SQLite."""

from __future__ import annotations

import pytest

from goldenchain.store.db import Database
from goldenchain.store.ledger import Ledger
from tests.unit.test_calibration_store import exercise

pytestmark = pytest.mark.postgres


def test_calibration_runs_on_postgres(pg_url: str) -> None:
    led = Ledger(Database(pg_url))
    try:
        exercise(led)
    finally:
        led.db.dispose()

"""The ledger's A/B test tables on PostgreSQL: the same checks as on SQLite (tests/unit/test_abtest_ledger.py)."""

from __future__ import annotations

import pytest

from goldenchain.store.db import Database
from goldenchain.store.ledger import Ledger
from tests.unit.test_abtest_ledger import exercise

pytestmark = pytest.mark.postgres


def test_abtest_tables_on_postgres(pg_url: str) -> None:
    led = Ledger(Database(pg_url))
    try:
        exercise(led)
    finally:
        led.db.dispose()

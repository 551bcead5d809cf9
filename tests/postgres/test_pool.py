"""The ledger's connection pool on PostgreSQL: a pooled connection the server has dropped (a restart, an
administrator) is found by the ping after a pause and replaced, so the next transaction works."""

from __future__ import annotations

import pytest

from goldenchain.store import db as dbmod
from goldenchain.store.db import Database
from goldenchain.store.ledger import Ledger

pytestmark = pytest.mark.postgres


def test_a_dropped_connection_is_replaced_after_a_pause(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    led = Ledger(Database(pg_url))
    try:
        led.ensure_project("p", "acme", "/tmp/p", [{"id": "s1"}])
        with led.db.read() as c:
            pid = c.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        assert led.db.engine.pool.checkedin() >= 1
        with Database(pg_url).engine.connect() as admin:  # another session ends ours, as a restart would
            admin.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid)})")
            admin.commit()
        monkeypatch.setattr(dbmod, "IDLE_PING_SECONDS", 0.0)  # as if the pause had been long
        with led.db.read() as c:
            assert c.exec_driver_sql("SELECT pg_backend_pid()").scalar() != pid
        assert [s.shot_id for s in led.shots("p")] == ["s1"]
    finally:
        led.db.dispose()

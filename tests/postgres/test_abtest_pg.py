"""A/B tests on PostgreSQL: the ledger's tables (the same checks as on SQLite, tests/unit/test_abtest_ledger.py),
and a test run in team mode by the project's workers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from goldenchain.emulator import Emulator
from goldenchain.store.db import Database
from goldenchain.store.ledger import Ledger
from tests.integration.helpers import accepted_creates, make_project, run_cli
from tests.postgres.test_team import start_worker, stop
from tests.unit.test_abtest_ledger import exercise

pytestmark = pytest.mark.postgres


def test_abtest_tables_on_postgres(pg_url: str) -> None:
    led = Ledger(Database(pg_url))
    try:
        exercise(led)
    finally:
        led.db.dispose()


def test_an_abtest_in_team_mode_runs_on_the_projects_workers(tmp_path: Path, pg_url: str) -> None:
    """The CLI enqueues the test's pairs; a worker opened on the project (not on the test) runs them."""
    project = make_project(tmp_path / "shoot", shots=1)
    with Emulator(host="127.0.0.1", port=0, scenario="clean", latency=0.2) as emu:
        env = {**emu.env(), "GOLDENCHAIN_DATABASE_URL": pg_url}
        new = ["abtest", "new", "t", "--project", str(project), "--shot", "s01", "--pairs", "2"]
        r = run_cli([*new, "--variant", "a", "--variant", "b", "--setting", "b:motion=40"], env)
        assert r.returncode == 0, r.stdout + r.stderr
        worker = start_worker(project, env, "w1", tmp_path / "w1.log")
        try:
            r = run_cli(["abtest", "run", "t", "--project", str(project), "--json"], env)
            assert r.returncode == 0, r.stdout + r.stderr
        finally:
            stop([worker])
        rep = json.loads(r.stdout)
        assert [(v["takes"], v["accepted"]) for v in rep["variants"]] == [(2, 2), (2, 2)]
        assert rep["winner"] is None
        creates = accepted_creates(emu.requests)
        # a clip per variant and pair, each created once under its own id; a still per variant and pair (the two
        # variants of a pair ask for the same still: the same body, paid by each variant's own take)
        kling = {k: n for k, n in creates.items() if k.startswith("gc-")}
        assert len(kling) == 4 and set(kling.values()) == {1}, creates
        assert sorted(n for k, n in creates.items() if k not in kling) == [2, 2], creates
        log = (tmp_path / "w1.log").read_text()
        assert "Traceback" not in log and "not open in this process" not in log, log

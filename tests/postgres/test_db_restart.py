"""Team mode survives PostgreSQL going away mid-run: the server is stopped (``pg_ctl stop -m fast``, which ends
every session) while stills and clips are in flight at the providers, and started again a few seconds later.
A worker is held at a boundary first (a create the provider accepted, not yet in the ledger; a result
downloaded, not yet recorded), so that its step meets the outage there for sure. The run and both workers
reconnect and finish: every shot delivered, one accepted create per take, and a ledger in which the outage
left no trace (no take failed or held for review, no reservation left open)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from goldenchain.emulator import Emulator
from tests.integration.helpers import accepted_creates, report
from tests.postgres.test_takeover import lease_project, start_run, start_worker, wait_for
from tests.postgres.test_team import stop

pytestmark = pytest.mark.postgres

#: seconds the server stays down: longer than a heartbeat, so that workers, steps and the run all meet it
DOWN = 3.0


def ledger_rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    with psycopg.connect(url) as c:
        return {
            "takes": c.execute("SELECT id, stage, state, failure_class, provider FROM gc_takes").fetchall(),
            "spend": c.execute("SELECT take_id, state FROM gc_spend").fetchall(),
            "accepted": c.execute(
                "SELECT take_id, op FROM gc_provider_calls WHERE outcome = 'accepted'"
            ).fetchall(),
            "shots": c.execute("SELECT shot_id, status FROM gc_shots").fetchall(),
            "runs": c.execute("SELECT status FROM gc_runs").fetchall(),
        }


@pytest.mark.timeout(300)
@pytest.mark.parametrize("point", ["after_create@kling", "downloading@fal"])
def test_team_run_survives_a_database_restart(
    tmp_path: Path, pg_url: str, pg_ctl: Callable[..., None], point: str
) -> None:
    project = lease_project(tmp_path / "shoot", shots=2)
    mark = tmp_path / "held"
    hold = {
        "GOLDENCHAIN_CRASHPOINT": point,
        "GOLDENCHAIN_CRASHPOINT_MARK": str(mark),
        "GOLDENCHAIN_CRASHPOINT_ACTION": "hold",
    }
    # slow tasks: the server goes down with both providers' takes in flight
    with Emulator(host="127.0.0.1", port=0, scenario="clean", latency=1.5) as emu:
        env = {**emu.env(), "GOLDENCHAIN_DATABASE_URL": pg_url}
        ws = [start_worker(project, env, f"w{i}", tmp_path / f"w{i}.log", hold) for i in (1, 2)]
        runner = start_run(project, env)
        try:
            wait_for(mark.exists, 120, f"a worker held at {point}")
            pg_ctl("stop", "-m", "fast")
            (tmp_path / "held.go").touch()  # the held step goes on, into the outage
            time.sleep(DOWN)
            pg_ctl("start")
            out, err = runner.communicate(timeout=180)
            assert runner.returncode == 0, out.decode() + err.decode()
            assert all(w.poll() is None for w in ws), "a worker did not survive the restart"
        finally:
            runner.kill()
            stop(ws)
        assert report(project)["shots_done"] == 2
        creates = accepted_creates(emu.create_requests())
        assert creates and all(n == 1 for n in creates.values()), creates
    rows = ledger_rows(pg_url)
    takes = rows["takes"]
    # every take the providers accepted is one ledger take, downloaded, paid once; nothing failed or held
    assert len(takes) == len(creates) == 4, takes
    assert all(state == "downloaded" and cls is None for _, _, state, cls, _ in takes), takes
    assert sorted(t for t, _ in rows["accepted"]) == sorted(t[0] for t in takes), rows["accepted"]
    assert sorted(rows["spend"]) == sorted((t[0], "committed") for t in takes), rows["spend"]
    assert sorted(s for _, s in rows["shots"]) == ["done"] * 2 and rows["runs"] == [("done",)], rows
    logs = "".join((tmp_path / f"w{i}.log").read_text() for i in (1, 2))
    # the engine logs its own reconnection attempts (some with its tracebacks); nothing of ours failed
    assert re.search(r'File "[^"]*/goldenchain/', logs) is None, logs
    assert "the database answers again" in logs, logs  # the held step did meet the outage

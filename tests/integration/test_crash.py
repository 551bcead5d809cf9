"""Crash matrix on the embedded default: the run is killed hard at each paid boundary, then resumed.
Each row asserts, from the emulator's request log, that every create request (accepted or not) belongs to a
take and went out once, that the run made no more takes than it needed, and that no result was lost."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from goldenchain.emulator import Emulator
from tests.integration.helpers import make_project, report, run_cli
from tests.integration.paid import assert_each_take_paid_once

ROWS = [
    "before_create@kling",
    "after_create@kling",  # accepted, task id not yet stored: reconciled by external_task_id
    "after_create@fal",  # fal cannot be asked by our id: that take is held for review, never resubmitted
    "polling@kling",
    "downloading@kling",
    "assembling",
]


@pytest.mark.parametrize("point", ROWS)
def test_crash_and_resume(tmp_path: Path, point: str) -> None:
    project = make_project(tmp_path / "shoot", shots=2)
    with Emulator(host="127.0.0.1", port=0, scenario="clean", latency=0.4, log_path=None) as emu:
        env = {
            **emu.env(),
            "GOLDENCHAIN_CRASHPOINT": point,
            "GOLDENCHAIN_CRASHPOINT_MARK": str(tmp_path / "crashed"),
        }
        r = run_cli(["run", str(project), "--quiet"], env)
        assert r.returncode == -signal.SIGKILL, r.stdout + r.stderr
        assert (tmp_path / "crashed").exists()
        r2 = run_cli(["run", str(project), "--quiet"], {**emu.env()})
        assert r2.returncode == 0, r2.stdout + r2.stderr
        rep = report(project)
        assert rep["shots_done"] == 2
        assert (project / "out" / "final.mp4").stat().st_size > 0
        takes = [t for s in rep["shots"] for t in s["takes"]]
        # every create request (accepted or not) belongs to a take and went out once; no more takes than needed
        held = assert_each_take_paid_once(emu.requests, takes, 2, may_hold=point == "after_create@fal")
        if point == "after_create@fal":
            # the crashed take (and any other create in flight at the kill) is held for review, not resent
            assert held
        st = run_cli(["status", str(project), "--json"], emu.env())
        assert [s["status"] for s in json.loads(st.stdout)] == ["done", "done"]


def test_a_run_left_by_an_older_release_is_taken_over(tmp_path: Path) -> None:
    """On one machine, shots left unfinished by a release with another engine version are cancelled and tried
    again by this one (nothing else would ever resume them); their paid takes are reused, not paid twice."""
    import sqlite3

    project = make_project(tmp_path / "shoot", shots=2)
    with Emulator(host="127.0.0.1", port=0, scenario="clean", latency=0.4, log_path=None) as emu:
        env = {
            **emu.env(),
            "GOLDENCHAIN_CRASHPOINT": "polling@kling",
            "GOLDENCHAIN_CRASHPOINT_MARK": str(tmp_path / "crashed"),
        }
        r = run_cli(["run", str(project), "--quiet"], env)
        assert r.returncode == -signal.SIGKILL, r.stdout + r.stderr
        with sqlite3.connect(project / ".goldenchain" / "state.db") as db:  # as an older release left it
            n = db.execute(
                "update workflow_status set application_version = 'goldenchain-wf-0' where status = 'PENDING'"
            ).rowcount
        assert n >= 2
        r2 = run_cli(["run", str(project), "--quiet"], {**emu.env()}, timeout=120)
        assert r2.returncode == 0, r2.stdout + r2.stderr
        rep = report(project)
        assert rep["shots_done"] == 2
        assert_each_take_paid_once(
            emu.requests, [t for s in rep["shots"] for t in s["takes"]], 2, may_hold=False
        )
        with sqlite3.connect(project / ".goldenchain" / "state.db") as db:
            left = db.execute("select count(*) from workflow_status where status = 'PENDING'").fetchone()[0]
        assert left == 0

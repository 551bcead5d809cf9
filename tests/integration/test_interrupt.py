"""One run per project at a time, and Ctrl-C that leaves a project the next run can finish without paying
twice: real CLI processes against the emulator."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from goldenchain.emulator import Emulator
from goldenchain.emulator.scenarios import Fault
from tests.integration.helpers import make_project, report, run_cli


def _start(project: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "goldenchain", "run", str(project), "--quiet"],
        env={**os.environ, **env, "COLUMNS": "200"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(cond: object, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError("condition not reached")


def _creates(requests: list[dict[str, object]]) -> int:
    return sum(1 for r in requests if r.get("method") == "POST" and r.get("accepted"))


def test_a_second_run_is_refused_naming_the_holder(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shoot", shots=2)
    with Emulator(host="127.0.0.1", port=0, scenario="clean", latency=1.5) as emu:
        first = _start(project, emu.env())
        try:
            _wait_for(
                lambda: (project / ".goldenchain" / "run.lock").is_file() and _creates(emu.requests) > 0
            )
            second = run_cli(["run", str(project), "--quiet"], emu.env(), timeout=60)
            assert second.returncode == 1, second.stdout + second.stderr
            lines = second.stderr.strip().splitlines()
            assert len(lines) == 1 and f"pid {first.pid}" in lines[0] and "another run holds" in lines[0]
            assert "Traceback" not in second.stderr
        finally:
            out, err = first.communicate(timeout=240)
        assert first.returncode == 0, out + err
        assert report(project)["shots_done"] == 2


def test_ctrl_c_then_run_finishes_without_paying_twice(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shoot", shots=2)
    with Emulator(host="127.0.0.1", port=0, scenario="clean", latency=2.0) as emu:
        first = _start(project, emu.env())
        _wait_for(lambda: _creates(emu.requests) >= 1)  # a paid task is in flight
        first.send_signal(signal.SIGINT)
        out, err = first.communicate(timeout=120)
        assert first.returncode == 130, out + err
        assert "interrupted" in err
        for noise in ("Traceback", "WARNING", "dbos", "Exception"):
            assert noise not in err, err  # the engine's own messages go to the log file
        st = json.loads(run_cli(["status", str(project), "--json"], emu.env()).stdout)
        assert {s["status"] for s in st} <= {"interrupted", "pending"} and "interrupted" in {
            s["status"] for s in st
        }
        paid_before = _creates(emu.requests)

        r = run_cli(["run", str(project), "--quiet"], emu.env())
        assert r.returncode == 0, r.stdout + r.stderr
        rep = report(project)
        assert rep["shots_done"] == 2
        takes = [t for s in rep["shots"] for t in s["takes"]]
        # two shots, one still and one clip each: four paid creates in all, the interrupted one not resent
        assert len(takes) == 4 and _creates(emu.requests) == 4, (paid_before, takes)
        keys = [r.get("external_task_id") or r.get("body_sha256") for r in emu.requests if r.get("accepted")]
        assert len(keys) == len(set(keys))


def test_ctrl_c_while_a_create_is_answered_late_records_the_task_and_pays_once(tmp_path: Path) -> None:
    # fal cannot be asked by our id: a create dropped at Ctrl-C would be held for review and its shot would pay
    # for another still; the run waits for the answer, records the task, then stops
    project = make_project(tmp_path / "shoot", shots=1)
    late = Fault("fal", "create", 1, "slow_after_accept")
    with Emulator(
        host="127.0.0.1", port=0, scenario="clean", latency=0.5, faults=[late], slow_seconds=4.0
    ) as emu:
        first = _start(project, emu.env())
        _wait_for(lambda: _creates(emu.requests) >= 1)  # made by the provider, its answer not sent yet
        first.send_signal(signal.SIGINT)
        out, err = first.communicate(timeout=120)
        assert first.returncode == 130, out + err
        assert "interrupted" in err and "Traceback" not in err
        made = [r["task_id"] for r in emu.requests if r.get("method") == "POST" and r.get("accepted")]
        assert len(made) == 1

        r = run_cli(["run", str(project), "--quiet"], emu.env())
        assert r.returncode == 0, r.stdout + r.stderr
        rep = report(project)
        assert rep["shots_done"] == 1
        takes = [t for s in rep["shots"] for t in s["takes"]]
        still = [t for t in takes if t["stage"] == "still"]
        assert [(t["take"], t["state"], t["provider_task_id"]) for t in still] == [(1, "downloaded", made[0])]
        assert len(takes) == 2 and _creates(emu.requests) == 2, takes  # the still once, then its clip

"""Team mode survives a machine that never comes back: a worker killed with SIGKILL and never restarted has
its lease taken over by a live worker, which finishes its shots; a worker that was only paused past its
lease sends no second paid create when it wakes up. Leases of 8 s keep these tests short (and ride out a loaded machine)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from goldenchain.emulator import Emulator
from tests.integration.helpers import accepted_creates, make_project, report
from tests.postgres.test_team import stop

pytestmark = pytest.mark.postgres

LEASE = 8.0


def lease_project(root: Path, shots: int) -> Path:
    project = make_project(root, shots=shots)
    cfg = project / "goldenchain.toml"
    text = cfg.read_text().replace("[engine]\n", f"[engine]\nlease_seconds = {LEASE}\n", 1)
    cfg.write_text(text + "\n[qc]\nenabled = false\n")  # the clip check is not what these tests are about
    return project


def start_worker(
    project: Path, env: dict[str, str], wid: str, log: Path, extra: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """A worker, once it listens (a loaded machine may take minutes to start one)."""
    f = open(log, "ab")  # noqa: SIM115 - the worker owns it for its lifetime
    p = subprocess.Popen(
        [sys.executable, "-m", "goldenchain", "worker", str(project), "--executor-id", wid],
        env={**os.environ, **env, **(extra or {})},
        stdout=f,
        stderr=subprocess.STDOUT,
    )
    wait_for(lambda: b"listening" in log.read_bytes() or p.poll() is not None, 300, f"worker {wid} to start")
    assert p.poll() is None, log.read_text(errors="replace")
    return p


def start_run(project: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "goldenchain", "run", str(project), "--quiet"],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def wait_for(pred: Any, timeout: float, what: str) -> None:
    deadline = time.time() + timeout
    while not pred():
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def one_accepted_create_per_take(emu: Emulator) -> None:
    creates = accepted_creates(emu.create_requests())
    assert creates and all(n == 1 for n in creates.values()), creates


@pytest.mark.timeout(900)
@pytest.mark.parametrize(("workers", "point"), [(2, "after_create@kling"), (4, "after_create@fal")])
def test_killed_worker_is_taken_over_without_restart(
    tmp_path: Path, pg_url: str, workers: int, point: str
) -> None:
    """A worker dies right after a provider accepted its create (before the task id was stored) and never
    comes back: a live worker takes over its lease, the create is reconciled (Kling asked by our id; fal held
    for review and a new take made), and the run ends with every shot delivered."""
    project = lease_project(tmp_path / "shoot", shots=3)
    with Emulator(host="127.0.0.1", port=0, scenario="clean", latency=0.4) as emu:
        env = {**emu.env(), "GOLDENCHAIN_DATABASE_URL": pg_url}
        crash = {"GOLDENCHAIN_CRASHPOINT": point, "GOLDENCHAIN_CRASHPOINT_MARK": str(tmp_path / "crashed")}
        ws = [start_worker(project, env, f"w{i}", tmp_path / f"w{i}.log", crash) for i in range(workers)]
        runner = start_run(project, env)
        try:
            wait_for(lambda: (tmp_path / "crashed").exists(), 180, "a worker at the crash point")
            wait_for(lambda: any(w.poll() is not None for w in ws), 60, "the killed worker to exit")
            dead = [i for i, w in enumerate(ws) if w.poll() is not None]
            assert len(dead) == 1 and ws[dead[0]].returncode == -signal.SIGKILL
            out, err = runner.communicate(timeout=600)  # nobody restarts it
            assert runner.returncode == 0, out.decode() + err.decode()
        finally:
            runner.kill()
            stop(ws)
        assert report(project)["shots_done"] == 3
        one_accepted_create_per_take(emu)
        logs = "".join((tmp_path / f"w{i}.log").read_text() for i in range(workers))
        assert logs.count(f"took over lapsed worker w{dead[0]}") == 1, logs
        assert "Traceback" not in logs, logs


@pytest.mark.timeout(900)
def test_paused_worker_past_its_lease_sends_no_second_create(tmp_path: Path, pg_url: str) -> None:
    """SIGSTOP a worker while its takes wait at Kling, past its lease; the other worker takes over. SIGCONT:
    the paused worker finds its lease gone and stops before any create; every take was paid once."""
    project = lease_project(tmp_path / "shoot", shots=3)
    with Emulator(host="127.0.0.1", port=0, scenario="clean", latency=1.5) as emu:
        env = {**emu.env(), "GOLDENCHAIN_DATABASE_URL": pg_url}
        a = start_worker(project, env, "slow", tmp_path / "slow.log")
        runner = start_run(project, env)
        b: subprocess.Popen[bytes] | None = None
        try:
            # the slow worker alone holds work in flight at Kling, then freezes
            wait_for(lambda: accepted_creates(emu.create_requests("kling")), 180, "a Kling create")
            a.send_signal(signal.SIGSTOP)
            b = start_worker(project, env, "live", tmp_path / "live.log")
            wait_for(
                lambda: "took over lapsed worker slow" in (tmp_path / "live.log").read_text(), 180, "takeover"
            )
            a.send_signal(signal.SIGCONT)
            assert a.wait(30) == 75  # its lease is gone: it stops without sending anything more
            out, err = runner.communicate(timeout=600)
            assert runner.returncode == 0, out.decode() + err.decode()
        finally:
            a.send_signal(signal.SIGCONT)
            runner.kill()
            stop([a] + ([b] if b is not None else []))
        assert report(project)["shots_done"] == 3
        one_accepted_create_per_take(emu)
        assert "lease lapsed or was taken over" in (tmp_path / "slow.log").read_text()


@pytest.mark.timeout(900)
def test_a_worker_killed_during_a_takeover(tmp_path: Path, pg_url: str) -> None:
    """w0 dies right after Kling accepted a create; w1 starts taking over its lease and dies half-way (its
    dead executor's workflows back in the queues, the takeover not yet recorded). A worker started after that
    takes over both and the run ends with every shot delivered, each take paid once."""
    project = lease_project(tmp_path / "shoot", shots=3)
    with Emulator(host="127.0.0.1", port=0, scenario="clean", latency=0.4) as emu:
        env = {**emu.env(), "GOLDENCHAIN_DATABASE_URL": pg_url}

        def crash(point: str, mark: str) -> dict[str, str]:
            return {"GOLDENCHAIN_CRASHPOINT": point, "GOLDENCHAIN_CRASHPOINT_MARK": str(tmp_path / mark)}

        w0 = start_worker(project, env, "w0", tmp_path / "w0.log", crash("after_create@kling", "w0-crashed"))
        runner = start_run(project, env)
        ws = [w0]
        try:
            wait_for(lambda: (tmp_path / "w0-crashed").exists(), 300, "w0 at its crash point")
            assert w0.wait(60) == -signal.SIGKILL
            w1 = start_worker(project, env, "w1", tmp_path / "w1.log", crash("takeover", "w1-crashed"))
            ws.append(w1)
            wait_for(lambda: (tmp_path / "w1-crashed").exists(), 300, "w1 half-way through its takeover")
            assert w1.wait(60) == -signal.SIGKILL
            ws.append(start_worker(project, env, "w2", tmp_path / "w2.log"))
            out, err = runner.communicate(timeout=600)  # nobody restarts w0 or w1
            assert runner.returncode == 0, out.decode() + err.decode()
        finally:
            runner.kill()
            stop(ws)
        assert report(project)["shots_done"] == 3
        one_accepted_create_per_take(emu)
        w1_log, w2_log = (tmp_path / "w1.log").read_text(), (tmp_path / "w2.log").read_text()
        assert "took over lapsed worker" not in w1_log, w1_log  # it died before its takeover counted
        for dead in ("w0", "w1"):
            assert w2_log.count(f"took over lapsed worker {dead}") == 1, w2_log
        assert "Traceback" not in w2_log, w2_log

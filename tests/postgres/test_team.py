"""Team mode on PostgreSQL: two workers, the CLI enqueues and follows; a worker killed mid-run is restarted
with its executor id and finishes; exactly one accepted create per take."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from goldenchain.emulator import Emulator
from tests.integration.helpers import accepted_creates, make_project, report, run_cli

pytestmark = pytest.mark.postgres


def start_worker(
    project: Path,
    env: dict[str, str],
    wid: str,
    log: Path,
    extra: dict[str, str] | None = None,
    args: list[str] | None = None,
) -> subprocess.Popen[bytes]:
    f = open(log, "ab")  # noqa: SIM115 - the worker owns it for its lifetime
    p = subprocess.Popen(
        [sys.executable, "-m", "goldenchain", "worker", str(project), "--executor-id", wid, *(args or [])],
        env={**os.environ, **env, **(extra or {})},
        stdout=f,
        stderr=subprocess.STDOUT,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        if b"listening" in log.read_bytes():
            return p
        if p.poll() is not None:
            break
        time.sleep(0.2)
    raise AssertionError(f"worker {wid} did not start: {log.read_text(errors='replace')}")


def stop(ps: list[subprocess.Popen[bytes]]) -> None:
    for p in ps:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in ps:
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()


def test_two_workers_run_the_chain(tmp_path: Path, pg_url: str) -> None:
    project = make_project(tmp_path / "shoot", shots=3)
    with Emulator(host="127.0.0.1", port=0, scenario="demo", latency=0.4) as emu:
        env = {**emu.env(), "GOLDENCHAIN_DATABASE_URL": pg_url}
        workers = [start_worker(project, env, f"w{i}", tmp_path / f"w{i}.log") for i in (1, 2)]
        try:
            r = run_cli(["run", str(project), "--quiet"], env)
            assert r.returncode == 0, r.stdout + r.stderr
        finally:
            stop(workers)
        assert report(project)["shots_done"] == 3
        creates = accepted_creates(emu.requests)
        assert creates and all(n == 1 for n in creates.values()), creates
        logs = (tmp_path / "w1.log").read_text() + (tmp_path / "w2.log").read_text()
        assert "Traceback" not in logs, logs


@pytest.mark.timeout(900)
@pytest.mark.parametrize(
    "point",
    ["before_create@kling", "after_create@kling", "polling@kling", "downloading@kling", "after_create@fal"],
)
def test_worker_killed_mid_run_is_resumed(tmp_path: Path, pg_url: str, point: str) -> None:
    project = make_project(tmp_path / "shoot", shots=2)
    with Emulator(host="127.0.0.1", port=0, scenario="clean", latency=0.4) as emu:
        env = {**emu.env(), "GOLDENCHAIN_DATABASE_URL": pg_url}
        crash = {
            "GOLDENCHAIN_CRASHPOINT": point,
            "GOLDENCHAIN_CRASHPOINT_MARK": str(tmp_path / "crashed"),
        }
        w1 = start_worker(project, env, "w1", tmp_path / "w1.log", crash)
        w2 = start_worker(project, env, "w2", tmp_path / "w2.log", crash)
        runner = subprocess.Popen(
            [sys.executable, "-m", "goldenchain", "run", str(project), "--quiet"],
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            deadline = time.time() + 300  # a loaded machine: workers and the run start slowly
            while not (tmp_path / "crashed").exists() and time.time() < deadline:
                time.sleep(0.2)
            assert (tmp_path / "crashed").exists(), "no worker reached the crash point"
            time.sleep(1.0)
            dead = [(wid, w) for wid, w in (("w1", w1), ("w2", w2)) if w.poll() is not None]
            assert len(dead) == 1 and dead[0][1].returncode == -signal.SIGKILL
            wid = dead[0][0]
            restarted = start_worker(project, env, wid, tmp_path / f"{wid}-again.log")
            out, err = runner.communicate(timeout=240)
            assert runner.returncode == 0, out.decode() + err.decode()
        finally:
            runner.kill()
            stop([w1, w2] + ([restarted] if "restarted" in locals() else []))
        assert report(project)["shots_done"] == 2
        creates = accepted_creates(emu.requests)
        assert creates and all(n == 1 for n in creates.values()), creates


def test_queue_routing_holds_across_workers(tmp_path: Path, pg_url: str) -> None:
    """A worker that does not listen to a queue never runs its work (the GPU-queue rule)."""
    import psycopg

    project = make_project(tmp_path / "shoot", shots=2)
    with Emulator(host="127.0.0.1", port=0, scenario="clean", latency=0.3) as emu:
        env = {**emu.env(), "GOLDENCHAIN_DATABASE_URL": pg_url}
        a = start_worker(
            project, env, "stills-only", tmp_path / "a.log", None, ["--queues", "gc-shots,gc-fal"]
        )
        b = start_worker(project, env, "video-only", tmp_path / "b.log", None, ["--queues", "gc-kling"])
        try:
            r = run_cli(["run", str(project), "--quiet"], env)
            assert r.returncode == 0, r.stdout + r.stderr
        finally:
            stop([a, b])
    with psycopg.connect(pg_url) as c:
        rows = c.execute(
            "SELECT queue_name, executor_id FROM dbos.workflow_status WHERE queue_name IS NOT NULL"
        ).fetchall()
    seen = {(q, e) for q, e in rows}
    assert ("gc-kling", "video-only") in seen and ("gc-fal", "stills-only") in seen
    assert all(e == "video-only" for q, e in seen if q == "gc-kling")
    assert all(e == "stills-only" for q, e in seen if q in ("gc-fal", "gc-shots"))

"""Team mode: the local routes' takes wait in the GPU queue, and only a worker started with ``--queues gpu``
runs them; a worker started without ``--queues`` serves the shots and never a local take."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.helpers import report, run_cli
from tests.local.conftest import local_project
from tests.postgres.test_team import start_worker, stop

pytestmark = pytest.mark.postgres


def test_only_the_gpu_worker_renders(tmp_path: Path, pg_url: str) -> None:
    import psycopg

    from goldenchain.providers.local.tiny import save_tiny_flux, save_tiny_svd

    weights = tmp_path / "weights"
    save_tiny_flux(weights / "tiny-flux")
    save_tiny_svd(weights / "tiny-svd")
    project = local_project(tmp_path / "shoot", weights, shots=2)
    env = {"GOLDENCHAIN_DATABASE_URL": pg_url}
    cpu = start_worker(project, env, "cpu-box", tmp_path / "cpu.log")
    gpu = start_worker(project, env, "gpu-box", tmp_path / "gpu.log", None, ["--queues", "gpu"])
    try:
        r = run_cli(["run", str(project), "--quiet", "--only", "stills"], env)
        assert r.returncode == 0, r.stdout + r.stderr
    finally:
        stop([cpu, gpu])
    assert b"listening to gc-gpu\n" in (tmp_path / "gpu.log").read_bytes()
    assert b"gc-gpu" not in (tmp_path / "cpu.log").read_bytes()
    with psycopg.connect(pg_url) as c:
        rows = c.execute(
            "SELECT queue_name, executor_id FROM dbos.workflow_status WHERE queue_name IS NOT NULL"
        ).fetchall()
    seen = {(q, e) for q, e in rows}
    assert seen == {("gc-shots", "cpu-box"), ("gc-gpu", "gpu-box")}, seen
    takes = [t for s in report(project)["shots"] for t in s["takes"]]
    assert len(takes) == 2 and all(
        t["provider"] == "local-flux" and t["state"] == "downloaded" and t["unit"] == "gpu_seconds"
        for t in takes
    )

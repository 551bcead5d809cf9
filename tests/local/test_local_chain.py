"""The local routes through the whole chain on the CPU with tiny random-weight pipelines: a FLUX still (a real
PNG at the golden size) through the image gate, an SVD clip (a real H.264 MP4) through the clip check, each
take in the ledger before the render and counted only once hashed, billed by the GPU-hour from its measured
seconds; and a run killed after a render and before the ledger heard of it resumes without rendering again."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
from pathlib import Path

import pytest
from PIL import Image

from tests.integration.helpers import probe, report, run_cli
from tests.local.conftest import CLIP, local_project

RATE = 3.6  # [prices] gpu_usd_per_hour: a cent per GPU-second, easy to check


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_local_take_killed_after_its_render_resumes_without_rendering_again(
    tmp_path: Path, tiny_weights: Path
) -> None:
    project = local_project(tmp_path / "shoot", tiny_weights, gpu_usd_per_hour=RATE)
    crash = {
        "GOLDENCHAIN_CRASHPOINT": "after_create@local-flux",
        "GOLDENCHAIN_CRASHPOINT_MARK": str(tmp_path / "x"),
    }
    r = run_cli(["run", str(project), "--quiet"], crash)
    assert r.returncode == -signal.SIGKILL, r.stdout + r.stderr
    # the still was rendered and kept on this machine; the ledger has the intent, not the task
    results = Path(os.environ["GOLDENCHAIN_HOME"]) / "local-results"
    (png,) = results.glob("*.png")
    rendered = (png.stat().st_mtime_ns, _sha(png))
    with sqlite3.connect(project / ".goldenchain" / "state.db") as db:
        assert db.execute("select stage, state from gc_takes").fetchall() == [("still", "submitting")]

    r2 = run_cli(["run", str(project), "--quiet"], {})
    assert r2.returncode == 1, r2.stdout + r2.stderr  # the clip check rejects the tiny model's clip (below)
    assert (
        png.stat().st_mtime_ns,
        _sha(png),
    ) == rendered  # found again by the take's own id, not re-rendered
    with sqlite3.connect(project / ".goldenchain" / "state.db") as db:
        ops = [op for (op,) in db.execute("select op from gc_provider_calls order by id")]
    assert ops.count("lookup") == 1, ops

    shot = report(project)["shots"][0]
    takes = {t["stage"]: t for t in shot["takes"]}
    assert sorted(takes) == ["clip", "still"] and len(shot["takes"]) == 2  # one render each, no more
    still, clip = takes["still"], takes["clip"]
    for t in (still, clip):
        assert t["state"] == "downloaded" and t["unit"] == "gpu_seconds" and t["billed_units"] > 0, t
        assert t["cost_usd"] == pytest.approx(t["billed_units"] * RATE / 3600, abs=1e-6)
    # the still: the rendered PNG, hashed into the store, at the size asked for, passed by the real gate
    assert still["artifact_sha256"] == rendered[1] and still["provider"] == "local-flux"
    art = project / "artifacts" / "sha256" / rendered[1][:2] / f"{rendered[1][2:]}.png"
    with Image.open(art) as img:
        assert (img.format, img.size) == ("PNG", (1824, 1024))
    assert still["verdict"] == "pass", still["checks"]
    # the clip: a real H.264 MP4 of the tiny SVD's frames over the shot's 5 s
    mp4 = next((project / "artifacts").rglob(f"{clip['artifact_sha256'][2:]}.mp4"))
    info = probe(mp4)
    w, h, fps = CLIP
    assert (info["codec"], info["width"], info["height"], info["frames"]) == ("h264", w, h, 10)
    assert info["duration"] == pytest.approx(5.0, abs=0.01) and info["fps"] == pytest.approx(fps)
    # random weights do not keep the start frame: the real clip check says so, and the shot stops there
    assert (shot["status"], shot["stage"]) == ("failed", "qc")
    assert "first_frame" in shot["detail"], shot["detail"]

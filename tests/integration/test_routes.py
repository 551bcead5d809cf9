"""Every provider route end to end, as a new user tries it: a small project per route (fal, Replicate and
Together stills; Kling official, Kling on fal and Kling on Replicate clips), every command that takes a project
(lint, estimate, run --max-cost, status, costs, failures) through the real CLI against the emulator, no
traceback anywhere, the run done, and the ledger's actual cost read from each provider's own billing answer
with the model's price rule."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from goldenchain.core.models import Catalog
from goldenchain.emulator import Emulator
from goldenchain.plugins.manager import Registry, make_plugin_manager
from tests.integration.helpers import make_project, run_cli

CATALOG: Catalog = Registry(make_plugin_manager(entrypoints=False)).catalog
FAL_STILL = ("fal", "fal-ai/flux/dev", 1824, 1024)
KLING_CLIP = ("kling", "kling-v1-5", "pro")
#: route -> (stills provider, model, width, height), (video provider, model, mode)
ROUTES: dict[str, tuple[tuple[str, str, int, int], tuple[str, str, str]]] = {
    "fal+kling": (FAL_STILL, KLING_CLIP),
    "replicate": (("replicate", "black-forest-labs/flux-1.1-pro-ultra", 1920, 1080), KLING_CLIP),
    "together": (("together", "black-forest-labs/FLUX.1-dev", 1824, 1024), KLING_CLIP),
    "fal-kling": (FAL_STILL, ("fal-kling", "fal-ai/kling-video/v2.1/pro/image-to-video", "pro")),
    "replicate-kling": (FAL_STILL, ("replicate-kling", "kwaivgi/kling-v2.1", "pro")),
    "kling-v2-6": (("fal", "fal-ai/flux-pro/v1.1", 1824, 1024), ("kling", "kling-v2-6", "pro")),
    # a model the project adds itself, billed per second of compute (Replicate's metrics.predict_time)
    "project-model": (("replicate", "black-forest-labs/flux-pro", 1920, 1080), KLING_CLIP),
}
PROJECT_MODEL = """
[models."replicate:black-forest-labs/flux-pro"]
like = "replicate:black-forest-labs/flux-dev"
price = { per = "compute_second", usd = 0.002, expected_seconds = 5, source = "GPU seconds", date = "2026-11-20" }
"""
TRACEBACK = re.compile(r"Traceback|^\s+File \"", re.MULTILINE)


def route_project(root: Path, still: tuple[str, str, int, int], clip: tuple[str, str, str]) -> Path:
    project = make_project(root, shots=1, poll_interval=0.2)
    cfg = project / "goldenchain.toml"
    text = cfg.read_text()
    sp, sm, w, h = still
    vp, vm, mode = clip
    text = re.sub(
        r'(\[stills\][^\[]*?)provider = "fal"\nmodel = "[^"]+"', rf'\1provider = "{sp}"\nmodel = "{sm}"', text
    )
    text = re.sub(r"width = \d+", f"width = {w}", text, count=1)
    text = re.sub(r"height = \d+", f"height = {h}", text, count=1)
    text = re.sub(
        r'(\[video\][^\[]*?)provider = "kling"\nmodel = "[^"]+"\nmode = "pro"',
        rf'\1provider = "{vp}"\nmodel = "{vm}"\nmode = "{mode}"',
        text,
    )
    if sm == "black-forest-labs/flux-pro":
        # about 1 MP (1344x768): smaller than the gate's profile wants, so this project checks no stills
        text = text.replace("[gate]\n", "[gate]\nenabled = false\n") + PROJECT_MODEL
    cfg.write_text(text)
    spec = CATALOG.require(vp, vm, "i2v")
    if not spec.camera:  # the golden camera needs kling-v1-5 pro 5 s: without it, no camera
        shots = project / "shots.yaml"
        shots.write_text(
            re.sub(
                r"camera: \{[^}]*\}",
                "camera: {horizontal: 0, vertical: 0, zoom: 0, rotation: 0}",
                shots.read_text(),
            )
        )
    return project


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(host="127.0.0.1", port=0, scenario="clean", latency=0.2) as e:
        yield e


def _ok(r: Any, code: int = 0) -> None:
    assert r.returncode == code, r.stdout + r.stderr
    assert not TRACEBACK.search(r.stdout + r.stderr), r.stdout + r.stderr


@pytest.mark.parametrize("route", list(ROUTES))
def test_route_end_to_end(tmp_path: Path, emu: Emulator, route: str) -> None:
    still, clip = ROUTES[route]
    project = route_project(tmp_path / route, still, clip)
    env = emu.env()
    lint = run_cli(["lint", str(project), "--json"], env)
    _ok(lint)
    assert not [f for f in json.loads(lint.stdout) if f["severity"] == "error"], lint.stdout
    est = run_cli(["estimate", str(project), "--json"], env)
    _ok(est)
    estimate = json.loads(est.stdout)
    catalog = CATALOG
    if route == "project-model":
        from goldenchain.catalog import apply_project_file

        catalog = apply_project_file(project / "goldenchain.toml", {})
    still_spec = catalog.require(still[0], still[1], "t2i")
    clip_spec = catalog.require(clip[0], clip[1], "i2v")
    want_still = still_spec.still_price(still[2], still[3]).usd
    want_clip = clip_spec.clip_price(clip[2], 5).usd
    assert estimate["shots"]["s01"]["still_usd"] == pytest.approx(want_still)
    assert estimate["shots"]["s01"]["clip_usd"] == pytest.approx(want_clip)
    assert set(estimate["by_provider"]) == {still[0], clip[0]}
    run = run_cli(["run", str(project), "--quiet", "--max-cost", f"{estimate['total_usd'] + 0.01:.2f}"], env)
    _ok(run)
    status = run_cli(["status", str(project), "--json"], env)
    _ok(status)
    assert '"status": "done"' in status.stdout
    for args in (["costs", str(project)], ["failures", str(project)]):  # the human tables too
        _ok(run_cli(args, env))

    db = sqlite3.connect(project / ".goldenchain" / "state.db")
    rows = db.execute(
        "select stage, provider, model, cost_usd, billed_units, unit, estimate_usd from gc_takes where state='downloaded'"
    ).fetchall()
    db.close()
    by_stage = {r[0]: r for r in rows}
    assert set(by_stage) == {"still", "clip"}, rows
    for stage, spec in (("still", still_spec), ("clip", clip_spec)):
        _, provider, model, cost, billed, unit, estimate_usd = by_stage[stage]
        assert (provider, model) == (spec.route, spec.model)
        assert billed is not None and unit is not None, (stage, route)  # the provider said what it billed
        assert cost == pytest.approx(spec.actual_usd(billed, unit, estimate_usd)[0], abs=1e-6)
        assert cost > 0
    # the clip's billing answer, per provider: Kling's final_unit_deduction, fal's and Replicate's seconds
    if route == "project-model":
        assert by_stage["still"][5] == "compute_seconds" and 0 < by_stage["still"][4] < 5
    clip_row = by_stage["clip"]
    if clip[0] == "kling":
        assert clip_row[5] == "credits" and clip_row[3] == pytest.approx(clip_row[4] * clip_spec.price.usd)
    else:
        assert clip_row[5] == "seconds" and clip_row[4] == 5.0
        assert clip_row[3] == pytest.approx(5 * clip_spec.price.usd)
    costs = json.loads(run_cli(["costs", str(project), "--json"], env).stdout)
    assert costs["total_usd"] == pytest.approx(by_stage["still"][3] + by_stage["clip"][3], abs=1e-3)


def test_a_model_without_a_spec_is_refused_before_any_spend(tmp_path: Path, emu: Emulator) -> None:
    project = route_project(tmp_path / "nospec", FAL_STILL, KLING_CLIP)
    cfg = project / "goldenchain.toml"
    cfg.write_text(cfg.read_text().replace('model = "kling-v1-5"', 'model = "kling-v9"'))
    before = len(emu.requests)
    for args in (["estimate", str(project)], ["run", str(project), "--quiet"],
                 ["run", str(project), "--quiet", "--force", "try it"]):  # fmt: skip
        r = run_cli(args, emu.env())
        _ok(r, 2)
        assert len(r.stderr.strip().splitlines()) == 1 and "kling-v9" in r.stderr, r.stderr
    lint = run_cli(["lint", str(project), "--json"], emu.env())
    _ok(lint, 1)
    assert any("no model spec" in f["message"] for f in json.loads(lint.stdout))
    assert len(emu.requests) == before


def test_camera_on_a_model_that_cannot_is_a_lint_error_naming_the_one_that_can(tmp_path: Path) -> None:
    project = route_project(tmp_path / "cam", FAL_STILL, KLING_CLIP)
    cfg = project / "goldenchain.toml"
    cfg.write_text(cfg.read_text().replace('model = "kling-v1-5"', 'model = "kling-v2-1"'))
    r = run_cli(["lint", str(project), "--json"], {})
    _ok(r, 1)
    (cam,) = [f for f in json.loads(r.stdout) if f["rule"] == "camera-unsupported"]
    assert cam["severity"] == "error" and "kling-v1-5 pro 5 s" in cam["hint"]
    r = run_cli(["run", str(project), "--quiet"], {})
    _ok(r, 2)
    assert "camera" in r.stderr


def test_text_to_video_through_run(tmp_path: Path, emu: Emulator) -> None:
    """``[video] source = "text"``: no still is made or paid for; the clip comes from Kling's text2video
    route, priced with the text-to-video spec, checked and delivered like any clip."""
    project = route_project(tmp_path / "t2v", FAL_STILL, KLING_CLIP)
    cfg = project / "goldenchain.toml"
    text = cfg.read_text().replace('model = "kling-v1-5"', 'model = "kling-v1-6"\nsource = "text"')
    cfg.write_text(text)
    shots = project / "shots.yaml"
    shots.write_text(
        re.sub(
            r"camera: \{[^}]*\}",
            "camera: {horizontal: 0, vertical: 0, zoom: 0, rotation: 0}",
            shots.read_text(),
        )
    )
    env = emu.env()
    lint = run_cli(["lint", str(project), "--json"], env)
    _ok(lint)
    assert not [f for f in json.loads(lint.stdout) if f["severity"] == "error"], lint.stdout
    est = run_cli(["estimate", str(project), "--json"], env)
    _ok(est)
    estimate = json.loads(est.stdout)
    spec = CATALOG.require("kling", "kling-v1-6", "t2v")
    want = spec.clip_price("pro", 5).usd
    assert estimate["shots"]["s01"]["still_usd"] == 0
    assert estimate["shots"]["s01"]["clip_usd"] == pytest.approx(want)
    assert estimate["total_usd"] == pytest.approx(want)
    assert set(estimate["by_provider"]) == {"kling"}
    r = run_cli(["run", str(project), "--quiet", "--only", "stills"], env)
    _ok(r, 2)
    assert "text-to-video" in r.stderr
    before = len(emu.requests)
    run = run_cli(["run", str(project), "--quiet", "--max-cost", f"{want + 0.01:.2f}"], env)
    _ok(run)
    status = json.loads(run_cli(["status", str(project), "--json"], env).stdout)
    (shot,) = status["shots"] if isinstance(status, dict) else status
    assert shot["status"] == "done", shot
    paths = [e["path"] for e in emu.create_requests()[-1:]] + [e["path"] for e in emu.requests[before:]]
    assert any(p.endswith("/v1/videos/text2video") for p in paths), paths
    assert not any("image2video" in p or "flux" in p for p in paths), paths
    assert [e["provider"] for e in emu.requests[before:] if e.get("op") == "create"] == ["kling"]
    for args in (["costs", str(project)], ["failures", str(project)], ["status", str(project)]):
        _ok(run_cli(args, env))
    db = sqlite3.connect(project / ".goldenchain" / "state.db")
    rows = db.execute(
        "select stage, provider, model, cost_usd, billed_units, unit, request from gc_takes"
    ).fetchall()
    db.close()
    assert [r[:3] for r in rows] == [("clip", "kling", "kling-v1-6")], rows
    assert "image_sha256" not in json.loads(rows[0][6])
    assert rows[0][5] == "credits" and rows[0][3] == pytest.approx(rows[0][4] * spec.price.usd)
    out = project / "out"
    report = json.loads((out / "report.json").read_text())
    assert (out / "final.mp4").stat().st_size > 0 and (out / "report.html").is_file()
    assert report["shots"][0]["status"] == "done" if isinstance(report.get("shots"), list) else report

"""Golden prompts: the shipped library, a project's candidate, promotion earned on a real record (Wilson
interval from scipy), retirement, and lint pointing at the closest golden prompt."""

from __future__ import annotations

import json
import re
from pathlib import Path

from scipy.stats import binomtest

from goldenchain.emulator import Emulator
from tests.integration.helpers import make_project, run_cli

PROMPT = "Medium shot of a potter at a wheel, soft window light, plain background, 50mm lens"


def _list(project: Path) -> dict[str, dict[str, object]]:
    r = run_cli(["prompts", "list", "--project", str(project), "--json"], {})
    assert r.returncode == 0, r.stderr
    return {e["id"]: e for e in json.loads(r.stdout)}


def test_the_library_ships_one_golden_prompt_per_scene_and_the_calibration_street(tmp_path: Path) -> None:
    lib = _list(tmp_path)
    golden = [e for e in lib.values() if e["status"] == "golden" and e["kind"] == "good"]
    assert {e["scene"] for e in golden} == {"portrait", "landscape", "environment", "action", "product"}
    assert "Tokyo" in str(lib["calibration-tokyo-street"]["prompt"])
    assert all(e["status"] == "retired" for e in lib.values() if e["kind"] == "bad")


def test_promotion_is_earned_on_the_record(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shoot", shots=3)
    shots = (project / "shots.yaml").read_text()
    shots = re.sub(r'prompt: "[^"]*"', f'prompt: "{PROMPT}"', shots)
    (project / "shots.yaml").write_text(shots)
    add = run_cli(
        ["prompts", "add", "potter", "--prompt", PROMPT, "--scene", "portrait", "--project", str(project)], {}
    )
    assert add.returncode == 0, add.stderr
    assert _list(project)["potter"]["status"] == "candidate"
    early = run_cli(["prompts", "promote", "potter", "--project", str(project)], {})
    assert early.returncode == 1 and "has not earned it yet: no takes" in early.stderr
    with Emulator(host="127.0.0.1", port=0, scenario="clean", latency=0.3) as emu:
        assert run_cli(["run", str(project), "--quiet"], emu.env()).returncode == 0
    rec = _list(project)["potter"]["record"]
    assert isinstance(rec, dict) and rec["takes"] == 6 and rec["passed"] == 6  # 3 stills and 3 clips
    ci = binomtest(6, 6).proportion_ci(method="wilson")
    assert rec["low"] == round(ci.low, 4) and rec["high"] == round(ci.high, 4)
    ok = run_cli(["prompts", "promote", "potter", "--project", str(project)], {})
    assert ok.returncode == 0 and "is golden" in ok.stdout
    assert _list(project)["potter"]["status"] == "golden"
    assert run_cli(["prompts", "retire", "potter", "--project", str(project)], {}).returncode == 0
    assert _list(project)["potter"]["status"] == "retired"
    assert run_cli(["prompts", "retire", "portrait-keeper", "--project", str(project)], {}).returncode == 2


def test_lint_points_at_the_closest_golden_prompt(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shoot", shots=1)
    shots = (project / "shots.yaml").read_text()
    shots = re.sub(
        r'prompt: "[^"]*"', 'prompt: "Lighthouse keeper on a cliff, trending on artstation"', shots, count=1
    )
    (project / "shots.yaml").write_text(shots)
    r = run_cli(["lint", str(project)], {"COLUMNS": "120"})
    assert r.returncode == 1
    assert "s01: closest golden prompt: portrait-keeper" in r.stdout

"""The image gate's near-duplicate comparison with the other shots' stills in a run: on by default (a shot that
asks for another shot's very still is rejected, and re-rolled), off with ``[gate] near_duplicates = false``
(as an A/B test runs, whose paired variants share their stills on purpose)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from goldenchain import api
from goldenchain.emulator import Emulator
from tests.integration.helpers import make_project, run_cli


def _twin_shots(root: Path, compare: bool) -> Path:
    project = make_project(root, shots=2)
    path = project / "shots.yaml"
    doc = yaml.safe_load(path.read_text())
    first, second = doc["shots"][:2]
    second.update(prompt=first["prompt"], seed=first["seed"], aspect=first["aspect"])  # the very same still
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    if not compare:
        toml = project / "goldenchain.toml"
        toml.write_text(toml.read_text().replace("[gate]\n", "[gate]\nnear_duplicates = false\n", 1))
    return project


@pytest.mark.parametrize("compare", [True, False], ids=["on", "off"])
def test_near_duplicate_comparison_in_a_run(tmp_path: Path, compare: bool) -> None:
    project = _twin_shots(tmp_path / "shoot", compare)
    with Emulator(host="127.0.0.1", port=0, scenario="clean", latency=0.1) as emu:
        env = emu.env()
        for shot in ("s01", "s02"):  # one after the other: the second sees the first's accepted still
            r = run_cli(["run", str(project), "--only", "stills", "--shots", shot, "--quiet"], env)
            assert r.returncode == 0, r.stdout + r.stderr
        st = {s["shot"]: s for s in json.loads(run_cli(["status", str(project), "--json"], env).stdout)}
    stills = [t for t in api.takes(api.open_project(project), "s02") if t.stage == "still"]
    first = stills[0]
    if compare:
        assert st["s02"]["verdicts"][:2] == ["still1:reject", "still2:pass"], st["s02"]
        assert first.verdict == "reject" and "near_duplicate" in (first.reason or ""), first.reason
    else:
        assert st["s02"]["verdicts"] == ["still1:pass"], st["s02"]
        assert first.verdict == "pass" and len(stills) == 1

"""An A/B test finds a failure rule the emulator was given and nothing it was not: on the ``field`` scenario (the
guide's failure modes drawn per request, no scripted faults) a strong camera move on a busy scene melts the
background, which the clip check rejects, so 80 % against 20 % of the camera's range gives a winner; two
colour words, which no rule reads, give none. Real runs of the CLI against the emulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from goldenchain import api
from goldenchain.emulator import Emulator
from tests.integration.helpers import make_project, run_cli

BUSY = "Medium shot of a flower seller at a busy street market, overcast light, simple composition, 35mm lens"
CALM = "Medium shot of a woman in a {} coat on a quiet park bench, neutral overcast light, 35mm lens"


def _run(project: Path, env: dict[str, str], name: str, args: list[str]) -> dict[str, Any]:
    new = run_cli(["abtest", "new", name, "--project", str(project), "--shot", "s01", *args], env)
    assert new.returncode == 0, new.stdout + new.stderr
    r = run_cli(["abtest", "run", name, "--project", str(project), "--json"], env, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    rep: dict[str, Any] = json.loads(r.stdout)
    return rep


def _takes(project: Path, name: str) -> list[Any]:
    p = api.open_project(project)
    led = api.open_ledger(p)
    assert led is not None
    try:
        return led.takes(f"{p.id}.ab.{name}")
    finally:
        led.db.dispose()


def test_a_strong_camera_on_a_busy_scene_loses(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shoot", shots=1)
    with Emulator(host="127.0.0.1", port=0, scenario="field", latency=0.1) as emu:
        rep = _run(
            project,
            emu.env(),
            "camera",
            [
                "--pairs", "10", "--variant", f"gentle={BUSY}", "--variant", f"strong={BUSY}",
                "--setting", "gentle:camera.horizontal=2", "--setting", "strong:camera.horizontal=8",
            ],
        )  # fmt: skip
        fired = [rule for rule, _, _ in emu.rules.fired]
    assert set(fired) == {"busy-camera-melt"}, fired  # the only rule the requests met
    assert rep["winner"] == "gentle" and rep["winner_by"] == "verdicts", rep["summary"]
    (c,) = rep["comparisons"]
    assert c["only_base"] >= 6 and c["only_other"] == 0 and c["p_verdicts"] < 0.05
    gentle, strong = rep["variants"]
    clips = [t for t in _takes(project, "camera") if t.stage == "clip"]
    why = [(t.shot_id, t.verdict, t.failure_class, t.failure_reason) for t in clips if t.verdict != "pass"]
    assert gentle["accepted"] >= 9 and gentle["takes"] == strong["takes"] == 10, why
    # every melted clip, and no other strong one, rejected by the clip check's warp measure
    melted = [t for t in clips if t.shot_id.startswith("strong-") and t.verdict == "reject"]
    assert len(melted) == len(fired) == 10 - strong["accepted"], why
    assert all("warp" in (t.failure_reason or "") for t in melted), why
    # a pair's variants share their still (same prompt, same seed), and the gate passed both
    stills = {t.shot_id: t for t in _takes(project, "camera") if t.stage == "still"}
    for i in range(1, 11):
        g, s = stills[f"gentle-p{i:03d}"], stills[f"strong-p{i:03d}"]
        assert g.artifact_sha256 == s.artifact_sha256 and g.verdict == s.verdict == "pass"


def test_two_colour_words_give_no_winner(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shoot", shots=1)
    with Emulator(host="127.0.0.1", port=0, scenario="field", latency=0.1) as emu:
        rep = _run(
            project,
            emu.env(),
            "colour",
            [
                "--pairs", "6", "--variant", "teal=" + CALM.format("teal"), "--variant", "red=" + CALM.format("red"),
                "--setting", "teal:camera.horizontal=2", "--setting", "red:camera.horizontal=2",
            ],
        )  # fmt: skip
        assert emu.rules.fired == []
    assert rep["winner"] is None and rep["summary"].startswith("no difference yet")
    assert [v["accepted"] for v in rep["variants"]] == [6, 6]

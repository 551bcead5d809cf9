"""goldenchain calibrate through the real command line, the real chain and the emulator: a first run is the
baseline, a second on the same unchanged models flags nothing, and a run after the models drifted (the
emulator's ``drift`` scenario) flags exactly what changed: the clip's cost and latency, the stills'
exposure and a new moderation refusal, and not the still's cost or latency or the first-frame similarity."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from goldenchain.emulator.server import Emulator
from tests.integration.helpers import make_project, run_cli

#: what the drift scenario leaves unchanged: never flagged
UNCHANGED = {"still.cost_usd", "still.latency_s", "first_frame", "still.rejected", "clip.rejected"}
#: what it changes: each must be flagged
CHANGED = {"refused", "clip.cost_usd", "clip.latency_s", "gate.exposure"}


def _calibrate(root: Path, scenario: str, *args: str) -> tuple[int, str, str, Emulator]:
    with Emulator(scenario=scenario, latency=2.0) as emu:
        done = run_cli(["calibrate", str(root), *args], emu.env(), timeout=600)
    return done.returncode, done.stdout, done.stderr, emu


def test_drift_is_flagged_and_clean_runs_are_not(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", shots=1, poll_interval=0.2)
    # the emulator renders each still and clip on this machine's CPU when it is fetched, which a loaded test
    # machine slows by seconds: latency drifts of less than 5 s are noise here (the drift adds 10 s per clip)
    cfg = root / "goldenchain.toml"
    cfg.write_text(cfg.read_text() + "\n[calibration]\nlatency_min_s = 5.0\n")

    # over the cap: refused before any spend, the estimate shown first
    rc, out, err, emu = _calibrate(root, "clean", "--max-cost", "0.5", "--json")
    assert rc == 1, err
    assert "estimate $" in err and "nothing spent" in err
    assert emu.count(creates=True) == 0

    rc, out, err, _ = _calibrate(root, "clean", "--json")
    assert rc == 0, err
    first = json.loads(out)
    assert first["baseline"] is True and first["flagged"] == [] and first["previous"] is None
    assert len(first["prompts"]) == 6 and all(p["status"] == "done" for p in first["prompts"])
    assert {p["prompt"] for p in first["prompts"]} >= {"calibration-tokyo-street", "action-cyclist"}
    assert 0 < first["spent_usd"] <= first["estimate_usd"] + 1e-6
    names = {m["metric"] for m in first["metrics"]}
    assert {"gate.exposure", "gate.blur", "qc.flicker", "first_frame", "clip.latency_s"} <= names

    # the same models again: the table, nothing flagged, exit 0
    rc, out, err, _ = _calibrate(root, "clean")
    assert rc == 0, out + err
    lines = out.splitlines()
    assert all(len(line) <= 80 for line in lines), lines
    assert f"against calibration {first['calibration']}" in out and "DRIFT" not in out

    # the models drifted: what changed is flagged, exit 1
    rc, out, err, _ = _calibrate(root, "drift", "--json", "--plot", str(tmp_path / "cal.png"))
    assert rc == 1, err
    drift = json.loads(out)
    flagged = set(drift["flagged"])
    by = {m["metric"]: m for m in drift["metrics"]}
    assert flagged >= CHANGED, (flagged, {k: (by[k]["now"], by[k]["last"]) for k in CHANGED})
    assert not (UNCHANGED & flagged), flagged
    assert by["clip.cost_usd"]["relative"] == 0.5  # the emulator bills 1.5x the units
    assert by["refused"]["now"] == 1 and by["refused"]["last"] == 0
    assert by["gate.exposure"]["now"] < by["gate.exposure"]["last"]
    cyclist = next(p for p in drift["prompts"] if p["prompt"] == "action-cyclist")
    assert cyclist["status"] == "failed" and cyclist["metrics"]["refused"] == 1
    with Image.open(tmp_path / "cal.png") as img:
        assert img.format == "PNG" and img.width > 400

    # the history: three runs, each against the one before
    rc, out, err, _ = _calibrate(root, "clean", "--history", "--json")
    assert rc == 0, err
    hist = json.loads(out)
    assert len(hist) == 3 and hist[0]["calibration"] == first["calibration"]
    assert hist[2]["previous"] == hist[1]["calibration"] and set(hist[2]["flagged"]) == flagged


def test_bad_input_is_exit_2(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", shots=1)
    done = run_cli(["calibrate", str(root), "--history", "--json"], {})
    assert done.returncode == 0 and json.loads(done.stdout) == []  # no calibration yet: an empty history
    for args in (["--max-cost", "-1"], ["--plot", "x.txt"], ["--history", "--plot", "x.png"]):
        done = run_cli(["calibrate", str(root), *args], {})
        assert done.returncode == 2, (args, done.stderr)
        assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    cfg = root / "goldenchain.toml"
    cfg.write_text(cfg.read_text() + '\n[calibration]\nprompts = ["no-such-prompt"]\n')
    done = run_cli(["calibrate", str(root), "--dry-run"], {})
    assert done.returncode == 2 and "no-such-prompt" in done.stderr and "Traceback" not in done.stderr

"""goldenchain calibrate through the real command line, the real chain and the emulator: a first run is the
baseline, a second on the same unchanged models flags nothing, and a run after the models drifted (the
emulator's ``drift`` scenario) flags exactly what changed: the clip's cost and latency, the stills'
exposure and a new moderation refusal, and not the still's cost or latency or the first-frame similarity."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from goldenchain.core.calibration import seed_for
from goldenchain.emulator.server import Emulator
from tests.integration.helpers import make_project, run_cli

#: what the drift scenario leaves unchanged: never flagged
UNCHANGED = {"still.cost_usd", "still.latency_s", "first_frame", "still.rejected", "clip.rejected"}
#: what it changes: each must be flagged
CHANGED = {"refused", "clip.cost_usd", "clip.latency_s", "gate.exposure"}


def _calibrate(root: Path, scenario: str, *args: str) -> tuple[int, str, str, Emulator]:
    with Emulator(scenario=scenario, latency=4.0) as emu:
        done = run_cli(["calibrate", str(root), *args], emu.env(), timeout=600)
    return done.returncode, done.stdout, done.stderr, emu


def test_drift_is_flagged_and_clean_runs_are_not(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", shots=1, poll_interval=0.2)
    # three of the six prompts (the Tokyo street, the one the drift refuses, one more), to keep the test short;
    # the emulator renders each still and clip on this machine's CPU when it is fetched, which a loaded machine
    # slows by seconds (up to 10 at a load average of 20): a latency drift under 10 s is noise here (the drift
    # adds 20 s to each clip)
    cfg = root / "goldenchain.toml"
    cfg.write_text(
        cfg.read_text() + "\n[calibration]\nlatency_min_s = 10.0\n"
        'prompts = ["calibration-tokyo-street", "action-cyclist", "product-teapot"]\n'
    )

    # over the cap: refused before any spend, the estimate shown first
    rc, out, err, emu = _calibrate(root, "clean", "--max-cost", "0.5", "--json")
    assert rc == 1, err
    assert "estimate $" in err and "nothing spent" in err
    assert emu.count(creates=True) == 0

    rc, out, err, _ = _calibrate(root, "clean", "--json")
    assert rc == 0, err
    first = json.loads(out)
    assert first["baseline"] is True and first["flagged"] == [] and first["previous"] is None
    assert len(first["prompts"]) == 3 and all(p["status"] == "done" for p in first["prompts"])
    for p in first["prompts"]:  # each prompt's still and clip, to look at
        with Image.open(root / p["still"]) as img:
            assert img.width >= 1024
        assert (root / p["clip"]).read_bytes()[4:8] == b"ftyp"
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
    plan = run_cli(["calibrate", str(root), "--dry-run", "--json"], {})  # no keys, no emulator: no spend
    assert plan.returncode == 0, plan.stderr
    shown = json.loads(plan.stdout)
    assert [x["seed"] for x in shown["prompts"]] == [seed_for(x["prompt"]) for x in shown["prompts"]]
    assert len(shown["prompts"]) == 6 and shown["estimate"]["worst_case_usd"] > 0 and not shown["resumed"]
    cfg = root / "goldenchain.toml"
    text = cfg.read_text()
    cfg.write_text(text.replace("[budget]", "[budget]\nclient_usd = 1.0", 1))
    over = run_cli(["calibrate", str(root)], {})  # refused on the estimate, before any key is needed
    assert over.returncode == 1 and "client budget has $1.00 left; nothing spent" in over.stderr, over.stderr
    cfg.write_text(text)
    team = run_cli(["calibrate", str(root)], {"GOLDENCHAIN_DATABASE_URL": "postgresql://127.0.0.1:1/none"})
    assert team.returncode == 2 and "team mode" in team.stderr and "Traceback" not in team.stderr
    cfg.write_text(cfg.read_text() + '\n[calibration]\nprompts = ["no-such-prompt"]\n')
    done = run_cli(["calibrate", str(root), "--dry-run"], {})
    assert done.returncode == 2 and "no-such-prompt" in done.stderr and "Traceback" not in done.stderr


def test_a_calibration_killed_after_a_paid_create_is_resumed_and_paid_once(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", shots=1, poll_interval=0.2)
    with Emulator(scenario="clean", latency=0.5) as emu:
        crash = {
            "GOLDENCHAIN_CRASHPOINT": "after_create@kling",
            "GOLDENCHAIN_CRASHPOINT_MARK": str(tmp_path / "crashed"),
        }
        killed = run_cli(["calibrate", str(root), "--json"], {**emu.env(), **crash}, timeout=600)
        assert killed.returncode == -9, killed.stderr  # SIGKILL right after Kling accepted a paid clip
        started = killed.stderr.split("calibration ", 1)[1].split(":", 1)[0]
        assert emu.count("kling", accepted_creates=True) >= 1

        again = run_cli(["calibrate", str(root), "--json"], emu.env(), timeout=600)
        assert again.returncode == 0, again.stderr
        assert "resuming an unfinished calibration" in again.stderr
        report = json.loads(again.stdout)
        assert report["calibration"] == started and report["baseline"] is True
        assert all(p["status"] == "done" for p in report["prompts"])
        kling = [r for r in emu.create_requests("kling") if r.get("accepted")]
        keys = [r["external_task_id"] for r in kling]
        assert len(keys) == len(set(keys)) == 6  # every clip paid for once, the killed one included


def test_stills_only_makes_no_clips(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", shots=1, poll_interval=0.2)
    with Emulator(scenario="clean", latency=0.5) as emu:
        done = run_cli(["calibrate", str(root), "--stills-only", "--json"], emu.env(), timeout=600)
        assert done.returncode == 0, done.stderr
        assert emu.count("kling", creates=True) == 0 and emu.count("fal", accepted_creates=True) == 6
    report = json.loads(done.stdout)
    names = {m["metric"] for m in report["metrics"]}
    assert report["stills_only"] is True and "gate.exposure" in names and "still.cost_usd" in names
    assert not any(n.startswith(("clip.", "qc.")) or n == "first_frame" for n in names)
    assert report["estimate_usd"] < 0.5 and all(p["status"] == "stills_done" for p in report["prompts"])

"""``goldenchain abtest`` end to end against the emulator: the estimate first (refused above the cap or the
project budget, nothing sent), variants over paired seeds through the real chain, the verdicts and spend in the
ledger, the paired tests, the plot; a difference the emulator makes is found, variants it treats alike give no
winner. Real runs of the CLI in subprocesses, the statistics recomputed from the ledger's takes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from goldenchain import api
from goldenchain.core.abstats import mcnemar_exact
from goldenchain.emulator import Emulator
from goldenchain.emulator.scenarios import Fault
from tests.integration.helpers import make_project, run_cli

DEV, SCHNELL = "fal-ai/flux/dev", "fal-ai/flux/schnell"
PAIRS = 6


def _json(args: list[str], env: dict[str, str]) -> Any:
    r = run_cli(args, env)
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout)


def _fal_jobs(emu: Emulator) -> list[Any]:
    return sorted(emu.fal.jobs.values(), key=lambda j: j.created)


def test_a_model_the_emulator_spoils_loses_and_nothing_is_spent_above_the_estimate(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shoot", shots=2)
    # every FLUX schnell still comes back nearly black (the gate rejects it); FLUX dev stills are good
    spoil = [Fault("fal", "task", n, "bad_still", endpoint=SCHNELL) for n in range(1, PAIRS + 1)]
    with Emulator(host="127.0.0.1", port=0, scenario="clean", latency=0.1, faults=spoil) as emu:
        env = emu.env()
        new = [
            "abtest", "new", "model", "--project", str(project), "--shot", "s01", "--pairs", str(PAIRS),
            "--variant", "dev", "--variant", "schnell", "--setting", f"schnell:stills.model={SCHNELL}",
        ]  # fmt: skip
        made = run_cli(new, env)
        assert made.returncode == 0, made.stderr
        assert "estimate: $" in made.stdout and "12 variant takes left" in made.stdout
        est = _json(["abtest", "estimate", "model", "--project", str(project), "--json"], env)
        assert est["pairs_left"] == 2 * PAIRS and est["total_usd"] > 0
        assert est["by_variant"]["dev"] > est["by_variant"]["schnell"] > 0  # schnell stills are cheaper
        assert est["budget_left"]["project"] == 25.0

        # above the cap: refused before any spend, exit 1 with one line
        low = run_cli(["abtest", "run", "model", "--project", str(project), "--max-cost", "1"], env)
        assert low.returncode == 1, low.stdout + low.stderr
        assert low.stderr.count("\n") == 1 and "above --max-cost $1.00; nothing spent" in low.stderr
        assert "Traceback" not in low.stderr
        # above what the project budget has left: refused the same way
        big = run_cli([*new[:2], "big", *new[3:8], "40", *new[9:]], env)
        assert big.returncode == 0, big.stderr
        over = run_cli(["abtest", "run", "big", "--project", str(project)], env)
        assert over.returncode == 1 and "project budget has left ($25.00); nothing spent" in over.stderr
        assert emu.count(creates=True) == 0

        r = run_cli(["abtest", "run", "model", "--project", str(project), "--max-cost", "20", "--json"], env)
        assert r.returncode == 0, r.stdout + r.stderr
        rep = json.loads(r.stdout)

        # the real chain: one still per variant and pair with the pair's seed, a clip only after a good still
        jobs = _fal_jobs(emu)
        seeds = {m: sorted(j.body["seed"] for j in jobs if j.endpoint == m) for m in (DEV, SCHNELL)}
        assert len(seeds[DEV]) == PAIRS and seeds[DEV] == seeds[SCHNELL]  # paired seeds
        assert emu.count(provider="kling", creates=True) == PAIRS

        p = api.open_project(project)
        sub = api.takes(p)  # the project's own shots are untouched: the test runs in its own ledger project
        assert sub == [] and [s.status for s in api.status(p)] == ["pending", "pending"]

        led = api.open_ledger(p)
        assert led is not None
        try:
            test = led.abtest(p.id, "model")
            assert test is not None
            results = led.abtest_results(test.id)
            takes = led.takes(f"{p.id}.ab.model")
            stored = test.report
        finally:
            led.db.dispose()
        by = {(r.variant, r.pair): r for r in results}
        assert {r.outcome for r in results if r.variant == "dev"} == {"accepted"}
        assert {r.outcome for r in results if r.variant == "schnell"} == {"rejected"}
        for r in results:  # each result is its takes in the ledger: verdicts and spend
            mine = [t for t in takes if t.shot_id == r.shot_id]
            assert r.cost_usd == pytest.approx(sum(t.cost_usd or 0 for t in mine), abs=1e-4)
            still = next(t for t in mine if t.stage == "still")
            assert still.seed == by[("dev", r.pair)].seed == r.seed
            assert still.verdict == ("reject" if r.variant == "schnell" else "pass")
        assert rep["winner"] == "dev" and rep["winner_by"] == "verdicts"
        (c,) = rep["comparisons"]
        assert (c["only_base"], c["only_other"]) == (PAIRS, 0)
        assert c["p_verdicts"] == pytest.approx(mcnemar_exact(PAIRS, 0)) and c["p_verdicts"] < 0.05
        dev, schnell = rep["variants"]
        assert (dev["takes"], dev["accepted"], schnell["accepted"]) == (PAIRS, PAIRS, 0)
        spent_dev = sum(t.cost_usd or 0 for t in takes if t.shot_id.startswith("dev-"))
        assert dev["cost_per_accepted"] == pytest.approx(spent_dev / PAIRS, abs=1e-3)
        assert schnell["cost_per_accepted"] is None and schnell["cost_usd"] > 0
        assert dev["high"] == 1.0 and 0.5 < dev["low"] < 0.7 and schnell["low"] == 0.0
        assert stored is not None and stored["winner"] == "dev"

        # the plot and the JSON beside it
        png = Path(rep["plot"])
        assert png == project / "out" / "abtests" / "model.png"
        with Image.open(png) as im:
            assert im.format == "PNG" and im.size[0] >= 400
        assert json.loads((project / "out" / "abtests" / "model.json").read_text())["winner"] == "dev"

        # run again: every pair has its verdict, nothing is paid twice
        before = emu.count(creates=True)
        again = run_cli(["abtest", "run", "model", "--project", str(project)], env)
        assert again.returncode == 0, again.stderr
        assert "estimate: $0.00 for 0 variant takes left" in again.stdout
        assert "winner: dev" in again.stdout
        assert emu.count(creates=True) == before
        # the spend counts against the project budget
        est2 = _json(["abtest", "estimate", "big", "--project", str(project), "--json"], env)
        assert est2["budget_left"]["project"] == pytest.approx(
            25.0 - dev["cost_usd"] - schnell["cost_usd"], abs=1e-3
        )
        listed = _json(["abtest", "list", "--project", str(project), "--json"], env)
        assert [(t["name"], t["pairs_done"], t["winner"]) for t in listed] == [
            ("model", PAIRS, "dev"),
            ("big", 0, None),
        ]


def test_variants_the_emulator_treats_alike_give_no_winner(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shoot", shots=1)
    with Emulator(host="127.0.0.1", port=0, scenario="clean", latency=0.1) as emu:
        env = emu.env()
        base = "Medium shot of a potter at a wheel, soft window light, calm studio, {} wall, 35mm lens"
        new = [
            "abtest", "new", "colour", "--project", str(project), "--shot", "s01", "--pairs", "4",
            "--variant", "teal=" + base.format("teal"), "--variant", "ochre=" + base.format("ochre"),
        ]  # fmt: skip
        assert run_cli(new, env).returncode == 0
        r = run_cli(["abtest", "run", "colour", "--project", str(project)], env)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "no difference yet" in r.stdout
        assert "8 of 8 variant takes finished" in r.stderr and "Traceback" not in r.stderr  # the progress
        rep = _json(["abtest", "report", "colour", "--project", str(project), "--json"], env)
        assert rep["winner"] is None
        assert rep["summary"].startswith("no difference yet")
        prompts = {j.body["prompt"] for j in _fal_jobs(emu)}
        assert prompts == {base.format("teal"), base.format("ochre")}
        assert [v["accepted"] for v in rep["variants"]] == [4, 4]
        assert rep["comparisons"][0]["p_verdicts"] == 1.0


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shoot", shots=1)
    cases = [
        (["--variant", "a"], "at least two variants"),
        (["--variant", "a", "--variant", "a"], "given twice"),
        (["--variant", "a", "--variant", "b=  "], "empty prompt"),
        (["--variant", "a", "--variant", "b", "--setting", "b:video.provider=fal"], "cannot vary"),
        (["--variant", "a", "--variant", "b", "--setting", "c:motion=5"], "no variant named"),
        (["--variant", "a", "--variant", "b", "--setting", "b:motion=500"], "variant 'b': motion"),
        (["--variant", "a", "--variant", "b", "--setting", "b:stills.model=nope"], "nope"),
        (["--variant", "a b", "--variant", "b"], "variant name"),
        # the shot pans: Kling moves one axis at a time, and would refuse every clip of this variant
        (
            ["--variant", "a", "--variant", "b", "--setting", "b:camera.zoom=6"],
            "'b' cannot run: camera-one-axis",
        ),
    ]
    env: dict[str, str] = {}
    for extra, words in cases:
        r = run_cli(["abtest", "new", "t", "--project", str(project), "--shot", "s01", *extra], env)
        assert r.returncode == 2, (extra, r.stdout, r.stderr)
        assert r.stderr.count("\n") == 1 and words in r.stderr and "Traceback" not in r.stderr, (
            extra,
            r.stderr,
        )
    # the studio's policy is a note, not a refusal: a test may try what it warns against
    r = run_cli(
        [
            "abtest",
            "new",
            "t",
            "--project",
            str(project),
            "--shot",
            "s01",
            "--variant",
            "a",
            "--variant",
            "b",
            "--setting",
            "b:camera.horizontal=0",
            "--setting",
            "b:camera.rotation=4",
        ],
        env,
    )
    assert r.returncode == 0, r.stderr
    assert "lint: variant b: error camera-rotation" in r.stdout and "tested as asked" in r.stdout
    r = run_cli(["abtest", "report", "missing", "--project", str(project)], env)
    assert r.returncode == 2 and "no A/B test named 'missing'" in r.stderr
    assert [t["name"] for t in _json(["abtest", "list", "--project", str(project), "--json"], env)] == ["t"]


def test_pairs_an_outage_blocks_have_no_verdict_and_the_run_says_so(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shoot", shots=1)
    refused = [Fault("kling", "create", n, "auth") for n in range(1, 5)]  # a wrong key: every clip is blocked
    with Emulator(host="127.0.0.1", port=0, scenario="clean", latency=0.1, faults=refused) as emu:
        env = emu.env()
        new = ["abtest", "new", "t", "--project", str(project), "--shot", "s01", "--pairs", "2"]
        assert (
            run_cli([*new, "--variant", "a", "--variant", "b", "--setting", "b:motion=30"], env).returncode
            == 0
        )
        r = run_cli(["abtest", "run", "t", "--project", str(project)], env)
    assert r.returncode == 1, r.stdout + r.stderr
    assert (
        "4 variant takes without a verdict" in r.stderr
        and "blocked" in r.stderr
        and "Traceback" not in r.stderr
    )
    assert "no pair has a verdict for every variant" in r.stdout
    rep = _json(["abtest", "report", "t", "--project", str(project), "--json"], {})
    assert [v["takes"] for v in rep["variants"]] == [0, 0] and rep["winner"] is None

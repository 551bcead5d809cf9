"""``estimate`` answers a producer's questions from the ledger, and ``run --max-cost`` below what the remaining
work needs is refused before anything is spent."""

from __future__ import annotations

import json
from pathlib import Path

from goldenchain.emulator import Emulator
from tests.integration.helpers import make_project, run_cli


def _estimate(project: Path, env: dict[str, str], *extra: str) -> dict[str, object]:
    r = run_cli(["estimate", str(project), "--json", *extra], env)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_estimate_counts_only_what_is_left_and_checks_every_budget(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shoot", shots=2)
    with Emulator(host="127.0.0.1", port=0, scenario="clean", latency=0.3) as emu:
        env = emu.env()
        fresh = _estimate(project, env, "--max-cost", "100")
        shots = fresh["shots"]
        assert isinstance(shots, dict)
        still, clip = shots["s01"]["still_usd"], shots["s01"]["clip_usd"]
        assert fresh["total_usd"] == round(2 * (still + clip), 4)
        assert fresh["worst_case_usd"] == round(2 * (3 * still + 3 * clip), 4)  # max_takes = 3 per stage
        assert (
            fresh["credits"]["kling"] > 0
            and fresh["worst_case_credits"]["kling"] == 3 * fresh["credits"]["kling"]
        )
        caps = {b["cap"]: b for b in fresh["budgets"]}  # type: ignore[union-attr]
        assert set(caps) == {"project", "--max-cost"} and caps["project"]["left_usd"] == 25.0

        assert run_cli(["run", str(project), "--only", "stills", "--quiet"], env).returncode == 0
        partial = _estimate(project, env)
        rows = partial["shots"]
        assert isinstance(rows, dict)
        assert [rows[s]["needs"] for s in ("s01", "s02")] == [["clip"], ["clip"]]  # the stills are paid for
        assert partial["total_usd"] == round(2 * clip, 4)
        project_cap = next(b for b in partial["budgets"] if b["cap"] == "project")  # type: ignore[union-attr]
        spent = json.loads(run_cli(["costs", str(project), "--json"], env).stdout)["total_usd"]
        assert 0 < spent <= 2 * still  # what the stills really cost (fal bills the megapixels made)
        assert project_cap["used_usd"] == round(spent, 4) and project_cap["expected_fits"] is True
        assert project_cap["left_usd"] == round(25.0 - spent, 4)

        assert run_cli(["run", str(project), "--quiet"], env).returncode == 0
        done = _estimate(project, env)
        assert done["total_usd"] == 0 and done["worst_case_usd"] == 0
        table = run_cli(["estimate", str(project)], {**env, "COLUMNS": "80"})
        assert "nothing" in table.stdout and all(len(ln) <= 80 for ln in table.stdout.splitlines())


def test_a_cap_below_the_minimum_is_refused_up_front(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shoot", shots=2)
    with Emulator(host="127.0.0.1", port=0, scenario="clean", latency=0.3) as emu:
        env = emu.env()
        one = _estimate(project, env)["by_shot"]["s01"]  # type: ignore[index]
        r = run_cli(["run", str(project), "--max-cost", f"{one + 0.01:.2f}", "--quiet"], env)
        assert r.returncode == 1, r.stdout + r.stderr
        assert r.stderr.count("\n") == 1 and "nothing spent" in r.stderr and "--shots s01 fits" in r.stderr
        tiny = run_cli(["run", str(project), "--max-cost", "0.01", "--quiet"], env)
        assert tiny.returncode == 1 and "no single shot fits" in tiny.stderr
        assert emu.create_requests() == []  # not one paid request
        assert not (project / "out" / "final.mp4").exists()

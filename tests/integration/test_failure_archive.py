"""The failure archive that pays back: filters, a refund claim for what a provider billed, failure patterns by
prompt word and setting, and a proposed lint rule accepted with one command."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

from goldenchain.cli.failures import _accept
from goldenchain.config import load_project
from goldenchain.emulator import Emulator
from goldenchain.emulator.scenarios import Fault
from goldenchain.reports.failures import failure_rows
from goldenchain.reports.patterns import filter_rows, patterns, proposed_rule, refund_claim
from goldenchain.store.db import Database
from goldenchain.store.ledger import Ledger
from tests.integration.helpers import make_project, run_cli


def test_filters_and_a_refund_claim_from_a_real_run(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shoot", shots=1)
    freeze = Fault(provider="kling", op="task", nth=1, kind="freeze")  # a billed clip the clip check rejects
    with Emulator(host="127.0.0.1", port=0, scenario="clean", latency=0.3, faults=[freeze]) as emu:
        env = emu.env()
        assert run_cli(["run", str(project), "--quiet"], env).returncode == 0
        rows = json.loads(run_cli(["failures", str(project), "--json"], env).stdout)
        assert [(r["stage"], r["reason"]) for r in rows] == [("clip", "qc_reject")]
        row = rows[0]
        assert row["cost_usd"] > 0 and row["provider_task_id"] and row["prompt"] and row["at"]
        # the filters, in process (each CLI call is a new interpreter; the CLI path is exercised below)
        led = Ledger(Database(load_project(project).database_url))
        try:
            all_rows = failure_rows(led.takes(load_project(project).id))
            prompts = {r.shot_id: r.spec.get("prompt") for r in led.shots(load_project(project).id)}
        finally:
            led.db.dispose()
        for r in all_rows:
            r["shot_prompt"] = prompts[r["shot"]]
        for kw, n in (
            ({"reason": "qc_reject"}, 1),
            ({"reason": "moderation"}, 0),
            ({"model": "kling-v1-5"}, 1),
            ({"feature": "lighthouse"}, 1),
            ({"feature": "dragon"}, 0),
            ({"since": "2999-01-01"}, 0),
        ):
            assert len(filter_rows(all_rows, **kw)) == n, kw
        claim = run_cli(["failures", str(project), "--refund-claim", "kling"], env)
        assert claim.returncode == 0
        lines = list(csv.DictReader(io.StringIO(claim.stdout)))
        assert [(r["provider_task_id"], r["reason"]) for r in lines] == [
            (row["provider_task_id"], "qc_reject")
        ]
        assert float(lines[0]["charged_usd"]) == row["cost_usd"]
        assert "qc_reject" not in refund_claim(all_rows, "fal")  # fal billed no failure here


def _take(i: int, shot: str, state: str = "downloaded") -> SimpleNamespace:
    return SimpleNamespace(id=i, shot_id=shot, state=state, created_at=datetime.now(UTC))


def test_patterns_find_the_failing_word_and_the_rule_is_accepted(tmp_path: Path) -> None:
    shots = {
        f"s{i}": {"prompt": ("Wide shot of a neon street" if i < 4 else "Wide shot of a quiet valley street"),
                  "scene": "environment", "camera": {"horizontal": 2}, "motion": 20}
        for i in range(8)
    }  # fmt: skip
    takes = [_take(i, f"s{i}") for i in range(8)]
    failed = {0: "qc_reject", 1: "qc_reject", 2: "gate_reject", 5: "qc_reject"}
    found = {p.feature: p for p in patterns(takes, shots, failed)}
    assert (found["word:neon"].failures, found["word:neon"].takes) == (3, 4)
    assert found["word:neon"].top_reason == "qc_reject"
    assert (found["word:valley"].failures, found["word:valley"].takes) == (1, 4)
    rules = [r for r in (proposed_rule(p) for p in found.values()) if r]
    assert [r["id"] for r in rules] == ["avoid-neon"]  # the rule the data shows, and nothing else

    project = make_project(tmp_path / "shoot", shots=1)
    assert _accept(project, rules, "avoid-neon") == 0
    p = load_project(project)
    assert [r.id for r in p.config.lint.rules] == ["avoid-neon"]
    shots_yaml = (
        (project / "shots.yaml").read_text().replace("lighthouse keeper", "neon lighthouse keeper", 1)
    )
    (project / "shots.yaml").write_text(shots_yaml)
    lint = json.loads(run_cli(["lint", str(project), "--json"], {}).stdout)
    assert any(f["rule"] == "avoid-neon" and f["shot"] == "s01" for f in lint)

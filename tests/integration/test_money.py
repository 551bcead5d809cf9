"""Money rules end to end: lint blocks spend, --force is recorded, a budget stops the run before the call
that would overspend, and raising it resumes without paying twice."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from goldenchain.emulator import Emulator
from tests.integration.helpers import accepted_creates, make_project, report, run_cli


def test_lint_force_budget_stop_and_resume(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shoot", shots=2)
    shots = project / "shots.yaml"
    shots.write_text(shots.read_text().replace("35mm lens", "35mm lens, 8k", 1))
    with Emulator(host="127.0.0.1", port=0, scenario="clean", latency=0.3) as emu:
        r = run_cli(["run", str(project), "--quiet"], emu.env())
        assert r.returncode == 2 and "lint error" in r.stderr
        assert emu.requests == []  # nothing was sent, nothing spent

        r = run_cli(
            ["run", str(project), "--quiet", "--force", "client asked for 8k", "--max-cost", "0.6"], emu.env()
        )
        assert r.returncode == 1, r.stdout + r.stderr
        assert "budget" in r.stderr and "--max-cost" in r.stderr
        db = sqlite3.connect(project / ".goldenchain" / "state.db")
        ((reason, errors),) = db.execute("select force_reason, lint_errors from gc_runs").fetchall()
        assert reason == "client asked for 8k" and "still-image-phrase" in errors
        spent = db.execute(
            "select coalesce(sum(usd),0) from gc_spend where state in ('reserved','committed')"
        ).fetchone()[0]
        assert 0 < spent <= 0.6
        blocked = db.execute("select count(*) from gc_takes where state='budget_blocked'").fetchone()[0]
        assert blocked >= 1
        db.close()

        r = run_cli(
            ["run", str(project), "--quiet", "--force", "client asked for 8k", "--max-cost", "5"], emu.env()
        )
        assert r.returncode == 0, r.stdout + r.stderr
        assert report(project)["shots_done"] == 2
        creates = accepted_creates(emu.requests)
        assert all(n == 1 for n in creates.values()), creates
        assert report(project)["costs"]["total_usd"] <= 0.6 + 5

        # Kling's account resource packs agree with the ledger's committed credits
        acct = run_cli(["costs", "account", str(project), "--json"], emu.env())
        assert acct.returncode == 0, acct.stderr
        data = json.loads(acct.stdout)
        assert data["ledger_kling_credits"] > 0
        assert data["difference"] == 0

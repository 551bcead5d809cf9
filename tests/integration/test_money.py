"""Money rules end to end: lint blocks spend, --force is recorded, a budget stops the run before the call
that would overspend, and raising it resumes without paying twice."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from goldenchain.emulator import Emulator
from tests.integration.helpers import accepted_creates, make_project, report, run_cli


def test_lint_force_budget_stop_and_resume(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shoot", shots=2)
    shots = project / "shots.yaml"
    shots.write_text(shots.read_text().replace("35mm lens", "35mm lens, 8k", 1))
    # two shots, each a FLUX dev still and a Kling 1.5 pro 5 s clip (3.5 credits, $0.49); the clean scenario
    # passes every take the first time. The estimate prices a still at whole megapixels (2 MP: $0.05), the
    # committed cost is what was billed: 1824 x 1024 = 1.867776 MP at $0.025 = $0.046694
    estimate = json.loads(run_cli(["estimate", str(project), "--json"], {}).stdout)
    assert estimate["total_usd"] == pytest.approx(2 * (0.05 + 0.49))
    still, clip = 0.046694, 0.49
    with Emulator(host="127.0.0.1", port=0, scenario="clean", latency=0.3) as emu:
        r = run_cli(["run", str(project), "--quiet"], emu.env())
        assert r.returncode == 2 and "lint error" in r.stderr
        assert emu.requests == []  # nothing was sent, nothing spent

        # a --max-cost below what the remaining work needs at least is refused before anything is sent
        r = run_cli(
            ["run", str(project), "--quiet", "--force", "client asked for 8k", "--max-cost", "0.6"], emu.env()
        )
        assert r.returncode == 1 and "nothing spent" in r.stderr, r.stdout + r.stderr
        assert emu.requests == []

        # a project budget that the run reaches part way: it stops before the call that would overspend
        cfg = project / "goldenchain.toml"
        cfg.write_text(cfg.read_text().replace("project_usd = 25.0", "project_usd = 0.6"))
        r = run_cli(["run", str(project), "--quiet", "--force", "client asked for 8k"], emu.env())
        assert r.returncode == 1, r.stdout + r.stderr
        assert "budget" in r.stderr and "project" in r.stderr
        db = sqlite3.connect(project / ".goldenchain" / "state.db")
        ((reason, errors),) = db.execute("select force_reason, lint_errors from gc_runs").fetchall()
        assert reason == "client asked for 8k" and "still-image-phrase" in errors
        spent = db.execute(
            "select coalesce(sum(usd),0) from gc_spend where state in ('reserved','committed')"
        ).fetchone()[0]
        # both stills and one clip; the next clip would pass 0.6, whichever shot got there first
        assert spent == pytest.approx(2 * still + clip, abs=1e-6)
        blocked = db.execute("select count(*) from gc_takes where state='budget_blocked'").fetchone()[0]
        assert blocked >= 1
        db.close()

        cfg.write_text(cfg.read_text().replace("project_usd = 0.6", "project_usd = 5.0"))
        r = run_cli(
            ["run", str(project), "--quiet", "--force", "client asked for 8k", "--max-cost", "5"], emu.env()
        )
        assert r.returncode == 0, r.stdout + r.stderr
        assert report(project)["shots_done"] == 2
        creates = accepted_creates(emu.requests)
        assert all(n == 1 for n in creates.values()), creates
        # every take paid once: the first run's three and the second run's one remaining clip (the report
        # gives dollars to 4 places)
        assert report(project)["costs"]["total_usd"] == pytest.approx(round(2 * (still + clip), 4), abs=1e-9)

        # Kling's account resource packs agree with the ledger's committed credits
        acct = run_cli(["costs", "account", str(project), "--json"], emu.env())
        assert acct.returncode == 0, acct.stderr
        data = json.loads(acct.stdout)
        assert data["ledger_kling_credits"] > 0
        assert data["difference"] == 0

"""``goldenchain retry``: a shot that used up its takes starts again on purpose, estimate first."""

from __future__ import annotations

import json
from pathlib import Path

from goldenchain.emulator import Emulator
from goldenchain.emulator.scenarios import Fault
from tests.integration.helpers import make_project, report, run_cli


def test_a_failed_shot_is_retried_with_new_takes(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shoot", shots=1)
    bad = [Fault(provider="fal", op="task", nth=n, kind="bad_still") for n in (1, 2, 3)]
    with Emulator(host="127.0.0.1", port=0, scenario="clean", latency=0.3, faults=bad) as emu:
        r = run_cli(["run", str(project), "--quiet"], emu.env())
        assert r.returncode == 1, r.stdout + r.stderr
        st = json.loads(run_cli(["status", str(project), "--json"], emu.env()).stdout)[0]
        assert (
            st["status"] == "failed"
            and st["next"] == "goldenchain retry s01 (new takes; see goldenchain failures)"
        )

        unknown = run_cli(["retry", "s99", str(project)], emu.env())
        assert unknown.returncode == 2 and "s99" in unknown.stderr and "Traceback" not in unknown.stderr

        dry = run_cli(["retry", "s01", str(project), "--dry-run"], emu.env())
        assert dry.returncode == 0, dry.stderr
        assert "s01" in dry.stdout and "$" in dry.stdout and "worst case" in dry.stdout
        n = len(emu.requests)
        assert (
            json.loads(run_cli(["status", str(project), "--json"], emu.env()).stdout)[0]["status"] == "failed"
        )

        again = run_cli(["retry", "s01", str(project), "--quiet"], emu.env())
        assert again.returncode == 0, again.stdout + again.stderr
        assert "expected" in again.stdout  # the estimate came first
        stills = [t for t in report(project)["shots"][0]["takes"] if t["stage"] == "still"]
        assert [t["take"] for t in stills] == [1, 2, 3, 4]  # a new take, numbered after the used ones
        assert [t["verdict"] for t in stills] == ["reject", "reject", "reject", "pass"]
        assert report(project)["shots"][0]["status"] == "done"
        new_creates = [q for q in emu.requests[n:] if q.get("accepted")]
        assert len(new_creates) == 2  # one still, one clip

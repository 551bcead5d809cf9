"""--only stills, then --only clips: the second run pays for no still, the first for no clip."""

from __future__ import annotations

import json
from pathlib import Path

from goldenchain.emulator import Emulator
from tests.integration.helpers import accepted_creates, make_project, run_cli


def test_stills_then_clips(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shoot", shots=1)
    other = make_project(tmp_path / "other", shots=1)
    with Emulator(host="127.0.0.1", port=0, scenario="clean", latency=0.3) as emu:
        r = run_cli(["run", str(other), "--quiet", "--only", "clips"], emu.env())
        assert r.returncode == 1 and "--only stills first" in r.stderr
        assert emu.requests == []

        r = run_cli(["run", str(project), "--quiet", "--only", "stills"], emu.env())
        assert r.returncode == 0, r.stderr
        assert {q["provider"] for q in emu.requests if q.get("accepted")} == {"fal"}
        st = json.loads(run_cli(["status", str(project), "--json"], emu.env()).stdout)
        assert st[0]["status"] == "stills_done"

        r = run_cli(["run", str(project), "--quiet", "--only", "clips"], emu.env())
        assert r.returncode == 0, r.stderr
        creates = accepted_creates(emu.requests)
        by_provider = [q["provider"] for q in emu.requests if q.get("accepted")]
        assert by_provider.count("fal") == 1 and by_provider.count("kling") == 1
        assert all(n == 1 for n in creates.values())
        assert (project / "out" / "final.mp4").exists()

"""The whole chain against the emulator, through the real CLI, in each scenario."""

from __future__ import annotations

from pathlib import Path

import pytest

from goldenchain.emulator import Emulator
from tests.integration.helpers import accepted_creates, make_project, probe, report, run_cli


@pytest.mark.parametrize("scenario", ["clean", "demo", "flaky"])
def test_whole_chain(tmp_path: Path, scenario: str) -> None:
    project = make_project(tmp_path / "shoot", shots=3)
    with Emulator(
        host="127.0.0.1", port=0, scenario=scenario, latency=0.4, log_path=str(tmp_path / "emu.log")
    ) as emu:
        r = run_cli(["run", str(project), "--quiet"], emu.env())
        assert r.returncode == 0, r.stdout + r.stderr
        rep = report(project)
        assert rep["shots_done"] == 3
        final = probe(project / "out" / "final.mp4")
        assert final["codec"] == "h264"
        assert (final["width"], final["height"]) == (1920, 1080)
        clips = [s["clip"]["duration"] for s in rep["shots"]]
        assert final["duration"] == pytest.approx(sum(clips), abs=0.15)
        creates = accepted_creates(emu.requests)
        assert creates and all(n == 1 for n in creates.values()), creates
        n_before = sum(creates.values())
        assert rep["costs"]["total_usd"] > 0
        assert (project / "out" / "spend.png").read_bytes()[:4] == b"\x89PNG"
        html = (project / "out" / "report.html").read_text()
        assert "spend.png" in html and "thumbs/s01.jpg" in html and "final.mp4" in html
        if scenario == "demo":
            reasons = {t["failure_class"] for s in rep["shots"] for t in s["takes"] if t["failure_class"]}
            assert "gate_reject" in reasons  # the dark still was stopped before any video money
            assert "moderation" in reasons
            assert "qc_reject" in reasons

        # idempotent: running again pays for nothing
        r2 = run_cli(["run", str(project), "--quiet"], emu.env())
        assert r2.returncode == 0, r2.stdout + r2.stderr
        assert sum(accepted_creates(emu.requests).values()) == n_before

        st = run_cli(["status", str(project), "--json"], emu.env())
        assert st.returncode == 0
        assert '"status": "done"' in st.stdout

        # secrets never reach the database, the reports, the request log or the CLI's output
        secrets = [v for k, v in emu.env().items() if k.endswith(("_KEY", "_TOKEN"))]
        assert len(secrets) >= 5
        places = [
            project / ".goldenchain" / "state.db",
            project / "out" / "report.json",
            project / "out" / "report.html",
            tmp_path / "emu.log",
        ]
        blobs = [p.read_bytes() for p in places] + [(r.stdout + r.stderr + r2.stdout + r2.stderr).encode()]
        wal = project / ".goldenchain" / "state.db-wal"
        if wal.exists():
            blobs.append(wal.read_bytes())
        for secret in secrets:
            assert all(secret.encode() not in b for b in blobs), "a secret leaked"

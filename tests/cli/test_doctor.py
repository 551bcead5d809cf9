"""``goldenchain doctor`` against the emulator: all well; a wrong key; an empty resource pack; an unreachable
host. The keys never appear in what it prints."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from pathlib import Path

from goldenchain.emulator import Emulator
from tests.integration.helpers import make_project, run_cli


def _rows(r: subprocess.CompletedProcess[str]) -> dict[str, dict[str, str]]:
    return {row["check"]: row for row in json.loads(r.stdout)}


def _no_secret(r: subprocess.CompletedProcess[str], env: dict[str, str]) -> None:
    for name in ("FAL_KEY", "KLING_ACCESS_KEY", "KLING_SECRET_KEY"):
        assert env[name] not in r.stdout + r.stderr


def test_doctor_on_a_good_setup_and_three_broken_ones(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shoot", shots=2)
    with Emulator(host="127.0.0.1", port=0, scenario="clean", latency=0.2) as emu:
        env = emu.env()
        ok = run_cli(["doctor", str(project), "--json"], env)
        assert ok.returncode == 0, ok.stdout + ok.stderr
        rows = _rows(ok)
        assert {k: v["state"] for k, v in rows.items()} == {
            "fal account": "ok",
            "kling account": "ok",
            "kling units": "ok",
            "plan": "ok",
            "golden settings": "ok",
            "ffmpeg": "ok",
            "database": "ok",
            "disk": "ok",
        }
        assert "10000 units left" in rows["kling account"]["detail"]
        _no_secret(ok, env)
        assert not [r for r in emu.requests if r.get("op") == "create"]  # nothing paid was asked for

        table = run_cli(["doctor", str(project)], env)
        assert table.returncode == 0 and "a run could start" in table.stdout

        wrong = {**env, "FAL_KEY": "wrong-key-000000"}
        bad = run_cli(["doctor", str(project), "--json"], wrong)
        assert bad.returncode == 1
        fal = _rows(bad)["fal account"]
        assert fal["state"] == "FAIL" and "refused the key" in fal["detail"] and "FAL_KEY" in fal["fix"]
        _no_secret(bad, wrong)

        emu.kling.pack_units = 0.0
        empty = run_cli(["doctor", str(project), "--json"], env)
        assert empty.returncode == 1
        units = _rows(empty)["kling units"]
        assert (
            units["state"] == "FAIL"
            and units["detail"].startswith("0 left")
            and "resource pack" in units["fix"]
        )

        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        down = {**env, "KLING_BASE_URL": re.sub(r":\d+", f":{port}", env["KLING_BASE_URL"])}
        gone = run_cli(["doctor", str(project), "--json"], down)
        assert gone.returncode == 1
        kling = _rows(gone)["kling account"]
        assert (
            kling["state"] == "FAIL" and "unreachable" in kling["detail"] and "KLING_BASE_URL" in kling["fix"]
        )


def test_doctor_on_a_missing_project_is_a_usage_error(tmp_path: Path) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "goldenchain", "doctor", str(tmp_path / "nope")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr

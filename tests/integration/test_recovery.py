"""Failures a studio can recover from: the environment's fault (a wrong key, no connection, an empty resource
pack) blocks a shot without using up a take; the next run after the fix picks the same take up again.
Real CLI runs against the emulator; every create request counted."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

from goldenchain.emulator import Emulator
from goldenchain.emulator.scenarios import Fault
from tests.integration.helpers import make_project, report, run_cli


def _project(tmp_path: Path, shots: int = 2, blocked_after: float = 2.0) -> Path:
    root = make_project(tmp_path / "shoot", shots=shots)
    cfg = root / "goldenchain.toml"
    cfg.write_text(re.sub(r"\[engine\]\n", f"[engine]\nblocked_after = {blocked_after}\n", cfg.read_text()))
    return root


def _status(project: Path, env: dict[str, str]) -> list[dict[str, object]]:
    r = run_cli(["status", str(project), "--json"], env)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def _take_numbers(project: Path) -> dict[str, list[tuple[str, int]]]:
    return {s["id"]: [(t["stage"], t["take"]) for t in s["takes"]] for s in report(project)["shots"]}


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there: every connection is refused
    return int(port)


def test_wrong_key_blocks_without_using_a_take_and_the_fixed_key_brings_it_back(tmp_path: Path) -> None:
    project = _project(tmp_path)
    with Emulator(host="127.0.0.1", port=0, scenario="clean", latency=0.3) as emu:
        bad = {**emu.env(), "FAL_KEY": "not-the-right-key:0000"}
        r = run_cli(["run", str(project), "--quiet"], bad)
        assert r.returncode == 1, r.stdout + r.stderr
        assert "Traceback" not in r.stderr
        st = _status(project, bad)
        assert [s["status"] for s in st] == ["blocked", "blocked"]
        assert all("fal auth" in str(s["detail"]) and "check the fal key" in str(s["detail"]) for s in st)
        assert json.loads(run_cli(["failures", str(project), "--json"], bad).stdout) == []  # nothing used up
        assert emu.create_requests("kling") == []  # no video money was even asked for
        refused = len(emu.create_requests("fal"))
        assert 1 <= refused <= 2  # the breaker stops the second shot asking again (it may race the first)

        r2 = run_cli(["run", str(project), "--quiet"], emu.env())
        assert r2.returncode == 0, r2.stdout + r2.stderr
        assert [s["status"] for s in _status(project, emu.env())] == ["done", "done"]
        # the same take 1 of each stage, made now: no take was burnt by the wrong key
        assert _take_numbers(project) == {
            "s01": [("still", 1), ("clip", 1)],
            "s02": [("still", 1), ("clip", 1)],
        }
        accepted = [r for r in emu.requests if r.get("accepted")]
        assert len(accepted) == 4


def test_unreachable_hosts_then_back(tmp_path: Path) -> None:
    project = _project(tmp_path, blocked_after=1.0)
    with Emulator(host="127.0.0.1", port=0, scenario="clean", latency=0.3) as emu:
        port = _closed_port()
        down = {k: re.sub(r"127\.0\.0\.1:\d+", f"127.0.0.1:{port}", v) for k, v in emu.env().items()}
        r = run_cli(["run", str(project), "--quiet"], down, timeout=240)
        assert r.returncode == 1, r.stdout + r.stderr
        st = _status(project, down)
        assert [s["status"] for s in st] == ["blocked", "blocked"], st
        assert all("network" in str(s["detail"]) and "run again" in str(s["detail"]) for s in st)
        assert json.loads(run_cli(["failures", str(project), "--json"], down).stdout) == []
        assert emu.requests == []

        r2 = run_cli(["run", str(project), "--quiet"], emu.env())
        assert r2.returncode == 0, r2.stdout + r2.stderr
        assert _take_numbers(project) == {
            "s01": [("still", 1), ("clip", 1)],
            "s02": [("still", 1), ("clip", 1)],
        }
        assert sum(1 for r in emu.requests if r.get("accepted")) == 4


def test_empty_resource_pack_blocks_the_clips_then_the_next_run_makes_them(tmp_path: Path) -> None:
    project = _project(tmp_path)
    # the pack is empty: every create is refused until it is topped up (the second shot's create may be on its
    # way already when the first refusal pauses the route)
    empty = [Fault(provider="kling", op="create", nth=n, kind="billing_1102") for n in (1, 2)]
    with Emulator(host="127.0.0.1", port=0, scenario="clean", latency=0.3, faults=empty) as emu:
        r = run_cli(["run", str(project), "--quiet"], emu.env())
        assert r.returncode == 1, r.stdout + r.stderr
        emu.plan.faults.clear()  # the pack is topped up
        st = _status(project, emu.env())
        assert [s["status"] for s in st] == ["blocked", "blocked"], st
        assert all("kling billing" in str(s["detail"]) and "top up" in str(s["detail"]) for s in st)
        assert 1 <= len(emu.create_requests("kling")) <= 2  # the route is paused after the first refusal

        r2 = run_cli(["run", str(project), "--quiet"], emu.env())
        assert r2.returncode == 0, r2.stdout + r2.stderr
        assert _take_numbers(project) == {
            "s01": [("still", 1), ("clip", 1)],
            "s02": [("still", 1), ("clip", 1)],
        }
        # stills were made once; each clip was accepted once
        assert sum(1 for r in emu.requests if r.get("accepted") and r.get("provider") == "fal") == 2
        assert sum(1 for r in emu.requests if r.get("accepted") and r.get("provider") == "kling") == 2

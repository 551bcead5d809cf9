"""Every command that ``goldenchain --help`` lists, through the real command line in a child process: one run
that does its work, and one bad input that must end with exit 2, one line on stderr and no traceback.
All traffic stays on 127.0.0.1."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from goldenchain.emulator import Emulator
from goldenchain.templates import write_example


def gc(
    args: list[str], env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "goldenchain", *args],
        env={**os.environ, **(env or {}), "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def start(args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """A long-running command, its stdout unbuffered so that its first lines can be read as they come."""
    return subprocess.Popen(
        [sys.executable, "-m", "goldenchain", *args],
        env={**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop(proc: subprocess.Popen[str]) -> tuple[int, str]:
    """SIGTERM, then its exit code and what it wrote on stderr."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return proc.returncode, err


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def listed_commands() -> list[str]:
    r = gc(["--help"])
    assert r.returncode == 0, r.stderr
    section = r.stdout.split("Commands:", 1)[1]
    return re.findall(r"^\s{2}([a-z][a-z-]*)\s", section, re.MULTILINE)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "shoot"
    write_example(root, shots=2)
    return root


# --- a bad input to each command -------------------------------------------------------------------------

#: command -> (its arguments with {tmp} for a scratch folder, a word the one-line reason must hold)
BAD_INPUT: dict[str, tuple[list[str], str]] = {
    "abtest": (
        [
            "abtest",
            "new",
            "t1",
            "--shot",
            "s99",
            "--variant",
            "a",
            "--variant",
            "b",
            "--project",
            "{tmp}/shoot",
        ],
        "unknown shot 's99'",
    ),
    "approve": (["approve", "q-nope", "{tmp}/shoot"], "unknown quote q-nope"),
    "calibrate": (["calibrate", "{tmp}/nowhere"], "not a project directory"),
    "doctor": (["doctor", "{tmp}/nowhere"], "not a project directory"),
    "mcp": (["mcp", "{tmp}/nowhere"], "not a project directory"),
    "prompts": (["prompts", "show", "nope", "--project", "{tmp}"], "no prompt 'nope'"),
    "quote": (["quote", "{tmp}/shoot", "--shots", "s99"], "unknown shot 's99'"),
    "retry": (["retry", "s99", "{tmp}/shoot"], "s99"),
    "revoke": (["revoke", "q-nope", "{tmp}/shoot"], "unknown quote q-nope"),
    "costs": (["costs", "{tmp}/nowhere"], "not a project directory"),
    "demo": (["demo", "--out", "{tmp}/demo", "--shots", "0"], "--shots"),
    "emulate": (["emulate", "--scenario", "nope"], "--scenario"),
    "estimate": (["estimate", "{tmp}/broken"], "goldenchain.toml"),
    "failures": (["failures", "{tmp}"], "no project file"),
    "gate": (["gate", "{tmp}/not-an-image.png", "--json"], "not-an-image.png"),
    "init": (["init", "{tmp}/a-file"], "is a file"),
    "lint": (["lint", "{tmp}/broken"], "goldenchain.toml"),
    "providers": (["providers", "--json", "extra"], "unexpected extra argument"),
    "qc": (["qc", "{tmp}/missing.mp4"], "missing.mp4"),
    "review": (["review", "{tmp}/nowhere", "--port", "0"], "not a project directory"),
    "run": (["run", "{tmp}/broken"], "goldenchain.toml"),
    "status": (["status", "{tmp}/nowhere"], "not a project directory"),
    "use": (["use", "s01", "{tmp}/shoot", "--draft", "2"], "s01 has no draft 2"),
    "worker": (["worker", "{tmp}/shoot"], "team mode"),
}


def test_every_listed_command_has_a_bad_input_case() -> None:
    assert sorted(listed_commands()) == sorted(BAD_INPUT)


@pytest.mark.parametrize("command", sorted(BAD_INPUT))
def test_bad_input_is_exit_2_one_line_no_traceback(tmp_path: Path, command: str) -> None:
    write_example(tmp_path / "shoot", shots=1)
    write_example(tmp_path / "broken", shots=1)
    (tmp_path / "broken" / "goldenchain.toml").write_text("[project\nname = ")
    (tmp_path / "a-file").write_text("not a folder")
    (tmp_path / "not-an-image.png").write_bytes(b"plain text, not a PNG")
    args, why = BAD_INPUT[command]
    r = gc([a.replace("{tmp}", str(tmp_path)) for a in args], timeout=120)
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("goldenchain: error: "), r.stderr
    assert why in lines[0]
    assert "Traceback" not in r.stdout + r.stderr


# --- each command doing its work -------------------------------------------------------------------------


def test_providers_json() -> None:
    r = gc(["providers", "--json"])
    assert r.returncode == 0, r.stderr
    listed = json.loads(r.stdout)
    assert all(set(p) >= {"name", "kind", "models"} for p in listed)
    routes = {(p["name"], p["kind"]): {m["model"] for m in p["models"]} for p in listed}
    assert "kling-v1-5" in routes["kling", "i2v"] and "fal-ai/flux/dev" in routes["fal", "t2i"]


def test_doctor_fails_without_keys_and_passes_against_the_emulator(project: Path) -> None:
    r = gc(["doctor", str(project), "--json"])
    assert r.returncode == 1, r.stderr  # no provider keys: a run could not start
    rows = {row["check"]: row for row in json.loads(r.stdout)}
    assert rows["fal account"]["state"] == "FAIL" and "FAL_KEY" in rows["fal account"]["detail"]
    with Emulator(host="127.0.0.1", port=0, scenario="clean", latency=0.1) as emu:
        r = gc(["doctor", str(project), "--json"], emu.env())
    assert r.returncode == 0, r.stdout + r.stderr
    rows = {row["check"]: row for row in json.loads(r.stdout)}
    assert rows["fal account"]["state"] == rows["kling account"]["state"] == "ok"
    assert all(row["state"] != "FAIL" for row in rows.values())


def test_retry_dry_run_shows_the_estimate_and_changes_nothing(project: Path) -> None:
    r = gc(["retry", "s01", str(project), "--dry-run"])
    assert r.returncode == 0, r.stderr
    assert "s01" in r.stdout and "$0.54" in r.stdout  # a FLUX dev still and a Kling 1.5 pro clip
    status = json.loads(gc(["status", str(project), "--json"]).stdout)
    assert [(s["shot"], s["status"], s["takes"]) for s in status] == [
        ("s01", "pending", {"still": 0, "clip": 0}),
        ("s02", "pending", {"still": 0, "clip": 0}),
    ]


def test_failures_of_a_project_with_none(project: Path) -> None:
    r = gc(["failures", str(project), "--json"])
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == []


def test_demo_runs_the_chain_and_its_failures_are_archived(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    r = gc(["demo", "--out", str(out), "--shots", "1"], timeout=600)
    # the demo scenario's first still is bad on purpose: the gate rejects it, a second take is made and the
    # shot is still delivered
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "Traceback" not in r.stderr
    for name in ("final.mp4", "report.html", "report.json"):
        assert (out / "out" / name).stat().st_size > 0, name
    assert json.loads((out / "out" / "report.json").read_text())["shots_done"] == 1
    assert (out / "out" / "final.mp4").read_bytes()[4:8] == b"ftyp"
    archived = gc(["failures", str(out), "--json"])
    assert archived.returncode == 0, archived.stderr
    rejected = [(f["shot"], f["stage"], f["take"], f["reason"]) for f in json.loads(archived.stdout)]
    assert ("s01", "still", 1, "gate_reject") in rejected, rejected


def read_exports(proc: subprocess.Popen[str], names: set[str]) -> dict[str, str]:
    """The ``export NAME=value`` lines of ``emulate`` until every name in ``names`` has come."""
    env: dict[str, str] = {}
    assert proc.stdout is not None
    while not names <= set(env):
        line = proc.stdout.readline()
        assert line, f"emulate ended early: {stop(proc)}"
        if line.startswith("export "):
            name, _, value = line[len("export ") :].strip().partition("=")
            env[name] = value.strip("'")
    return env


EXPORTS = {
    "KLING_BASE_URL",
    "KLING_ACCESS_KEY",
    "KLING_SECRET_KEY",
    "FAL_KEY",
    "FAL_QUEUE_URL",
    "FAL_RUN_URL",
    "REPLICATE_BASE_URL",
    "REPLICATE_API_TOKEN",
    "TOGETHER_BASE_URL",
    "TOGETHER_API_KEY",
}


def test_emulate_prints_exports_and_serves_until_stopped(tmp_path: Path) -> None:
    log = tmp_path / "requests.jsonl"
    proc = start(["emulate", "--port", "0", "--scenario", "clean", "--latency", "0.1", "--log", str(log)])
    try:
        env = read_exports(proc, EXPORTS)
        assert all(env[n].startswith("http://127.0.0.1:") for n in EXPORTS if n.endswith("_URL"))
        r = httpx.post(
            env["FAL_RUN_URL"] + "/fal-ai/flux/schnell",
            json={"prompt": "a lighthouse", "image_size": "square"},
            headers={"Authorization": f"Key {env['FAL_KEY']}"},
            timeout=60,
        )
        assert r.status_code == 200, r.text
        assert r.json()["images"][0]["url"].startswith("http://127.0.0.1:")
    finally:
        code, err = stop(proc)
    assert code == 0 and "Traceback" not in err, err
    (entry,) = [json.loads(x) for x in log.read_text().splitlines()]
    assert entry["provider"] == "fal" and entry["method"] == "POST" and entry["status"] == 200


def _get_when_up(url: str, proc: subprocess.Popen[str], limit: float = 120) -> httpx.Response:
    deadline = time.monotonic() + limit  # the server binds after it prints its address
    while True:
        try:
            return httpx.get(url, timeout=30)
        except httpx.ConnectError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"review did not start: {stop(proc)}") from None
            time.sleep(0.2)


def test_review_serves_its_page(project: Path) -> None:
    port = free_port()
    proc = start(["review", str(project), "--port", str(port)])
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.strip().endswith(f"on http://127.0.0.1:{port}/"), first
        page = _get_when_up(f"http://127.0.0.1:{port}/", proc)
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert "s01" in page.text and "s02" in page.text  # the project's shots
    finally:
        _, err = stop(proc)
    assert "Traceback" not in err, err


@pytest.mark.postgres
def test_worker_listens_on_postgres_and_stops_on_sigterm(project: Path, pg_url: str) -> None:
    proc = start(["worker", str(project), "--executor-id", "cli-test"], {"GOLDENCHAIN_DATABASE_URL": pg_url})
    try:
        assert proc.stdout is not None
        lines: Iterator[str] = iter(proc.stdout.readline, "")
        first = next((ln for ln in lines if "listening" in ln), None)
        assert first is not None and first.startswith("worker cli-test listening to "), stop(proc)
    finally:
        _, err = stop(proc)
    assert "Traceback" not in err, err

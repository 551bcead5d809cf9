"""The Python API from a script, and the MCP server from the official SDK's client: a paid run needs a quote a
person approved, spends within it, and stops when the quote is revoked. Real runs against the emulator."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import httpx
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from goldenchain.emulator import Emulator
from tests.integration.helpers import make_project, report, run_cli

SCRIPT = textwrap.dedent(
    """
    import json, sys
    from goldenchain import api
    p = api.open_project(sys.argv[1])
    out = {"lint": [f.to_json() for f in api.lint(p)], "estimate": api.estimate(p)["total_usd"]}
    q = api.quote(p, shots=["s01"])
    out["quote"] = q.to_json()
    try:
        api.run(p, q.id)
    except api.UsageError as e:
        out["refused"] = str(e)
    print(json.dumps(out))
    """
)

RUN_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from goldenchain import api
    p = api.open_project(sys.argv[1])
    r = api.run(p, sys.argv[2])
    print(json.dumps({"run": r.to_json(), "takes": [t.to_json() for t in api.takes(p)],
                      "status": [s.to_json() for s in api.status(p)]}))
    """
)


def _py(script: str, args: list[str], env: dict[str, str]) -> dict[str, Any]:
    r = subprocess.run(
        [sys.executable, "-c", script, *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    return dict(json.loads(r.stdout.strip().splitlines()[-1]))


def test_the_api_from_a_script_needs_an_approved_quote(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shoot", shots=2)
    with Emulator(host="127.0.0.1", port=0, scenario="clean", latency=0.3) as emu:
        env = emu.env()
        out = _py(SCRIPT, [str(project)], env)
        q = out["quote"]
        assert q["status"] == "pending" and q["shots"] == ["s01"] and q["amount_usd"] > 0
        assert "a person must approve it" in out["refused"] and emu.create_requests() == []
        ok = run_cli(["approve", q["quote"], str(project)], env)
        assert ok.returncode == 0 and "approved by cli" in ok.stdout
        done = _py(RUN_SCRIPT, [str(project), q["quote"]], env)
        assert done["run"]["ok"] is True and 0 < done["run"]["spent_usd"] <= q["amount_usd"]
        assert {t["shot"] for t in done["takes"]} == {"s01"}  # only what was quoted
        assert [s["status"] for s in done["status"]] == ["done", "pending"]
        # a quote covers the plan it priced: a changed prompt needs a new one
        shots = (project / "shots.yaml").read_text().replace("lighthouse keeper", "lighthouse painter")
        (project / "shots.yaml").write_text(shots)
        again = run_cli(["run", str(project), "--quote", q["quote"], "--quiet"], env)
        assert again.returncode == 2 and "plan changed" in again.stderr


async def _mcp(project: Path, env: dict[str, str], emu: Emulator) -> dict[str, Any]:
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "goldenchain", "mcp", str(project)], env={**os.environ, **env}
    )
    out: dict[str, Any] = {}
    async with stdio_client(params) as (read, write), ClientSession(read, write) as s:
        await s.initialize()
        out["tools"] = sorted(t.name for t in (await s.list_tools()).tools)
        est = await s.call_tool("estimate", {})
        out["estimate"] = est.structured_content
        q = await s.call_tool("quote", {"shots": ["s02"]})
        quote = q.structured_content
        out["quote"] = quote
        refused = await s.call_tool("run", {"quote_id": quote["quote"]})
        out["refused"] = (refused.is_error, refused.content[0].text)  # type: ignore[union-attr]
        out["creates_after_refusal"] = len(emu.create_requests())
        bad = [
            await s.call_tool("estimate", {"shots": ["nope"]}),
            await s.call_tool("review", {"take_id": 1, "action": "dance"}),
            await s.call_tool("qc", {"path": "/no/such.mp4"}),
            await s.call_tool("review", {"take_id": 99999, "action": "approve"}),
        ]
        out["bad"] = [(b.is_error, b.content[0].text) for b in bad]  # type: ignore[union-attr]
        approved = run_cli(["approve", quote["quote"], str(project)], env)
        assert approved.returncode == 0, approved.stderr
        ran = await s.call_tool("run", {"quote_id": quote["quote"]})
        out["ran"] = ran.structured_content
        creates = len(emu.create_requests())
        again = await s.call_tool("run", {"quote_id": quote["quote"]})  # the engine again, in the same server
        out["again"] = (again.structured_content, len(emu.create_requests()) - creates)
        takes = await s.call_tool("takes", {})
        out["takes"] = (takes.structured_content or {})["result"]
    return out


def test_the_mcp_server_lists_tools_refuses_unapproved_spend_and_runs_within_a_quote(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shoot", shots=2)
    with Emulator(host="127.0.0.1", port=0, scenario="clean", latency=0.3) as emu:
        out = asyncio.run(_mcp(project, emu.env(), emu))
    assert {"lint", "estimate", "quote", "run", "status", "costs", "failures", "gate", "qc", "review"} <= set(
        out["tools"]
    )
    assert out["estimate"]["total_usd"] > 0
    assert out["refused"][0] is True and "a person must approve it" in out["refused"][1]
    assert out["creates_after_refusal"] == 0
    for is_error, text in out["bad"]:
        assert is_error is True and "Traceback" not in text and "\n" not in text.strip(), text
    assert "unknown shot 'nope'" in out["bad"][0][1] and "approve, reject or use" in out["bad"][1][1]
    assert out["ran"]["ok"] is True and 0 < out["ran"]["spent_usd"] <= out["quote"]["amount_usd"]
    assert out["ran"]["final"] and [s["shot"] for s in out["ran"]["shots"]] == ["s02"]
    again, new_creates = out["again"]
    assert again["ok"] is True and again["spent_usd"] == 0 and new_creates == 0  # never pays twice
    # the agent sees a take as the report shows it: the one shape
    assert out["takes"] == [t for s in report(project)["shots"] for t in s["takes"]] != []


def test_revoking_a_quote_stops_the_run_before_its_next_paid_call(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shoot", shots=3)
    with Emulator(host="127.0.0.1", port=0, scenario="clean", latency=2.5) as emu:
        env = emu.env()
        q = json.loads(run_cli(["quote", str(project), "--json"], env).stdout)
        assert run_cli(["approve", q["quote"], str(project)], env).returncode == 0
        proc = subprocess.Popen(
            [sys.executable, "-m", "goldenchain", "run", str(project), "--quote", q["quote"], "--quiet"],
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 120
        while not emu.create_requests() and time.monotonic() < deadline:
            time.sleep(0.05)
        revoked = run_cli(["revoke", q["quote"], str(project)], env)
        assert revoked.returncode == 0 and "revoked" in revoked.stdout
        at_revoke = len(emu.create_requests())
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 1, err
        # the stills already sent finish; no clip (the next paid call) is ever asked for
        assert emu.create_requests("kling") == []
        assert len(emu.create_requests()) <= max(at_revoke, 3)
        st = json.loads(run_cli(["status", str(project), "--json"], env).stdout)
        assert {s["status"] for s in st} == {"stopped"}, st
        assert all("revoked" in str(s["detail"]) for s in st)


async def _review_app_takes(project: Path) -> list[dict[str, Any]]:
    from goldenchain.config import load_project
    from goldenchain.web.app import create_app

    app = create_app(load_project(project))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8765"
    ) as c:
        shots = (await c.get("/api/shots")).json()
    return [t for s in shots for t in s["takes"]]


def test_a_take_is_the_same_json_in_the_api_the_review_app_and_the_report(tmp_path: Path) -> None:
    from goldenchain import api

    project = make_project(tmp_path / "shoot", shots=3)
    with Emulator(host="127.0.0.1", port=0, scenario="demo", latency=0.3) as emu:
        ran = run_cli(["run", str(project), "--quiet"], emu.env())
        assert ran.returncode in (0, 1), ran.stderr
    from_api = json.loads(json.dumps([t.to_json() for t in api.takes(api.open_project(project))]))
    from_report = [t for s in report(project)["shots"] for t in s["takes"]]
    from_app = asyncio.run(_review_app_takes(project))
    # the page adds what it shows beside a take (its poster frame and its name), and nothing else
    assert all(set(t) - set(from_api[0]) == {"poster", "label"} for t in from_app)
    from_app = [{k: v for k, v in t.items() if k not in ("poster", "label")} for t in from_app]
    assert from_api == from_report == from_app
    assert [f.name for f in dataclasses.fields(api.Take)] == list(from_api[0])
    # a run with faults: takes of both stages, failed or rejected ones, measured checks, the cut's takes
    assert {t["stage"] for t in from_api} == {"still", "clip"}
    assert any(t["failure_class"] for t in from_api) and any(t["checks"] for t in from_api)
    assert any(t["in_cut"] for t in from_api) and any(not t["in_cut"] for t in from_api)
    shots = api.status(api.open_project(project))
    chosen = {i for s in shots for i in (s.still_take_id, s.clip_take_id) if i is not None}
    assert {t["id"] for t in from_api if t["in_cut"]} == chosen

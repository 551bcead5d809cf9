"""The MCP server (``goldenchain mcp``): goldenchain's API as tools and resources for agents, on the official
SDK. Reading, checking and reviewing are free; a paid run needs a quote that a person approved."""

from __future__ import annotations

import json
from typing import Any

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from goldenchain import api
from goldenchain.config import Project
from goldenchain.core.checks import CheckReport
from goldenchain.errors import GoldenchainError

__all__ = ["build_server", "serve"]


def _readable(r: CheckReport) -> CheckReport:
    """A file that could not be read is the caller's mistake: a tool error in one line."""
    if r.verdict == "error":
        raise ToolError(f"{r.path}: {' '.join((r.message or 'cannot read it').split())}")
    return r


def _call(fn: Any, *args: Any, **kw: Any) -> Any:
    """Run an API call; our errors become a tool error with their one-line message (never a traceback)."""
    try:
        return fn(*args, **kw)
    except GoldenchainError as e:
        raise ToolError(" ".join(str(e).split())) from None
    except (ValueError, TypeError) as e:
        raise ToolError(f"bad input: {' '.join(str(e).split())}") from None


def build_server(p: Project) -> MCPServer:
    server = MCPServer(
        name="goldenchain",
        instructions=(
            f"goldenchain project {p.id}: prompt -> still -> image gate -> Kling clip -> clip check. "
            "Free: lint, estimate, status, costs, failures, gate, qc, review actions. Paid: run, which needs a "
            "quote (from the quote tool) that a person approved with `goldenchain approve QUOTE`."
        ),
    )

    @server.tool()
    def lint() -> list[dict[str, str]]:
        """Prompt rules, camera/motion policy and model capabilities, before any spend."""
        return [f.to_json() for f in _call(api.lint, p)]

    @server.tool()
    def estimate(shots: list[str] | None = None) -> dict[str, Any]:
        """What the remaining work costs: expected and worst case, credits, budgets. No spend."""
        return dict(_call(api.estimate, p, shots=shots))

    @server.tool()
    def quote(shots: list[str] | None = None) -> dict[str, Any]:
        """Price the remaining work of the shots for a person to approve; returns the quote id."""
        return dict(_call(api.quote, p, shots=shots).to_json())

    @server.tool()
    async def run(quote_id: str) -> dict[str, Any]:
        """Run the quoted shots under their approved quote (at most its amount). Refused without approval."""
        plan = _call(api.plan_run, p, quote_id)  # refused here, before anything is spent
        report = await anyio.to_thread.run_sync(lambda: _call(api.run_plan, p, plan))
        return {
            **report.to_json(),
            "status": [s.to_json() for s in _call(api.status, p)],
        }

    @server.tool()
    def status() -> list[dict[str, Any]]:
        """Per shot: state, stage, why, and what a person can do."""
        return [s.to_json() for s in _call(api.status, p)]

    @server.tool()
    def costs() -> dict[str, Any]:
        """The ledger: spend by provider, shot and day; burn rate; waste."""
        return dict(_call(api.costs, p))

    @server.tool()
    def failures(reason: str | None = None) -> list[dict[str, Any]]:
        """Every failed or rejected take with its reason class and the provider's own words."""
        return list(_call(api.failures, p, reason))

    @server.tool()
    def gate(paths: list[str]) -> list[dict[str, Any]]:
        """The image gate on still files."""
        return [_readable(r).to_json() for r in _call(api.gate, paths)]

    @server.tool()
    def qc(path: str) -> dict[str, Any]:
        """The clip check on a clip file."""
        return dict(_readable(_call(api.qc, path)).to_json())

    @server.tool()
    def review(
        take_id: int, action: str, reason: str | None = None, note: str | None = None
    ) -> dict[str, Any]:
        """A review action on a take: approve, reject (reason from the taxonomy, note), or use (in the cut)."""
        if action == "approve":
            return _call(api.approve_take, p, take_id, note=note, who="mcp").to_json()
        if action == "reject":
            return _call(api.reject_take, p, take_id, reason=reason, note=note, who="mcp").to_json()
        if action == "use":
            return _call(api.use_take, p, take_id, who="mcp").to_json()
        raise ToolError("action must be approve, reject or use")

    @server.tool()
    def takes(shot: str | None = None) -> list[dict[str, Any]]:
        """Every take (or one shot's): state, verdict, review, cost, checks, and whether the cut uses it."""
        return [t.to_json() for t in _call(api.takes, p, shot)]

    @server.tool()
    def reroll(shot: str, stage: str) -> str:
        """Ask for one more take of a stage; the next (approved) run makes it."""
        _call(api.reroll, p, shot, stage, who="mcp")
        return f"{shot}: one more {stage} take on the next run"

    @server.resource("goldenchain://report", mime_type="application/json")
    def report() -> str:
        """The last report (report.json)."""
        path = p.out_dir / "report.json"
        return path.read_text(encoding="utf-8") if path.is_file() else json.dumps({"error": "no report yet"})

    @server.resource("goldenchain://takes/{take_id}", mime_type="application/json")
    def take(take_id: str) -> str:
        """A take's record (the API's take), with where its media lies."""
        if not take_id.isdigit():
            raise ToolError(f"unknown take {take_id}")
        t = _call(api.take, p, int(take_id))
        sha = t.artifact_sha256
        media = next(iter(p.artifacts_dir.glob(f"sha256/{sha[:2]}/{sha[2:]}.*")), None) if sha else None
        return json.dumps({**t.to_json(), "media": str(media) if media else None})

    return server


def serve(p: Project, http_port: int | None = None) -> None:
    server = build_server(p)
    if http_port is None:
        server.run("stdio")
    else:
        server.run("streamable-http", host="127.0.0.1", port=http_port)

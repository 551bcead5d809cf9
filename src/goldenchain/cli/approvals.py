"""``goldenchain quote``, ``approve QUOTE`` and ``revoke QUOTE``: a person's yes (or no) to what a script or an
agent wants to spend."""

from __future__ import annotations

import json

import click

from goldenchain import api


def _show(q: api.Quote, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(q.to_json(), indent=2))
        return
    d = q.to_json()
    click.echo(
        f"quote {q.id}: ${q.amount_usd:.2f} at most for {', '.join(q.shots)} ({q.project_id}); "
        f"{q.status}{' by ' + q.decided_by if q.decided_by else ''}; expires {d['expires_at']}"
    )


@click.command("quote")
@click.argument("project", required=False, default=".", type=click.Path(file_okay=False))
@click.option("--shots", "shot_list", default=None, help="Comma-separated shot ids (default: all).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout instead of a table.")
def quote_cmd(project: str, shot_list: str | None, as_json: bool) -> int:
    """Price what is left of the shots at its worst case, for a person to approve."""
    p = api.open_project(project)
    shots = [s.strip() for s in shot_list.split(",") if s.strip()] if shot_list else None
    _show(api.quote(p, shots=shots), as_json)
    return 0


def _decision(name: str, status: str, doc: str) -> click.Command:
    """``approve QUOTE`` or ``revoke QUOTE``: a person's decision on a quote, shown like ``quote`` shows it."""

    @click.command(name, help=doc)
    @click.argument("quote_id", metavar="QUOTE")
    @click.argument("project", required=False, default=".", type=click.Path(file_okay=False))
    @click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout instead of a table.")
    def cmd(quote_id: str, project: str, as_json: bool) -> int:
        _show(api.decide_quote(api.open_project(project), quote_id, status, who="cli"), as_json)
        return 0

    return cmd


approve_cmd = _decision(
    "approve",
    "approved",
    "A person's yes to a quote: a run under it may spend up to its amount on its shots.",
)
revoke_cmd = _decision(
    "revoke", "revoked", "A person's no: a run under this quote stops before its next paid call."
)


@click.command("mcp")
@click.argument("project", required=False, default=".", type=click.Path(file_okay=False))
@click.option(
    "--http",
    "http_port",
    type=click.IntRange(0, 65535),
    default=None,
    help="Streamable HTTP on this loopback port instead of stdio.",
)
def mcp_cmd(project: str, http_port: int | None) -> None:
    """An MCP server for agents (stdio; --http PORT for streamable HTTP on 127.0.0.1). A paid run needs a quote
    that a person approved."""
    from goldenchain.mcp_server import serve

    serve(api.open_project(project), http_port)


COMMANDS = [quote_cmd, approve_cmd, revoke_cmd, mcp_cmd]

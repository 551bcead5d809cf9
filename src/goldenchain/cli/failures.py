"""``goldenchain failures``: the failure archive, filtered; a refund claim per provider; failure patterns and
the lint rules they suggest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from goldenchain import api
from goldenchain.config import PROJECT_FILE, load_project
from goldenchain.errors import UsageError

console = Console()


@click.command("failures")
@click.argument("project", required=False, default=".", type=click.Path(file_okay=False))
@click.option(
    "--reason", default=None, help="Only this class (moderation, gate_reject, qc_reject, human, ...)."
)
@click.option("--model", default=None, help="Only takes of models whose id contains this.")
@click.option("--feature", default=None, help="Only takes whose prompt holds this word.")
@click.option("--since", default=None, metavar="YYYY-MM-DD", help="Only takes made on or after this day.")
@click.option(
    "--refund-claim", "claim", default=None, metavar="PROVIDER", help="CSV of what PROVIDER billed."
)
@click.option("--patterns", "show_patterns", is_flag=True, help="Failure rates by prompt word and setting.")
@click.option(
    "--accept-rule", "accept", default=None, metavar="ID", help="Add a proposed lint rule to the project."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout instead of a table.")
@click.option("--wide", is_flag=True, help="Every column (provider, model, task id), past 80 characters.")
def failures_cmd(
    project: str,
    reason: str | None,
    model: str | None,
    feature: str | None,
    since: str | None,
    claim: str | None,
    show_patterns: bool,
    accept: str | None,
    as_json: bool,
    wide: bool = False,
) -> int:
    """The failure archive: every rejected or failed take with its inputs, reason and the provider's words."""
    from goldenchain.reports.patterns import refund_claim

    p = load_project(project)
    rows = api.failures(p, reason, model=model, feature=feature, since=since)
    if claim:
        click.echo(refund_claim(rows, claim), nl=False)
        return 0
    if show_patterns or accept:
        found = api.failure_patterns(p)
        rules = list(found.proposed_rules)
        if accept:
            return _accept(Path(p.root), rules, accept)
        if as_json:
            click.echo(json.dumps(found.to_json(), indent=2))
            return 0
        t = Table(title=f"failure patterns in {p.id}")
        for col in ("feature", "failed", "rate", "most often", "tied to", "p", ""):
            t.add_column(col, justify="right" if col in ("failed", "rate", "p") else "left")
        for x in found.patterns[:20]:
            t.add_row(x.feature, f"{x.failures}/{x.takes}", f"{x.rate:.0%}", x.top_reason,
                      f"{x.kind} ({x.kind_failures})", f"{x.p_value:.2g}", "pattern" if x.flagged else "")  # fmt: skip
        console.print(t)
        for r in rules:
            console.print(
                f"proposed rule {r['id']}: {r['message']} (goldenchain failures --accept-rule {r['id']})"
            )
        return 0
    for r in rows:
        r.pop("take_id", None)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return 0
    if not rows:
        what = (
            f" matching {', '.join(x for x in (reason, model, feature, since) if x)}"
            if (reason or model or feature or since)
            else ""
        )
        click.echo(f"no failed or rejected takes{what} in {p.id}")
        return 0
    table = Table(title=f"failures in {p.id}")
    extra = ["provider", "model", "task id"] if wide else []
    for col in ("shot", "take", "reason", "message", "cost", *extra):
        table.add_column(col)
    for r in rows:
        more = [r["provider"], r["model"], r.get("provider_task_id") or ""] if wide else []
        cost = f"${(r['cost_usd'] or 0):.2f}"
        table.add_row(r["shot"], f"{r['stage']} {r['take']}", r["reason"], r["message"] or "", cost, *more)
    console.print(table, width=max(console.width, 200) if wide else None)
    return 0


def _accept(root: Path, rules: list[dict[str, Any]], rule_id: str) -> int:
    rule = next((r for r in rules if r["id"] == rule_id), None)
    if rule is None:
        known = ", ".join(r["id"] for r in rules) or "none"
        raise UsageError(f"no proposed rule {rule_id!r} (proposed now: {known})")
    cfg = root / PROJECT_FILE
    text = cfg.read_text(encoding="utf-8")
    if f'id = "{rule_id}"' in text:
        raise UsageError(f"{cfg}: rule {rule_id} is there already")
    block = "\n[[lint.rules]]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in rule.items())
    cfg.write_text(text.rstrip("\n") + "\n" + block, encoding="utf-8")
    load_project(root)  # what we wrote must load
    click.echo(f"added lint rule {rule_id} to {cfg}")
    return 0


COMMANDS = [failures_cmd]

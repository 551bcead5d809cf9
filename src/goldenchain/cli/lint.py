"""``goldenchain lint``: prompt rules, camera/motion policy and capabilities, before any spend."""

from __future__ import annotations

import json

import click
from rich.console import Console
from rich.table import Table

from goldenchain import api
from goldenchain.config import Project, load_project

console = Console()
COLOUR = {"error": "red", "warning": "yellow", "info": "cyan"}


@click.command("lint")
@click.argument("project", required=False, default=".", type=click.Path(file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout instead of a table.")
def lint_cmd(project: str, as_json: bool) -> int:
    """Prompt rules, camera/motion policy and provider capability checks. Exit 1 on any error."""
    p = load_project(project)
    findings = api.lint(p)
    if as_json:
        click.echo(json.dumps([f.to_json() for f in findings], indent=2))
    elif not findings:
        console.print(f"{p.id}: no findings")
    else:
        t = Table(title=f"lint {p.id}")
        for col in ("shot", "severity", "rule", "message", "fix"):
            t.add_column(col)
        for f in findings:
            col = COLOUR[f.severity]
            t.add_row(f.shot, f"[{col}]{f.severity}[/{col}]", f.rule, f.message, f.hint)
        console.print(t)
        _suggest(p, {f.shot for f in findings})
    return 1 if any(f.severity == "error" for f in findings) else 0


def _suggest(p: Project, shot_ids: set[str]) -> None:
    """For each shot with findings: the golden prompt closest to it, a tried way to say the same thing."""
    from goldenchain.prompts import closest, load_library

    lib = load_library(p.root)
    for s in p.shots.shots:
        if s.id not in shot_ids:
            continue
        best = closest(s.prompt, lib.entries, s.scene) or closest(s.prompt, lib.entries)
        if best is not None:
            console.print(
                f"{s.id}: closest golden prompt: {best[0].id} (goldenchain prompts show {best[0].id})"
            )


COMMANDS = [lint_cmd]

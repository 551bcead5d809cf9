"""``goldenchain lint``: prompt rules, camera/motion policy and capabilities, before any spend."""

from __future__ import annotations

import json

import click
from rich.console import Console
from rich.table import Table

from goldenchain.config import Project, load_project
from goldenchain.core.rules import Finding, PromptRule, lint_shot

console = Console()
COLOUR = {"error": "red", "warning": "yellow", "info": "cyan"}


def lint_project(p: Project) -> list[Finding]:
    c = p.config
    extra = tuple(
        PromptRule(r.id, r.severity, r.message, r.hint, r.pattern, r.mode, tuple(r.scenes))
        for r in c.lint.rules
    )
    out: list[Finding] = []
    if not c.gate.enabled or not c.qc.enabled:
        off = " and ".join(
            n for n, on in (("image gate", c.gate.enabled), ("clip check", c.qc.enabled)) if not on
        )
        out.append(
            Finding(
                "*",
                "checks-disabled",
                "warning",
                f"the {off} is off: bad takes reach video and delivery",
                "set [gate] enabled = true / [qc] enabled = true for client work",
            )
        )
    for s in p.shots.shots:
        out += lint_shot(
            s,
            still_provider=c.stills.provider,
            still_model=c.stills.model,
            video_provider=c.video.provider,
            video_model_id=c.video.model,
            video_mode=c.video.mode,
            disabled=frozenset(c.lint.disable),
            extra_rules=extra,
            still_width=c.stills.width,
            still_height=c.stills.height,
            cfg_scale=c.video.cfg_scale,
            negative_prompt=c.video.negative_prompt or None,
        )
    return out


@click.command("lint")
@click.argument("project", required=False, default=".", type=click.Path(file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout instead of a table.")
def lint_cmd(project: str, as_json: bool) -> int:
    """Prompt rules, camera/motion policy and provider capability checks. Exit 1 on any error."""
    p = load_project(project)
    findings = lint_project(p)
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
    return 1 if any(f.severity == "error" for f in findings) else 0


COMMANDS = [lint_cmd]

"""``goldenchain prompts list|show|add|promote|retire``: the golden prompt library and each prompt's record."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from goldenchain import api
from goldenchain.config import PROJECT_FILE, load_project
from goldenchain.errors import GoldenchainError, UsageError
from goldenchain.prompts.library import (
    MIN_LOWER_BOUND,
    MIN_TAKES,
    Entry,
    Library,
    Record,
    load_library,
    record_of,
)

console = Console()
_project_opt = click.option(
    "--project", "project", default=".", type=click.Path(file_okay=False), help="The project (default: here)."
)


def _lib(project: str) -> tuple[Library, Any]:
    root = Path(project)
    if not (root / PROJECT_FILE).is_file():
        return load_library(None), None
    return load_library(root.resolve()), load_project(root)


def _records(p: Any, entries: list[Entry]) -> dict[str, Record]:
    if p is None:
        return {}
    ledger = api.open_ledger(p)
    if ledger is None:
        return {}
    try:
        shots, takes = ledger.shots(p.id), ledger.takes(p.id)
    finally:
        ledger.db.dispose()
    return {e.id: record_of(e, shots, takes) for e in entries}


def _rate(r: Record | None) -> str:
    if r is None or not r.takes:
        return "no takes"
    return f"{r.passed}/{r.takes} ({r.pass_rate:.0%}, {r.low:.0%}–{r.high:.0%})"


@click.group("prompts")
def prompts_group() -> None:
    """Golden prompts: the shipped library, the studio's and the project's, each with its record."""


@prompts_group.command("list")
@_project_opt
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout instead of a table.")
def list_cmd(project: str, as_json: bool) -> int:
    """Every prompt with its scene, status and record (takes, pass rate with a 95 % Wilson interval)."""
    lib, p = _lib(project)
    recs = _records(p, lib.entries)
    if as_json:
        rows = [
            {**e.to_json(), "record": recs[e.id].to_json() if e.id in recs else None} for e in lib.entries
        ]
        click.echo(json.dumps(rows, indent=2))
        return 0
    t = Table(title="golden prompts")
    for col in ("id", "scene", "status", "record"):
        t.add_column(col)
    for e in lib.entries:
        t.add_row(e.id, e.scene, f"{e.status} ({e.scope})", _rate(recs.get(e.id)))
    console.print(t)
    return 0


@prompts_group.command("show")
@click.argument("prompt_id", metavar="ID")
@_project_opt
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout instead of a table.")
def show_cmd(prompt_id: str, project: str, as_json: bool) -> int:
    """One prompt, its notes and its record."""
    lib, p = _lib(project)
    e = lib.get(prompt_id)
    rec = _records(p, [e]).get(e.id)
    if as_json:
        click.echo(json.dumps({**e.to_json(), "record": rec.to_json() if rec else None}, indent=2))
        return 0
    click.echo(f"{e.id} ({e.scene}, {e.kind}, {e.status}, {e.scope})\n  {e.prompt}")
    if e.video_prompt:
        click.echo(f"  motion: {e.video_prompt}")
    if e.notes:
        click.echo(f"  notes: {e.notes}")
    click.echo(f"  record: {_rate(rec)}")
    return 0


@prompts_group.command("add")
@click.argument("prompt_id", metavar="ID")
@click.option("--prompt", "text", required=True, help="The still prompt.")
@click.option(
    "--scene",
    type=click.Choice(["portrait", "landscape", "environment", "action", "product"]),
    default="portrait",
    show_default=True,
    help="Scene type.",
)
@click.option("--video-prompt", default=None, help="The motion prompt.")
@click.option("--notes", default=None, help="Why it works.")
@click.option(
    "--studio", is_flag=True, help="Into the studio's library (all projects) instead of this project's."
)
@_project_opt
def add_cmd(
    prompt_id: str,
    text: str,
    scene: str,
    video_prompt: str | None,
    notes: str | None,
    studio: bool,
    project: str,
) -> int:
    """Add a candidate prompt; it becomes golden only by its record (promote)."""
    lib, p = _lib(project)
    if not studio and p is None:
        raise UsageError(f"{project}: not a project; use --studio to add to the studio's library")
    scope = "studio" if studio else "project"
    e = lib.add(
        Entry(prompt_id, " ".join(text.split()), scene, "good", "candidate", video_prompt, notes, scope)
    )
    click.echo(f"added {e.id} as a candidate to the {scope} library")
    return 0


def _set_status(prompt_id: str, project: str, status: str) -> None:
    """Promote (only when the record earns it) or retire a prompt, and say so."""
    lib, p = _lib(project)
    e = lib.get(prompt_id)
    rec = _records(p, [e]).get(e.id) if status == "golden" else None
    if status == "golden" and (rec is None or rec.takes < MIN_TAKES or (rec.low or 0.0) < MIN_LOWER_BOUND):
        raise GoldenchainError(
            f"{e.id} has not earned it yet: {_rate(rec)}; needs {MIN_TAKES} takes and a lower bound of "
            f"{MIN_LOWER_BOUND:.0%}"
        )
    lib.set_status(e.id, status)
    click.echo(f"{e.id} is {status}" + (f": {_rate(rec)}" if status == "golden" else ""))


@prompts_group.command("promote")
@click.argument("prompt_id", metavar="ID")
@_project_opt
def promote_cmd(prompt_id: str, project: str) -> int:
    """Make a prompt golden, if its record earns it: at least 5 takes and a pass rate whose 95 % Wilson lower
    bound is at least 50 %."""
    _set_status(prompt_id, project, "golden")
    return 0


@prompts_group.command("retire")
@click.argument("prompt_id", metavar="ID")
@_project_opt
def retire_cmd(prompt_id: str, project: str) -> int:
    """Retire a prompt that stopped working."""
    _set_status(prompt_id, project, "retired")
    return 0


COMMANDS = [prompts_group]

"""``goldenchain doctor``: the guide's setup checklist as one command. Exit 0 when a run could start, 1 when
something would stop it. Keys are named, never shown."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from dataclasses import dataclass
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from goldenchain.config import Project, load_project

console = Console()

#: disk a shot needs at most (every take of a still and a clip at delivery size, plus its deliverables)
MB_PER_TAKE = {"still": 6.0, "clip": 12.0}
GOLDEN: dict[str, str | int] = {"model": "kling-v1-5", "mode": "pro", "duration": 5, "aspect": "16:9"}
CAMERA_MAX = 5.0  # the guide's "subtle camera": every slider within ±5


@dataclass
class Row:
    check: str
    state: str  # ok | warn | FAIL
    detail: str
    fix: str = ""


def _routes(p: Project) -> list[tuple[str, str]]:
    return [
        (p.config.stills.provider, p.config.stills.model),
        (p.config.video.provider, p.config.video.model),
    ]


def _golden(p: Project) -> Row:
    v, off = p.config.video, []
    if v.model != GOLDEN["model"]:
        off.append(f"model {v.model}")
    if v.mode != GOLDEN["mode"]:
        off.append(f"mode {v.mode}")
    for s in p.shots.shots:
        if s.duration != GOLDEN["duration"] or s.aspect != GOLDEN["aspect"]:
            off.append(f"{s.id} {s.duration} s {s.aspect}")
        cam = s.camera.model_dump() if s.camera else {}
        if any(abs(float(x or 0)) > CAMERA_MAX for x in cam.values()):
            off.append(f"{s.id} camera beyond ±{CAMERA_MAX:g}")
    if not off:
        return Row("golden settings", "ok", "Kling 1.5 pro, 5 s, 16:9, subtle camera on every shot")
    shown = ", ".join(off[:4]) + (f" (+{len(off) - 4} more)" if len(off) > 4 else "")
    return Row(
        "golden settings", "warn", f"not golden: {shown}", "on purpose? goldenchain lint says what it costs"
    )


def _ffmpeg() -> Row:
    try:
        import imageio_ffmpeg

        exe = imageio_ffmpeg.get_ffmpeg_exe()
        out = subprocess.run([exe, "-version"], capture_output=True, text=True, timeout=20, check=True)
        words = out.stdout.split()
        version = words[2] if len(words) > 2 and words[:2] == ["ffmpeg", "version"] else "?"
        return Row("ffmpeg", "ok", f"ffmpeg {version.split('-')[0]}")
    except Exception as e:  # any failure here means no final cut
        return Row("ffmpeg", "FAIL", f"not usable: {type(e).__name__}", "pip install imageio-ffmpeg")


def _database(p: Project) -> Row:
    from goldenchain.store.db import Database

    url = p.database_url
    kind = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    try:
        db = Database(url, retry_seconds=0)  # a setup check answers at once, it does not wait for the server
        try:
            db.ping()
        finally:
            db.dispose()
    except Exception as e:
        reason = " ".join(str(e).split())[:120]
        return Row("database", "FAIL", f"{kind}: {reason}", "check GOLDENCHAIN_DATABASE_URL and the server")
    return Row("database", "ok", f"{kind} reachable")


def _disk(p: Project) -> Row:
    need_mb = len(p.shots.shots) * (
        MB_PER_TAKE["still"] * p.config.stills.max_takes + MB_PER_TAKE["clip"] * p.config.video.max_takes
    )
    root = p.root
    free_mb = shutil.disk_usage(root).free / 1e6
    detail = f"{free_mb:,.0f} MB free, at most {need_mb:,.0f} MB needed"
    if free_mb < need_mb:
        return Row("disk", "FAIL", detail, "free space where the project lives")
    return Row("disk", "ok", detail)


def _plan(p: Project) -> Row:
    plan, conc = p.config.plan, p.config.engine.concurrency
    slots = ", ".join(f"{k} {v}" for k, v in sorted(conc.items()))
    tier = plan.kling_tier or "no Kling plan set"
    monthly = plan.monthly_credits()
    credits = f", {monthly:g} credits a month" if monthly else ""
    return Row("plan", "ok", f"{tier}{credits}; tasks in flight: {slots}")


async def _providers(p: Project) -> list[Row]:
    from goldenchain.core.estimate import estimate_project
    from goldenchain.core.pricing import KLING_USD_PER_UNIT
    from goldenchain.providers.probe import family, probe_route

    rows: list[Row] = []
    seen: set[str] = set()
    for route, model in _routes(p):
        fam = family(route)
        if fam in seen:
            continue
        seen.add(fam)
        r = await probe_route(route, p.settings, model=model)
        rows.append(Row(f"{fam} account", "ok" if r.ok else "FAIL", r.detail, r.fix))
        if r.ok and "units" in r.extra:
            try:
                est = estimate_project(p.config, p.shots.shots)
                need = float(est["by_provider"].get(route, 0.0)) / KLING_USD_PER_UNIT
            except Exception:
                need = 0.0
            left = float(r.extra["units"])
            state = "ok" if left >= need else "FAIL"
            rows.append(
                Row(
                    "kling units",
                    state,
                    f"{left:g} left, this project needs about {need:g}",
                    "" if state == "ok" else "buy a resource pack before the run",
                )
            )
    return rows


def diagnose(p: Project) -> list[Row]:
    rows = asyncio.run(_providers(p))
    return [*rows, _plan(p), _golden(p), _ffmpeg(), _database(p), _disk(p)]


@click.command("doctor")
@click.argument("project", required=False, default=".", type=click.Path(file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout instead of a table.")
def doctor_cmd(project: str, as_json: bool) -> int:
    """Setup check: keys accepted (never shown), providers reachable, Kling units, plan, golden settings,
    ffmpeg, database, disk. Exit 1 when something would stop a run."""
    import json

    p = load_project(project)
    rows = diagnose(p)
    failed = any(r.state == "FAIL" for r in rows)
    if as_json:
        click.echo(json.dumps([r.__dict__ for r in rows], indent=2))
        return 1 if failed else 0
    table = Table(title=f"doctor: {p.id}")
    table.add_column("check", no_wrap=True)
    table.add_column("", no_wrap=True)
    table.add_column("what was found")
    table.add_column("fix")
    colour: dict[str, Any] = {"ok": "green", "warn": "yellow", "FAIL": "red bold"}
    for r in rows:
        table.add_row(r.check, f"[{colour[r.state]}]{r.state}[/]", r.detail, r.fix)
    console.print(table)
    console.print("[red]something would stop a run[/red]" if failed else "[green]a run could start[/green]")
    return 1 if failed else 0


COMMANDS = [doctor_cmd]

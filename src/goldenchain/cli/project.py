"""Project commands: init, run, status, estimate, costs, failures, lint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from goldenchain import api
from goldenchain.config import Project, load_project
from goldenchain.errors import UsageError

console = Console()
err_console = Console(stderr=True)


def _project_arg(f: Any) -> Any:
    return click.argument("project", required=False, default=".", type=click.Path(file_okay=False))(f)


@click.command("init")
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--force", is_flag=True, help="Overwrite existing project files.")
def init_cmd(directory: str, force: bool) -> None:
    """Write a working example project (goldenchain.toml and shots.yaml) into DIRECTORY."""
    from goldenchain.templates import write_example

    write_example(Path(directory), overwrite=force)
    load_project(directory)  # what we write must load
    click.echo(f"wrote {Path(directory) / 'goldenchain.toml'} and {Path(directory) / 'shots.yaml'}")
    click.echo("next:")
    click.echo(f"  cd {directory} && echo 'FAL_KEY=...' >> .env   # and KLING_ACCESS_KEY, KLING_SECRET_KEY")
    click.echo("  goldenchain doctor      # keys, providers, units, ffmpeg, disk")
    click.echo("  goldenchain estimate    # what the run will cost, before any spend")
    click.echo("  goldenchain run         # stills, gate, clips, clip check, final.mp4")
    click.echo("prompts that keep working, one per scene type: goldenchain prompts list")


def execute_run(project: Project, plan: api.RunPlan, *, quiet: bool = False) -> int:
    """Run a checked plan with the live display (or none), then say what came of it; the exit code."""
    from goldenchain.cli.progress import RunProgress, WaitsPrinter

    _engine_log_to_file(project)
    waits = WaitsPrinter(err_console)
    try:
        if quiet:
            report = api.run_plan(project, plan, on_waits=waits)
        else:
            with RunProgress(console) as on_progress:
                report = api.run_plan(project, plan, on_progress=on_progress, on_waits=waits)
    except api.Interrupted as e:
        err_console.print(
            f"interrupted: {e.shots} shot(s) left where they were; paid tasks in flight are kept and "
            "collected by the next `goldenchain run`"
        )
        raise
    return _said(report)


def _engine_log_to_file(project: Project) -> None:
    """The engine's own warnings go to .goldenchain/logs/engine.log, not the terminal."""
    import logging

    logs = project.state_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log = logging.getLogger("dbos")
    path = str(logs / "engine.log")
    _to_file(logging.getLogger("goldenchain.orchestration"), path)
    # the event loop's own reports (a task the engine left when Ctrl-C shut it down) belong there too
    _to_file(logging.getLogger("asyncio"), path)
    if not any(getattr(h, "baseFilename", None) == path for h in log.handlers):
        for h in list(log.handlers):  # the engine's console handler, from an earlier launch in this process
            if isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler):
                log.removeHandler(h)
        fh = logging.FileHandler(path, encoding="utf-8")
        fh.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        log.addHandler(fh)
    log.propagate = False


def _to_file(log: Any, path: str) -> None:
    """The engine layer's own warnings (a status read that failed and is tried again) go to the log file."""
    import logging

    if not any(getattr(h, "baseFilename", None) == path for h in log.handlers):
        fh = logging.FileHandler(path, encoding="utf-8")
        fh.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        log.addHandler(fh)
    log.propagate = False


def _said(report: api.RunReport) -> int:
    for s in report.shots:
        if s["status"] == "drafts_ready":
            console.print(
                f"{s['shot']}: {s.get('detail') or ''}", markup=False, highlight=False, soft_wrap=True
            )
        elif s["status"] not in ("done", "stills_done"):
            err_console.print(
                f"[red]{s['shot']}: {s['status']} at {s['stage']}[/red]: {s.get('detail') or ''}"
            )
    if report.stopped:
        err_console.print(f"[red]run stopped:[/red] {report.stopped}")
    for reason in report.delivery_failures:  # one line per file that does not meet the delivery spec
        err_console.print(f"delivery check failed: {reason}", markup=False, highlight=False, soft_wrap=True)
    if report.final:
        console.print(f"final cut: {report.final} ({report.final_duration} s)")
    console.print(f"report: {report.report}  spend ${report.total_usd:.2f}")
    for message in report.alerts:
        err_console.print(f"[yellow]alert:[/yellow] {message}")
    if report.alert_post_error:
        err_console.print(f"[yellow]{report.alert_post_error}[/yellow]")
    return 0 if report.ok else 1


@click.command("run")
@_project_arg
@click.option(
    "--max-cost",
    type=float,
    default=None,
    help="Stop before the call that would spend more than USD in this run.",
)
@click.option("--only", type=click.Choice(["stills", "clips"]), default=None, help="Run one stage only.")
@click.option(
    "--draft",
    "drafts",
    is_flag=True,
    help="Cheap draft stills with the draft model ([stills] draft_takes per shot) for a person to choose; no video.",
)
@click.option("--shots", "shot_list", default=None, help="Comma-separated shot ids.")
@click.option("--quiet", is_flag=True, help="No live display.")
@click.option(
    "--force",
    "force_reason",
    default=None,
    metavar="REASON",
    help="Spend despite lint errors; the reason is recorded in the ledger.",
)
@click.option(
    "--quote",
    "quote_id",
    default=None,
    metavar="QUOTE",
    help="Run a quote a person approved: its shots, at most its amount, stopped if it is revoked.",
)
def run_cmd(
    project: str,
    max_cost: float | None,
    only: str | None,
    shot_list: str | None,
    quiet: bool,
    force_reason: str | None,
    quote_id: str | None = None,
    drafts: bool = False,
) -> int:
    """Run or resume the chain. Running it again never pays twice for the same take.

    With --draft: only draft stills (the draft model, cheap), gated, for a person to choose in the review app;
    the next plain run makes the final still from the chosen draft, then the clip."""
    if max_cost is not None and max_cost <= 0:
        raise UsageError("--max-cost must be positive")
    p = load_project(project)
    shots = [s.strip() for s in shot_list.split(",") if s.strip()] if shot_list else None
    plan = api.plan_run(  # the person at this terminal says yes; --max-cost is their cap
        p,
        quote_id,
        by_person=True,
        max_cost=max_cost,
        only=only,
        shots=shots,
        force_reason=force_reason,
        drafts=drafts,
    )
    return execute_run(p, plan, quiet=quiet)


@click.command("status")
@_project_arg
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout instead of a table.")
@click.option("--wide", is_flag=True, help="Every column (each take's verdict), past 80 characters.")
def status_cmd(project: str, as_json: bool, wide: bool = False) -> int:
    """Per shot: state, why, what a person can do; takes, verdicts, spend; which draft a final still comes
    from."""
    from goldenchain.core.drafts import describe_source

    p = load_project(project)
    rows: list[dict[str, Any]] = [
        {
            "shot": s.id,
            "stage": s.stage,
            "status": s.status,
            "detail": s.detail,
            "takes": dict(s.takes),
            "verdicts": list(s.verdicts),
            "spend_usd": s.spend_usd,
            "next": s.next,
            "waiting_on": s.waiting_on,
            "draft": s.draft,
        }
        for s in api.status(p)
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return 0
    table = Table(title=f"{p.id}")
    cols = ["shot", "status", "takes", "spend", "why / what to do"] + (["verdicts"] if wide else [])
    for col in cols:
        table.add_column(
            col, justify="right" if col == "spend" else "left", no_wrap=wide and col == "verdicts"
        )
    for r in rows:
        why = (r["detail"] or "").split(";")[0] if r["status"] != "done" else ""
        if r["draft"]:
            why = f"{why}\n{describe_source(r['draft'])}".lstrip("\n")
        if r["waiting_on"]:
            why = f"{why}\nwaiting: {escape(r['waiting_on'])}".lstrip("\n")
        table.add_row(
            r["shot"],
            f"{r['status']}\n[dim]{r['stage']}[/dim]",
            f"{r['takes']['still']} still\n{r['takes']['clip']} clip"
            + (f"\n{r['takes']['draft']} draft" if r["takes"].get("draft") else ""),
            f"${r['spend_usd']:.2f}",
            (f"{why}\n" if why else "") + f"[bold]→[/bold] {r['next']}",
            *(["\n".join(r["verdicts"])] if wide else []),
        )
    console.print(table, width=None if not wide else max(console.width, 160))
    return 0


@click.command("estimate")
@_project_arg
@click.option(
    "--max-cost", type=float, default=None, help="Check the remaining work against this run cap too."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout instead of a table.")
@click.option("--draft", "drafts", is_flag=True, help="What a `run --draft` would cost (drafts only).")
def estimate_cmd(project: str, max_cost: float | None, as_json: bool, drafts: bool = False) -> int:
    """What the next run will cost: remaining work only, expected and worst case, in dollars and credits, per
    shot and provider, against every budget that applies; the drafts apart (what `run --draft` would pay).
    No spend."""
    p = load_project(project)
    est = api.estimate(p, max_cost=max_cost, drafts=drafts)
    if as_json:
        click.echo(json.dumps(est, indent=2))
        return 0
    what = (
        "a draft run (drafts only)"
        if drafts
        else "what is left (expected: one take per stage; worst: every take)"
    )
    table = Table(title=f"estimate for {p.id}: {what}")

    def usd(x: float | None) -> str:
        return "-" if x is None else f"${x:.2f}"

    for col in ("shot", "now", "left to make", "expected", "worst case", "drafts"):
        table.add_column(col, justify="left" if col in ("shot", "now", "left to make") else "right")
    for sid, row in est["shots"].items():
        table.add_row(
            sid,
            row["status"],
            " + ".join(row["needs"]) or "nothing",
            usd(row["expected_usd"]),
            usd(row["worst_case_usd"]),
            usd(row["draft_usd"]),
        )
    table.add_row(
        "[bold]total", "", "", f"[bold]{usd(est['total_usd'])}", f"[bold]{usd(est['worst_case_usd'])}",
        f"[bold]{usd(est['draft_usd'])}",
    )  # fmt: skip
    console.print(table)
    for prov, usd in est["by_provider"].items():
        cr = est["credits"].get(prov)
        worst_cr = est["worst_case_credits"].get(prov)
        extra = f", {cr:g} credits expected ({worst_cr:g} at worst)" if cr else ""
        console.print(f"{prov}: ${usd:.2f}{extra}")
    for b in est["budgets"]:
        verdict = (
            "fits"
            if b["worst_case_fits"]
            else ("fits if takes pass" if b["expected_fits"] else "DOES NOT FIT")
        )
        console.print(f"{b['cap']} budget ${b['limit_usd']:.2f}: ${b['left_usd']:.2f} left; {verdict}")
    return 0


COMMANDS = [init_cmd, run_cmd, status_cmd, estimate_cmd]

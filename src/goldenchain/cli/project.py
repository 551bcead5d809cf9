"""Project commands: init, run, status, estimate, costs, failures, lint."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

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


def execute_run(
    project: Project,
    *,
    max_cost: float | None,
    only: str | None,
    shots: list[str] | None,
    quiet: bool = False,
    force_reason: str | None = None,
    lint_errors: list[dict[str, Any]] | None = None,
    quote_id: str | None = None,
) -> int:
    from goldenchain.cli.progress import RunProgress, WaitsPrinter
    from goldenchain.orchestration.run import run_project
    from goldenchain.store.db import Database
    from goldenchain.store.ledger import Ledger

    def run(on_progress: Any = None) -> Any:
        return asyncio.run(
            run_project(
                project,
                max_cost=max_cost,
                only=only,
                shot_ids=shots,
                on_progress=on_progress,
                on_waits=WaitsPrinter(err_console),
                force_reason=force_reason,
                lint_errors=lint_errors,
                quote_id=quote_id,
            )
        )

    from goldenchain.store.lock import run_lock

    with run_lock(project.state_dir):
        _engine_log_to_file(project)
        try:
            if quiet:
                result = run()
            else:
                with RunProgress(console) as on_progress:
                    result = run(on_progress)
        except KeyboardInterrupt:
            db = Database(project.database_url)
            try:
                n = Ledger(db).interrupt(project.id)
            finally:
                db.dispose()
            err_console.print(
                f"interrupted: {n} shot(s) left where they were; paid tasks in flight are kept and "
                "collected by the next `goldenchain run`"
            )
            raise
        return _deliver(project, result, only)


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


def _warn_out_of_band(project: Project, costs: dict[str, Any]) -> None:
    """The guide's bands after every run: a figure outside its band is printed (and posted to the alert
    webhook when one is set); `goldenchain costs --check` turns them into an exit code for cron."""
    from goldenchain.reports.alerts import project_alerts, send_alerts

    alerts = project_alerts(project, costs)
    for a in alerts:
        err_console.print(f"[yellow]alert:[/yellow] {a.message}")
    failed = send_alerts(project, alerts)
    if failed:
        err_console.print(f"[yellow]{failed}[/yellow]")


def fetch_artifacts(project: Project, ledger: Any) -> int:
    """Every stored result of the project on this machine, fetched from the shared artifact copy where it is
    missing here (team mode without a shared disk); how many were fetched."""
    from goldenchain.orchestration.runtime import artifact_store

    store = artifact_store(project)
    if store.remote is None:
        return 0
    n = 0
    for t in ledger.takes(project.id):
        art = ledger.artifact(t.artifact_sha256) if t.artifact_sha256 else None
        if art is not None and not (project.root / art.path).is_file():
            store.local(project.root / art.path)
            n += 1
    return n


def _to_file(log: Any, path: str) -> None:
    """The engine layer's own warnings (a status read that failed and is tried again) go to the log file."""
    import logging

    if not any(getattr(h, "baseFilename", None) == path for h in log.handlers):
        fh = logging.FileHandler(path, encoding="utf-8")
        fh.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        log.addHandler(fh)
    log.propagate = False


def _deliver(project: Project, result: Any, only: str | None) -> int:
    from goldenchain.reports.deliver import build_deliverables
    from goldenchain.store.db import Database
    from goldenchain.store.ledger import Ledger

    db = Database(project.database_url)
    try:
        fetch_artifacts(project, Ledger(db))  # made on other machines: from the shared copy, if any
        report = build_deliverables(project, Ledger(db), assemble=only != "stills")
    finally:
        db.dispose()
    for s in result.shots:
        if s["status"] not in ("done", "stills_done"):
            err_console.print(
                f"[red]{s['shot']}: {s['status']} at {s['stage']}[/red]: {s.get('detail') or ''}"
            )
    if result.stopped:
        err_console.print(f"[red]run stopped:[/red] {result.stopped}")
    bad = [c for c in report.get("delivery_check", []) if not c["ok"]]
    for c in bad:  # one line per file that does not meet the delivery spec
        err_console.print(
            f"delivery check failed: {c['reason']}", markup=False, highlight=False, soft_wrap=True
        )
    if report.get("final"):
        final = project.out_dir / report["final"]["path"]
        console.print(f"final cut: {final} ({report['final']['duration']} s)")
    console.print(f"report: {project.out_dir / 'report.html'}  spend ${report['costs']['total_usd']:.2f}")
    _warn_out_of_band(project, report["costs"])
    return 0 if result.ok and not bad else 1


@click.command("run")
@_project_arg
@click.option(
    "--max-cost",
    type=float,
    default=None,
    help="Stop before the call that would spend more than USD in this run.",
)
@click.option("--only", type=click.Choice(["stills", "clips"]), default=None, help="Run one stage only.")
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
) -> int:
    """Run or resume the chain. Running it again never pays twice for the same take."""
    from goldenchain.catalog import require_specs
    from goldenchain.cli.lint import lint_project

    if max_cost is not None and max_cost <= 0:
        raise UsageError("--max-cost must be positive")
    p = load_project(project)
    require_specs(p.config)  # a model without a spec cannot be priced or checked: refused even with --force
    shots = [s.strip() for s in shot_list.split(",") if s.strip()] if shot_list else None
    errors = [f for f in lint_project(p) if f.severity == "error" and (not shots or f.shot in shots)]
    if errors and not force_reason:
        first = errors[0]
        raise UsageError(
            f"{len(errors)} lint error(s), nothing spent; first: {first.shot} {first.rule}: {first.message} "
            "(see goldenchain lint; override with --force REASON)"
        )
    if quote_id is not None:
        from goldenchain.api import check_quote

        if max_cost is not None or shots is not None:
            raise UsageError("--quote sets the shots and the cap; leave out --max-cost and --shots")
        q = check_quote(p, quote_id)
        max_cost, shots = q.amount_usd, list(q.shots)
    if max_cost is not None:
        refuse_if_short(p, max_cost, shots)
    return execute_run(
        p,
        max_cost=max_cost,
        only=only,
        shots=shots,
        quiet=quiet,
        force_reason=force_reason if errors else None,
        lint_errors=[f.to_json() for f in errors] or None,
        quote_id=quote_id,
    )


def open_ledger(p: Project) -> Any:
    from goldenchain.store.db import Database
    from goldenchain.store.ledger import Ledger

    if p.settings.get("GOLDENCHAIN_DATABASE_URL") is None and not p.db_path.exists():
        return None
    return Ledger(Database(p.database_url))


def _team_waits(p: Project, ledger: Any, shots: dict[str, Any]) -> dict[str, str]:
    """Team mode: what each unfinished shot waits on (a queue, a worker and when it was last seen)."""
    from goldenchain.orchestration.engine import is_team, system_database_url
    from goldenchain.orchestration.waits import read_waits_offline

    if not is_team(p.database_url):
        return {}
    wfs = {sid: r.workflow_id for sid, r in shots.items() if r.workflow_id}
    return read_waits_offline(system_database_url(p.database_url), ledger.db, wfs)


@click.command("status")
@_project_arg
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout instead of a table.")
@click.option("--wide", is_flag=True, help="Every column (each take's verdict), past 80 characters.")
def status_cmd(project: str, as_json: bool, wide: bool = False) -> int:
    """Per shot: state, why, what a person can do; takes, verdicts, spend."""
    from goldenchain.core.shotstate import next_step

    p = load_project(project)
    ledger = open_ledger(p)
    rows: list[dict[str, Any]] = []
    spend_by_shot: dict[str, float] = {}
    db_shots = {}
    takes_by_shot: dict[str, list[Any]] = {}
    waits: dict[str, str] = {}
    if ledger is not None:
        from goldenchain.reports.costs import summarize

        db_shots = {r.shot_id: r for r in ledger.shots(p.id)}
        for t in ledger.takes(p.id):
            takes_by_shot.setdefault(t.shot_id, []).append(t)
        spend_by_shot = summarize(ledger.spend(p.id))["by_shot"]
        waits = _team_waits(p, ledger, db_shots)
        ledger.db.dispose()
    for s in p.shots.shots:
        r = db_shots.get(s.id)
        tk = takes_by_shot.get(s.id, [])
        rows.append(
            {
                "shot": s.id,
                "stage": r.stage if r else "planned",
                "status": r.status if r else "pending",
                "detail": r.detail if r else None,
                "takes": {
                    "still": sum(1 for t in tk if t.stage == "still"),
                    "clip": sum(1 for t in tk if t.stage == "clip"),
                },
                "verdicts": [
                    f"{t.stage}{t.take_no}:"
                    + (f"{t.review} in review" if t.review else (t.verdict or t.state))
                    for t in tk
                ],
                "spend_usd": spend_by_shot.get(s.id, 0.0),
                "next": next_step(r.status if r else "pending", s.id, r.detail if r else None),
                "waiting_on": waits.get(s.id),
            }
        )
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
        if r["waiting_on"]:
            why = f"{why}\nwaiting: {escape(r['waiting_on'])}".lstrip("\n")
        table.add_row(
            r["shot"],
            f"{r['status']}\n[dim]{r['stage']}[/dim]",
            f"{r['takes']['still']} still\n{r['takes']['clip']} clip",
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
def estimate_cmd(project: str, max_cost: float | None, as_json: bool) -> int:
    """What the next run will cost: remaining work only, expected and worst case, in dollars and credits, per
    shot and provider, against every budget that applies. No spend."""
    p = load_project(project)
    est = remaining_estimate(p, max_cost)
    if as_json:
        click.echo(json.dumps(est, indent=2))
        return 0
    table = Table(
        title=f"estimate for {p.id}: what is left (expected: one take per stage; worst: every take)"
    )
    for col in ("shot", "now", "left to make", "expected", "worst case"):
        table.add_column(col, justify="right" if col in ("expected", "worst case") else "left")
    for sid, row in est["shots"].items():
        table.add_row(
            sid,
            row["status"],
            " + ".join(row["needs"]) or "nothing",
            f"${row['expected_usd']:.2f}",
            f"${row['worst_case_usd']:.2f}",
        )
    table.add_row(
        "[bold]total", "", "", f"[bold]${est['total_usd']:.2f}", f"[bold]${est['worst_case_usd']:.2f}"
    )
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


def remaining_estimate(p: Project, max_cost: float | None = None) -> dict[str, Any]:
    """The estimate of what is left, from the ledger when the project has one."""
    from goldenchain.core.estimate import estimate_remaining, progress_of

    ledger = open_ledger(p)
    if ledger is None:
        return estimate_remaining(p.config, p.shots.shots, {}, max_cost=max_cost)
    try:
        progress = progress_of(ledger.shots(p.id), ledger.takes(p.id))
        used = ledger.budget_used(p.id, p.config.project.client)
    finally:
        ledger.db.dispose()
    return estimate_remaining(p.config, p.shots.shots, progress, used=used, max_cost=max_cost)


def refuse_if_short(p: Project, max_cost: float, shots: list[str] | None) -> None:
    """``run --max-cost`` below the least the remaining work needs: refused before anything is spent, with
    what would fit (exit 1)."""
    from goldenchain.core.estimate import what_fits
    from goldenchain.errors import GoldenchainError

    est = remaining_estimate(p, max_cost)
    if shots:
        est["shots"] = {k: v for k, v in est["shots"].items() if k in shots}
    need = round(sum(r["expected_usd"] for r in est["shots"].values()), 4)
    if need <= max_cost + 1e-9:
        return
    fits = what_fits(est, max_cost)
    hint = f"--shots {','.join(fits)} fits" if fits else "no single shot fits"
    cheaper = _cheaper_mode(p, max_cost, need)
    raise GoldenchainError(
        f"--max-cost ${max_cost:.2f} is below the ${need:.2f} the remaining work needs at least; nothing spent. "
        f"{hint}{cheaper}"
    )


def _cheaper_mode(p: Project, max_cost: float, need: float) -> str:
    from goldenchain.core.estimate import estimate_remaining

    if p.config.video.mode != "pro":
        return ""
    cfg = p.config.model_copy(update={"video": p.config.video.model_copy(update={"mode": "std"})})
    try:
        std = estimate_remaining(cfg, p.shots.shots, {})["total_usd"]
    except Exception:
        return ""
    if std < need:
        return f'; [video] mode = "std" would need ${std:.2f} (not the golden setting)'
    return ""


COMMANDS = [init_cmd, run_cmd, status_cmd, estimate_cmd]

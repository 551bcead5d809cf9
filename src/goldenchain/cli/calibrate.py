"""``goldenchain calibrate [PROJECT]``: a calibration run (fixed prompts and seeds through the project's routes)
and each metric's drift against the last calibration. Not ``gate calibrate``, which fits gate thresholds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from goldenchain import api
from goldenchain.config import load_project
from goldenchain.errors import UsageError

console = Console()
err_console = Console(stderr=True)

#: metric | now | last | drift | band | flag: 78 characters
ROW = "{:<30} {:>10} {:>10} {:>9} {:>9} {:<5}"


def _num(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v:.4g}" if abs(v) < 1e5 else f"{v:.3e}"


def _drift(d: dict[str, Any]) -> str:
    if d["drift"] is None:
        return "-"
    if d["band_kind"] == "relative" and d["relative"] is not None:
        return f"{d['relative'] * 100:+.1f}%"
    return f"{d['drift']:+.3g}"


def _band(d: dict[str, Any]) -> str:
    if d["band_kind"] == "relative":
        return f"±{d['band'] * 100:g}%"
    if d["band_kind"] == "count":
        return f"+{d['band']:g}"
    return f"±{d['band']:.3g}"


def drift_table(report: dict[str, Any]) -> list[str]:
    """The report as lines of at most 80 characters."""
    head = f"calibration {report['calibration']} of {report['project']}: {report['routes']}"
    lines = [head[:80]]
    if report["baseline"]:
        lines.append("first calibration of these routes: the baseline, nothing to compare with")
    else:
        lines.append(f"against calibration {report['previous']}")
    lines.append(ROW.format("metric", "now", "last", "drift", "band", ""))
    for d in report["metrics"]:
        label = d["label"] if len(d["label"]) <= 30 else d["label"][:29] + "…"
        flag = "DRIFT" if d["flagged"] else ""
        lines.append(ROW.format(label, _num(d["now"]), _num(d["last"]), _drift(d), _band(d), flag).rstrip())
    spent = report["spent_usd"]
    lines.append(f"spent ${spent or 0:.2f} (estimate ${report['estimate_usd']:.2f})")
    for p in report["prompts"]:
        if p["status"] not in ("done", "stills_done"):
            lines.append(f"{p['prompt']}: {p['status']}"[:80])
    if report["flagged"]:
        lines.append(
            f"{len(report['flagged'])} metric(s) outside their band: see docs/howto/calibrate.md"[:80]
        )
    return lines


def _show_plan(plan: api.CalibrationPlan) -> None:
    est = plan.estimate
    what = "stills and the image gate" if plan.stills_only else "still, gate, clip, clip check"
    again = "; resuming an unfinished calibration (its paid takes are kept)" if plan.resumed else ""
    err_console.print(
        f"calibration {plan.run_id}: {len(plan.prompts)} prompts with fixed seeds ({what}) on {plan.routes}; "
        f"estimate ${est['worst_case_usd']:.2f}{again}",
        markup=False, highlight=False, soft_wrap=True,
    )  # fmt: skip
    for b in est["budgets"]:
        err_console.print(f"{b['cap']} budget ${b['limit_usd']:.2f}: ${b['left_usd']:.2f} left", markup=False)


def _reports(p: Any) -> list[dict[str, Any]]:
    return [api.calibration_report(p, r.id).to_json() for r in api.calibrations(p) if r.status == "done"]


def _plot(reports: list[dict[str, Any]], plot: str) -> None:
    from goldenchain.reports.calibration import plot_calibrations

    if not reports:
        raise UsageError("no calibration yet to plot (goldenchain calibrate)")
    plot_calibrations(reports, Path(plot))


def _history(p: Any, as_json: bool, plot: str | None) -> int:
    reports = _reports(p)
    if plot:
        _plot(reports, plot)
    if as_json:
        click.echo(json.dumps(reports, indent=2))
        return 0
    for r in reports:
        flags = ", ".join(r["flagged"]) or ("baseline" if r["baseline"] else "no drift")
        click.echo(f"{r['calibration']}  ${r['spent_usd'] or 0:.2f}  {r['routes']}  {flags}"[:80])
    if plot:
        click.echo(f"plot: {plot}")
    return 0


@click.command("calibrate")
@click.argument("project", required=False, default=".", type=click.Path(file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON on stdout.")
@click.option(
    "--max-cost", type=float, default=None, help="Refuse, with no spend, when the estimate is over USD."
)
@click.option("--stills-only", is_flag=True, help="Stills and the image gate only (cheap): no clips.")
@click.option("--dry-run", is_flag=True, help="Show the prompts, seeds and estimate; spend nothing.")
@click.option(
    "--history", is_flag=True, help="List the past calibrations (and plot them with --plot); no run."
)
@click.option(
    "--plot", default=None, metavar="FILE.png", help="Plot every calibration's metrics to FILE.png."
)
@click.option("--quiet", is_flag=True, help="No live display.")
def calibrate_cmd(
    project: str,
    as_json: bool,
    max_cost: float | None,
    stills_only: bool,
    dry_run: bool,
    history: bool,
    plot: str | None,
    quiet: bool,
) -> int:
    """Calibration run: the prompt library's calibration prompts with fixed seeds through this project's
    routes (still, image gate, clip, clip check), then each metric's drift against the last calibration of
    the same routes. Exit 1 when a metric leaves its band ([calibration] in goldenchain.toml), 0 otherwise.
    Not `gate calibrate`, which fits the image gate's thresholds on labelled stills."""
    if max_cost is not None and max_cost <= 0:
        raise UsageError("--max-cost must be positive")
    if plot is not None and not plot.lower().endswith(".png"):
        raise UsageError("--plot takes a .png file name")
    p = load_project(project)
    if history:
        return _history(p, as_json, plot)
    plan = api.calibration_plan(p, stills_only=stills_only)
    _show_plan(plan)
    if dry_run:
        if as_json:
            click.echo(json.dumps({k: v for k, v in plan.__dict__.items() if k != "project"}, indent=2))
        return 0
    from goldenchain.cli.progress import RunProgress
    from goldenchain.cli.project import _engine_log_to_file

    _engine_log_to_file(p)
    try:
        if quiet or as_json:
            report = api.calibrate(p, max_cost=max_cost, plan=plan)
        else:
            with RunProgress(err_console) as on_progress:
                report = api.calibrate(p, max_cost=max_cost, plan=plan, on_progress=on_progress)
    except api.Interrupted:
        err_console.print(
            "interrupted: paid tasks in flight are kept; the next `goldenchain calibrate` resumes this calibration"
        )
        raise
    out = report.to_json()
    if plot:
        _plot(_reports(p), plot)
    if as_json:
        click.echo(json.dumps(out, indent=2))
    else:
        for line in drift_table(out):
            click.echo(line)
        if plot:
            click.echo(f"plot: {plot}")
    return 0 if report.ok else 1


COMMANDS = [calibrate_cmd]

"""``goldenchain retry SHOT... [--from still|clip] [PROJECT]``: start failed or blocked shots again on purpose."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from goldenchain import api
from goldenchain.config import PROJECT_FILE, load_project
from goldenchain.errors import UsageError

console = Console()
#: where a shot's status says it stopped -> the stage a retry starts from by default
_STAGE = {
    "planned": "still",
    "still": "still",
    "gate": "still",
    "video": "clip",
    "qc": "clip",
    "done": "clip",
}


@click.command("retry")
@click.argument("args", nargs=-1, required=True, metavar="SHOT... [PROJECT]")
@click.option(
    "--from", "stage", type=click.Choice(["still", "clip"]), default=None, help="Stage to start again from."
)
@click.option("--dry-run", is_flag=True, help="Show what the retry would cost; change nothing.")
@click.option("--quiet", is_flag=True, help="No live display.")
@click.option(
    "--force",
    "force_reason",
    default=None,
    metavar="REASON",
    help="Spend despite lint errors; the reason is recorded in the ledger.",
)
def retry_cmd(
    args: tuple[str, ...], stage: str | None, dry_run: bool, quiet: bool, force_reason: str | None = None
) -> int:
    """Start failed or blocked shots again on purpose: a failed shot gets a new set of takes of the stage it
    failed at (or --from), a blocked one goes on with the take it had. The estimate is shown first."""
    from goldenchain.cli.project import execute_run
    from goldenchain.core.estimate import estimate_project

    names = list(args)
    root = "."
    if len(names) > 1 and (Path(names[-1]) / PROJECT_FILE).is_file():
        root = names.pop()
    p = load_project(root)
    for sid in names:
        p.shot(sid)  # unknown ids are usage errors, before anything changes
    ledger = api.open_ledger(p)
    rows = {r.shot_id: r for r in ledger.shots(p.id)} if ledger is not None else {}
    plan: list[tuple[str, str, str, int]] = []  # shot, status, stage, new takes
    for sid in names:
        row = rows.get(sid)
        status = row.status if row is not None else "pending"
        if status == "running":
            raise UsageError(f"{sid} is running; wait for its run to end (or stop it) first")
        st = stage or _STAGE.get(row.stage if row is not None else "planned", "still")
        new = 0
        if status in ("failed", "done", "stills_done") or stage is not None:
            new = p.config.stills.max_takes if st == "still" else p.config.video.max_takes
        plan.append((sid, status, st, new))
    est = estimate_project(p.config, [p.shot(sid) for sid in names])["shots"]
    table = Table(title=f"retry in {p.id}")
    for col in ("shot", "now", "from", "new takes", "expected", "worst case"):
        table.add_column(col, justify="right" if col in ("new takes", "expected", "worst case") else "left")
    total = worst = 0.0
    for sid, status, st, new in plan:
        e = est[sid]
        exp = e["clip_usd"] + (e["still_usd"] if st == "still" else 0.0)
        if new:
            per = e["still_usd"] if st == "still" else e["clip_usd"]
            wc = per * new + (e["clip_usd"] * p.config.video.max_takes if st == "still" else 0.0)
        else:
            wc = e["worst_case_usd"]
        total, worst = total + exp, worst + wc
        table.add_row(sid, status, st, str(new or "-"), f"${exp:.2f}", f"${wc:.2f}")
    table.add_row("[bold]total", "", "", "", f"[bold]${total:.2f}", f"[bold]${worst:.2f}")
    console.print(table)
    if dry_run:
        return 0
    checked = api.plan_run(
        p, by_person=True, shots=names, force_reason=force_reason
    )  # refused: nothing changed
    if ledger is not None:
        for sid, _status, st, new in plan:
            if new:
                ledger.grant_retry(p.id, sid, st, new, who="cli")
        ledger.db.dispose()
    return execute_run(p, checked, quiet=quiet)


COMMANDS = [retry_cmd]

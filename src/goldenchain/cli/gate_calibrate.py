"""``goldenchain gate calibrate ACCEPTED_DIR REJECTED_DIR``: fit the gate's thresholds on labelled stills."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.table import Table

from goldenchain.errors import UsageError

if TYPE_CHECKING:  # the gate modules pull in numpy; the CLI imports them only when a command runs
    from goldenchain.gates.calibrate import CalibrationResult

__all__ = ["COMMANDS", "CalibrationResult", "calibrate", "calibrate_cmd"]

DEFAULT_PROFILE = "kling-i2v"
console = Console()


def calibrate(
    accepted: list[Path], rejected: list[Path], *, profile: str = DEFAULT_PROFILE, jobs: int = 1
) -> CalibrationResult:
    """Run every check on both sets and fit each threshold; see :mod:`goldenchain.gates.calibrate`."""
    from goldenchain.gates.calibrate import calibrate as _calibrate

    return _calibrate(accepted, rejected, profile=profile, jobs=jobs)


def __getattr__(name: str) -> Any:
    if name == "CalibrationResult":
        from goldenchain.gates.calibrate import CalibrationResult

        return CalibrationResult
    raise AttributeError(name)


def _f(x: float, fmt: str = ".4g") -> str:
    return "–" if math.isnan(x) else format(x, fmt)


def _print(res: CalibrationResult, wide: bool = False) -> None:
    console.print(
        f"[bold]gate calibrate[/bold]: profile {res.profile}, {res.n_accepted} accepted / "
        f"{res.n_rejected} rejected stills; proposed cuts keep false rejects ≤ {res.max_false_reject:.0%}"
    )
    t = Table(show_header=True, box=None, pad_edge=False)
    # at 80 columns: what a person decides on; --wide adds the direction and the current cut's figures
    cols = ["threshold", "AUC", "current", "proposed", "recall", "false rej", ""]
    if wide:
        cols = [
            "threshold",
            "dir",
            "AUC",
            "current",
            "recall",
            "false rej",
            "proposed",
            "recall",
            "false rej",
            "",
        ]
    for col in cols:
        t.add_column(col, no_wrap=col == "threshold")
    for f in res.fits:
        mark = "[green]apply[/green]" if f.useful else ("[dim]keep[/dim]" if f.changed else "")
        cells = {
            "dir": "↑bad" if f.direction == "higher_is_worse" else "↓bad",
            "AUC": _f(f.auc, ".3f"),
            "current": _f(f.current),
            "cur_recall": _f(f.recall_current, ".0%"),
            "cur_fr": _f(f.false_reject_current, ".0%"),
            "proposed": _f(f.proposed),
            "recall": _f(f.recall_proposed, ".0%"),
            "fr": _f(f.false_reject_proposed, ".0%"),
        }
        if wide:
            row = [f.key, cells["dir"], cells["AUC"], cells["current"], cells["cur_recall"], cells["cur_fr"]]
            row += [cells["proposed"], cells["recall"], cells["fr"], mark]
        else:
            row = [
                f.key,
                cells["AUC"],
                cells["current"],
                cells["proposed"],
                cells["recall"],
                cells["fr"],
                mark,
            ]
        t.add_row(*row)
    console.print(t)
    for e in res.errors:
        console.print(f"[yellow]skipped[/yellow] {e}")
    n = len(res.proposed_overrides())
    console.print(f"{n} threshold(s) would change (marked apply)." if n else "No threshold would change.")


def _folder(arg: str, what: str) -> list[Path]:
    from goldenchain.gates.calibrate import image_files

    files = image_files(Path(arg))
    if not files:
        raise UsageError(f"{what} folder {arg} has no image files (.png, .jpg, .webp, ...)")
    return files


@click.command("calibrate")
@click.argument("accepted_dir", type=click.Path(exists=True, file_okay=False))
@click.argument("rejected_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--profile", default=DEFAULT_PROFILE, show_default=True, help="Profile to start from.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout instead of a table.")
@click.option(
    "--write",
    "write",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the proposed thresholds as a [gate.thresholds] TOML snippet to this file.",
)
@click.option("--jobs", type=click.IntRange(1, 64), default=1, show_default=True, help="Worker processes.")
@click.option("--wide", is_flag=True, help="Every column, past 80 characters.")
def calibrate_cmd(
    accepted_dir: str,
    rejected_dir: str,
    profile: str,
    as_json: bool,
    write: str | None,
    jobs: int,
    wide: bool,
) -> int:
    """Fit the gate thresholds on stills a person ACCEPTED and REJECTED; show what would change. (A calibration
    run against a model's drift is `goldenchain calibrate`.)"""
    from goldenchain.gates.profiles import PROFILES

    if profile not in PROFILES:
        raise UsageError(f"unknown profile {profile!r} (known: {', '.join(sorted(PROFILES))})")
    acc = _folder(accepted_dir, "accepted")
    rej = _folder(rejected_dir, "rejected")
    res = calibrate(acc, rej, profile=profile, jobs=jobs)
    if write:
        Path(write).write_text(res.to_toml(), encoding="utf-8")
    if as_json:
        click.echo(json.dumps(res.to_json(), indent=2))
    else:
        _print(res, wide)
        if write:
            console.print(f"wrote {write}")
    return 0


COMMANDS = [calibrate_cmd]

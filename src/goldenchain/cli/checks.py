"""``goldenchain gate`` and ``goldenchain qc``: the checks on files."""

from __future__ import annotations

import json
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from goldenchain import api
from goldenchain.cli import gate_calibrate
from goldenchain.core.checks import CheckReport, worst_verdict
from goldenchain.errors import UsageError

console = Console()
COLOUR = {"pass": "green", "warn": "yellow", "reject": "red", "error": "red"}


def _print(reports: list[CheckReport]) -> None:
    for r in reports:
        c = COLOUR[r.verdict]
        console.print(f"[bold]{r.path}[/bold]: [{c}]{r.verdict}[/{c}] ({r.seconds:.2f} s)")
        if r.message:
            console.print(f"  {r.message}")
        if r.checks:
            t = Table(show_header=True, box=None, pad_edge=False)
            for col in ("check", "verdict", "score", "threshold", "why"):
                t.add_column(col)
            for ch in r.checks:
                cc = COLOUR[ch.verdict]
                t.add_row(
                    ch.name,
                    f"[{cc}]{ch.verdict}[/{cc}]",
                    f"{ch.score:.4g}",
                    f"{ch.threshold:.4g}",
                    ch.message,
                )
            console.print(t)


def _exit_code(reports: list[CheckReport]) -> int:
    """0, 1 on a reject, 2 when a file could not be read: then also one line on stderr that names each."""
    unreadable = [r for r in reports if r.verdict == "error"]
    if unreadable:
        why = "; ".join(f"{r.path}: {' '.join((r.message or 'cannot read it').split())}" for r in unreadable)
        click.echo(f"goldenchain: error: {why}", err=True)
    v = worst_verdict([r.verdict for r in reports])
    return {"pass": 0, "warn": 0, "reject": 1, "error": 2}[v]


def _parse_size(size: str | None) -> tuple[int, int] | None:
    if size is None:
        return None
    try:
        w, h = size.lower().split("x")
        return int(w), int(h)
    except ValueError:
        raise UsageError(f"--size must look like 1920x1080, not {size!r}") from None


@click.command("check", hidden=True)
@click.argument("images", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout instead of a table.")
@click.option("--profile", default="kling-i2v", show_default=True, help="Threshold set (reference: checks).")
@click.option("--aspect", default=None, help="Requested video aspect, e.g. 16:9.")
def gate_check_cmd(images: tuple[str, ...], as_json: bool, profile: str, aspect: str | None) -> int:
    """The image quality gate on files. Exit 1 when any is rejected, 2 when any cannot be read."""
    reports = api.gate(list(images), profile=profile, aspect=aspect)
    if as_json:
        click.echo(json.dumps([r.to_json() for r in reports], indent=2))
    else:
        _print(reports)
    return _exit_code(reports)


@click.command("qc")
@click.argument("clip", type=click.Path(dir_okay=False))
@click.option(
    "--still", type=click.Path(dir_okay=False), default=None, help="The still the clip was made from."
)
@click.option("--duration", type=float, default=None, help="Expected length in seconds.")
@click.option("--size", default=None, help="WxH, e.g. 1920x1080")
@click.option("--fps", type=float, default=None, help="Expected frames per second.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout instead of a table.")
def qc_cmd(
    clip: str, still: str | None, duration: float | None, size: str | None, fps: float | None, as_json: bool
) -> int:
    """The clip check on a file."""
    r = api.qc(clip, still=still, duration=duration, size=_parse_size(size), fps=fps)
    if as_json:
        click.echo(json.dumps([r.to_json()], indent=2))
    else:
        _print([r])
    return _exit_code([r])


class DefaultCommandGroup(click.Group):
    """A group that runs ``default`` when the first argument is not one of its subcommands.

    So ``goldenchain gate a.png --json`` is ``goldenchain gate check a.png --json`` (same options, output and
    exit codes as before ``gate`` had subcommands), while ``goldenchain gate calibrate A R`` runs the
    subcommand. A still literally named like a subcommand can be checked with ``gate check NAME``.
    """

    def __init__(self, *args: Any, default: click.Command, **kwargs: Any) -> None:
        kwargs.setdefault("no_args_is_help", False)
        super().__init__(*args, **kwargs)
        assert default.name is not None
        self.default_name = default.name
        self.add_command(default)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        help_names = set(ctx.help_option_names)
        if not args or (args[0] not in self.commands and args[0] not in help_names):
            args = [self.default_name, *args]
        return super().parse_args(ctx, args)

    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        return ["[OPTIONS] IMAGES...", "|", "COMMAND [ARGS]..."]

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self.commands[self.default_name].format_options(ctx, formatter)
        self.format_commands(ctx, formatter)


gate_cmd = DefaultCommandGroup(
    "gate",
    default=gate_check_cmd,
    help=(
        "The image quality gate on files (IMAGES...). Exit 1 when any is rejected, 2 when any cannot be "
        "read. Subcommands: `gate calibrate ACCEPTED_DIR REJECTED_DIR` fits the thresholds on labelled stills "
        "(a calibration run against a model's drift is `goldenchain calibrate`)."
    ),
)
for _cmd in gate_calibrate.COMMANDS:
    gate_cmd.add_command(_cmd)


COMMANDS = [gate_cmd, qc_cmd]

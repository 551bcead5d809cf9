"""The ``goldenchain`` command line. Exit codes: 0 success, 1 rejected/failed work, 2 bad usage or input."""

from __future__ import annotations

import sys

import click

from goldenchain import __version__
from goldenchain.errors import GoldenchainError, UsageError


class ExitCode(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="goldenchain")
def cli() -> None:
    """goldenchain: prompt -> photoreal still -> image gate -> image-to-video -> clip check -> deliverables,
    with a cost ledger and crash safety."""


def _register() -> None:
    from goldenchain.cli import (
        abtest,
        approvals,
        calibrate,
        checks,
        costs,
        demo,
        doctor,
        failures,
        lint,
        project,
        prompts,
        providers,
        retry,
        review,
        team,
    )

    for mod in (
        project,
        failures,
        retry,
        doctor,
        approvals,
        prompts,
        abtest,
        lint,
        costs,
        calibrate,
        checks,
        demo,
        providers,
        review,
        team,
    ):
        for cmd in mod.COMMANDS:
            cli.add_command(cmd)


_register()


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    try:
        rv = cli.main(args=args, prog_name="goldenchain", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("goldenchain: aborted", err=True)
        sys.exit(130)
    except click.ClickException as e:
        if type(e).__name__.startswith("NoArgsIsHelp"):  # a group called with no command: help, not an error
            click.echo(cli.get_help(click.Context(cli, info_name="goldenchain")))
            sys.exit(0)
        msg = " ".join(e.format_message().split())
        click.echo(f"goldenchain: error: {msg}", err=True)
        sys.exit(2)
    except UsageError as e:
        click.echo(f"goldenchain: error: {' '.join(str(e).split())}", err=True)
        sys.exit(2)
    except GoldenchainError as e:
        click.echo(f"goldenchain: {' '.join(str(e).split())}", err=True)
        sys.exit(1)
    except ExitCode as e:
        sys.exit(e.code)
    sys.exit(rv if isinstance(rv, int) else 0)

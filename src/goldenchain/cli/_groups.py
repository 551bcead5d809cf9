"""A click group that runs a default command when the first argument is not one of its subcommands, so
``goldenchain costs PROJECT --json`` and ``goldenchain costs breakeven ...`` both work."""

from __future__ import annotations

from typing import Any

import click


class DefaultGroup(click.Group):
    def __init__(self, *args: Any, default: str, **kwargs: Any) -> None:
        kwargs.setdefault("invoke_without_command", False)
        super().__init__(*args, **kwargs)
        self.default_name = default

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        wants_help = bool(args) and args[0] in ("-h", "--help")
        if not wants_help and (not args or args[0] not in self.commands):
            args = [self.default_name, *args]
        return super().parse_args(ctx, args)

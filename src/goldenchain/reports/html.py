"""The reports' HTML templates (``reports/templates``): one environment, escaping everything it renders."""

from __future__ import annotations

from functools import cache
from typing import Any


def _usd(v: Any) -> str:
    return f"${v:,.2f}" if isinstance(v, int | float) and not isinstance(v, bool) else "—"


def _share(v: Any) -> str:
    return f"{v * 100:.1f} %" if isinstance(v, int | float) and not isinstance(v, bool) else "—"


@cache
def environment() -> Any:
    from jinja2 import Environment, PackageLoader

    # always escape: the templates' names end in .j2, which select_autoescape() would not escape
    env = Environment(loader=PackageLoader("goldenchain.reports", "templates"), autoescape=True)
    env.filters["usd"] = _usd
    env.filters["share"] = _share
    return env

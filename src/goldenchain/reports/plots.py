"""Spend plots (matplotlib, no display needed): a PNG file for the report, an inline SVG for monthly summaries."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any


def _figure(
    per_day: dict[str, dict[str, float]],
    days: list[str],
    line: tuple[float, str] | None,
    right_title: str,
) -> Any:
    """Left: daily spend stacked by provider. Right: cumulative spend against a line (a budget, the fees)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    days = days or ["(no spend)"]
    providers = sorted({p for ps in per_day.values() for p in ps})
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    bottom = [0.0] * len(days)
    for prov in providers:
        vals = [per_day.get(d, {}).get(prov, 0.0) for d in days]
        ax1.bar(days, vals, bottom=bottom, label=prov)
        bottom = [b + v for b, v in zip(bottom, vals, strict=True)]
    ax1.set_title("Daily spend by provider (USD)")
    ax1.tick_params(axis="x", rotation=45)
    if providers:
        ax1.legend()
    cum, acc = [], 0.0
    for b in bottom:
        acc += b
        cum.append(acc)
    ax2.plot(days, cum, marker="o", label="cumulative spend")
    if line:
        ax2.axhline(line[0], color="#d62728", linestyle="--", label=f"{line[1]} ${line[0]:,.2f}")
    ax2.set_title(right_title)
    ax2.legend()
    ax2.tick_params(axis="x", rotation=45)
    fig.tight_layout()
    return fig


def plot_spend(summary: dict[str, Any], out: Path, *, budget: float | None = None) -> Path:
    """Left: daily spend stacked by provider. Right: cumulative spend against the budget."""
    import matplotlib.pyplot as plt

    per_day: dict[str, dict[str, float]] = summary.get("by_day_provider", {})
    line = (budget, "budget") if budget else None
    fig = _figure(per_day, sorted(per_day), line, "Cumulative spend against the budget (USD)")
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


def spend_svg(per_day: dict[str, dict[str, float]], days: list[str], line: tuple[float, str] | None) -> str:
    """The same two panels over the given days (``YYYY-MM-DD``, labelled by day of the month), as an ``<svg>`` element to put inside an HTML page: no XML
    prolog, no scripts, no external references, every text drawn as paths (no ledger string is copied in)."""
    import matplotlib.pyplot as plt

    # a month of days reads best as day numbers under the bars (the month is in the page's title)
    short = {d[-2:]: v for d, v in per_day.items()}
    with plt.rc_context({"svg.fonttype": "path", "svg.hashsalt": "goldenchain"}):
        title = f"Cumulative spend against the {line[1]} (USD)" if line else "Cumulative spend (USD)"
        fig = _figure(short, [d[-2:] for d in days], line, title)
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
        plt.close(fig)
    text = buf.getvalue()
    svg = text[text.index("<svg") :]
    if "<script" in svg.lower() or 'href="http' in svg.lower():  # never expected from matplotlib
        raise ValueError("the plot's SVG holds a script or an external reference")
    return svg

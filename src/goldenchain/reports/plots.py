"""Spend plots (matplotlib, no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def plot_spend(summary: dict[str, Any], out: Path, *, budget: float | None = None) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    days = sorted(summary["by_day"]) or ["(none)"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    totals = [summary["by_day"].get(d, 0.0) for d in days]
    ax1.bar(days, totals, color="#4c78a8", label="all providers")
    ax1.set_title("Daily spend (USD)")
    ax1.tick_params(axis="x", rotation=45)
    cum, acc = [], 0.0
    for t in totals:
        acc += t
        cum.append(acc)
    ax2.plot(days, cum, marker="o", label="cumulative spend")
    if budget:
        ax2.axhline(budget, color="#d62728", linestyle="--", label=f"budget ${budget:,.0f}")
    ax2.set_title("Cumulative spend against the budget")
    ax2.legend()
    ax2.tick_params(axis="x", rotation=45)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out

"""Spend plots (matplotlib, no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def plot_spend(summary: dict[str, Any], out: Path, *, budget: float | None = None) -> Path:
    """Left: daily spend stacked by provider. Right: cumulative spend against the budget."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    per_day: dict[str, dict[str, float]] = summary.get("by_day_provider", {})
    days = sorted(per_day) or ["(no spend)"]
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
    if budget:
        ax2.axhline(budget, color="#d62728", linestyle="--", label=f"budget ${budget:,.2f}")
    ax2.set_title("Cumulative spend against the budget (USD)")
    ax2.legend()
    ax2.tick_params(axis="x", rotation=45)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out

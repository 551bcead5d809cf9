"""The calibration history as a plot (matplotlib, no display needed): one panel per metric group, one point
per calibration run, a red ring where the run flagged the metric."""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: panels: title and the metric names (or a prefix ending in '.') each one draws
PANELS = (
    ("cost per still and clip (USD)", ("still.cost_usd", "clip.cost_usd")),
    ("latency, acceptance to result (s)", ("still.latency_s", "clip.latency_s")),
    ("refusals and rejects (count)", ("refused", "still.rejected", "clip.rejected")),
    ("gate scores (median over prompts)", ("gate.",)),
    ("clip-check scores and first frame", ("qc.", "first_frame")),
)


def _wanted(metric: str, names: tuple[str, ...]) -> bool:
    return any(metric == n or (n.endswith(".") and metric.startswith(n)) for n in names)


def plot_calibrations(history: list[dict[str, Any]], out: Path) -> Path:
    """``history``: per run, oldest first, ``{"calibration": id, "metrics": [Drift JSON]}`` (its report)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [str(h["calibration"])[:6] for h in history]
    fig, axes = plt.subplots(len(PANELS), 1, figsize=(9, 2.6 * len(PANELS)), sharex=True)
    for ax, (title, names) in zip(axes, PANELS, strict=True):
        metrics = sorted({m["metric"] for h in history for m in h["metrics"] if _wanted(m["metric"], names)})
        for metric in metrics:
            xs, ys, fx, fy = [], [], [], []
            for i, h in enumerate(history):
                got = next((m for m in h["metrics"] if m["metric"] == metric), None)
                if got is None or got["now"] is None:
                    continue
                xs.append(i)
                ys.append(got["now"])
                if got["flagged"]:
                    fx.append(i)
                    fy.append(got["now"])
            ax.plot(xs, ys, marker="o", label=metric)
            if fx:
                ax.scatter(fx, fy, s=140, facecolors="none", edgecolors="#d62728", linewidths=2)
        ax.set_title(title, fontsize=10)
        if metrics:
            ax.legend(fontsize=7, loc="upper left", ncol=3)
    axes[-1].set_xticks(range(len(labels)), labels, rotation=45)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out

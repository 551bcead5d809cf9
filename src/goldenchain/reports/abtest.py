"""An A/B test's plot (matplotlib, no display): each variant's acceptance rate with its Wilson interval, as a PNG
beside the test's JSON report under ``out/abtests/`` and on the test's page in the review app."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any


def _figure(rep: dict[str, Any]) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    vs = rep["variants"]
    names = [v["name"] for v in vs]
    rates = [v["rate"] or 0.0 for v in vs]
    lows = [max(0.0, r - v["low"]) for r, v in zip(rates, vs, strict=True)]
    highs = [max(0.0, v["high"] - r) for r, v in zip(rates, vs, strict=True)]
    fig, ax = plt.subplots(figsize=(max(4.0, 1.4 * len(vs) + 2), 3.6))
    colours = ["#2ca02c" if n == rep.get("winner") else "#1f77b4" for n in names]
    ax.bar(names, rates, color=colours, alpha=0.8)
    ax.errorbar(names, rates, yerr=[lows, highs], fmt="none", ecolor="black", capsize=6)
    ax.set_xticks(range(len(vs)), [f"{v['name']}\n{v['accepted']} of {v['takes']} accepted" for v in vs])
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("acceptance rate")
    conf = round((1 - float(rep["alpha"])) * 100)
    ax.set_title(f"A/B test {rep['name']}: accepted clips, {conf} % Wilson interval")
    fig.tight_layout()
    return fig


def plot_png(rep: dict[str, Any]) -> bytes:
    """The plot as PNG bytes (for the review app's page)."""
    import matplotlib.pyplot as plt

    fig = _figure(rep)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return buf.getvalue()


def write_report(rep: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    """``NAME.png`` (the plot) and ``NAME.json`` (the report) in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    png, path = out_dir / f"{rep['name']}.png", out_dir / f"{rep['name']}.json"
    png.write_bytes(plot_png(rep))
    path.write_text(json.dumps(rep, indent=2) + "\n", encoding="utf-8")
    return png, path

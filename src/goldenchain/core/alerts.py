"""The guide's expected bands, checked on the ledger's figures: a figure outside its band is an alert (``run``
and ``costs`` print it, ``costs --check`` exits 1 on it, a webhook may get it)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["DEFAULT_BANDS", "Alert", "check_bands", "figures"]

#: name -> (low, high); None on a side means unbounded there. What the guide expects of a healthy project.
DEFAULT_BANDS: dict[str, tuple[float | None, float | None]] = {
    "stills_usd_per_day": (None, 2.0),  # the guide: under $2 a day for 50 images
    "waste_share": (None, 0.35),  # more than a third of the spend on rejected takes: look at the prompts
    # kling_units_per_clip: from the catalog's price of the configured model (x0.9 .. x1.5), see bands_for()
}

_WHAT = {
    "kling_units_per_clip": ("Kling units per accepted 5 s clip", "{:.1f}"),
    "stills_usd_per_day": ("dollars a day on stills (busiest day)", "${:.2f}"),
    "waste_share": ("share of spend on rejected or failed takes", "{:.0%}"),
    "cost_per_accepted_clip": ("cost per accepted clip", "${:.2f}"),
    "fee_share": ("infrastructure cost as a share of the client's fee", "{:.0%}"),
}


@dataclass(frozen=True)
class Alert:
    name: str
    value: float
    low: float | None
    high: float | None

    @property
    def message(self) -> str:
        what, fmt = _WHAT.get(self.name, (self.name, "{:g}"))
        band = " .. ".join("…" if x is None else fmt.format(x) for x in (self.low, self.high))
        side = "above" if self.high is not None and self.value > self.high else "below"
        return f"{what} is {fmt.format(self.value)}, {side} its band {band}"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "low": self.low,
            "high": self.high,
            "message": self.message,
        }


def figures(
    summary: Mapping[str, Any], *, still_providers: set[str], fee_usd: float | None
) -> dict[str, float]:
    """The banded figures from a cost summary (``reports.costs.summarize`` with takes)."""
    out: dict[str, float] = {}
    clips = int(summary.get("accepted_clips") or 0)
    kling_units = float(summary.get("credits", {}).get("kling") or 0.0)
    if clips and kling_units:
        out["kling_units_per_clip"] = kling_units / clips
    per_day = summary.get("by_day_provider", {})
    still_days = [sum(v for p, v in provs.items() if p in still_providers) for provs in per_day.values()]
    if still_days:
        out["stills_usd_per_day"] = max(still_days)
    if summary.get("total_usd"):
        out["waste_share"] = float(summary.get("waste_share") or 0.0)
    if summary.get("cost_per_accepted_clip") is not None:
        out["cost_per_accepted_clip"] = float(summary["cost_per_accepted_clip"])
    if fee_usd:
        out["fee_share"] = float(summary.get("total_usd") or 0.0) / fee_usd
    return out


def check_bands(
    values: Mapping[str, float], bands: Mapping[str, tuple[float | None, float | None]]
) -> list[Alert]:
    alerts = []
    for name, (low, high) in bands.items():
        if name not in values:
            continue
        v = values[name]
        if (low is not None and v < low - 1e-9) or (high is not None and v > high + 1e-9):
            alerts.append(Alert(name, round(v, 4), low, high))
    return alerts

"""A project's alerts and its money against the client's fee, from a cost summary and the ledger."""

from __future__ import annotations

from typing import Any

from goldenchain.config import Project
from goldenchain.core.alerts import Alert, check_bands, figures

__all__ = ["bands_for", "fee_view", "plan_usd_per_month", "project_alerts", "send_alerts"]


def bands_for(p: Project) -> dict[str, tuple[float | None, float | None]]:
    """The project's bands; Kling units per clip default to the catalog's price of the configured model."""
    a = p.config.alerts
    bands: dict[str, tuple[float | None, float | None]] = {
        "stills_usd_per_day": a.stills_usd_per_day,
        "waste_share": a.waste_share,
        "fee_share": a.fee_share,
    }
    if a.cost_per_accepted_clip is not None:
        bands["cost_per_accepted_clip"] = a.cost_per_accepted_clip
    if a.kling_units_per_clip is not None:
        bands["kling_units_per_clip"] = a.kling_units_per_clip
    elif p.config.video.provider == "kling":
        try:
            from goldenchain.core.models import active_catalog

            spec = active_catalog().require("kling", p.config.video.model, p.config.video.kind)
            units = spec.clip_price(p.config.video.mode, 5, p.config.prices).credits
        except Exception:  # a model the catalog cannot price has no default band
            units = None
        if units:
            bands["kling_units_per_clip"] = (round(units * 0.9, 3), round(units * 1.5, 3))
    return bands


def project_alerts(p: Project, summary: dict[str, Any]) -> list[Alert]:
    values = figures(summary, still_providers={p.config.stills.provider}, fee_usd=p.config.project.fee_usd)
    return check_bands(values, bands_for(p))


def send_alerts(p: Project, alerts: list[Alert]) -> str | None:
    """Post the alerts to the project's webhook when it has one; a one-line reason when that failed."""
    url = p.settings.get("GOLDENCHAIN_ALERT_WEBHOOK")
    if not alerts or not url:
        return None
    from goldenchain.providers.notify import post_alert

    text = f"goldenchain {p.id}: " + "; ".join(a.message for a in alerts)
    return post_alert(url, text)


def fee_view(p: Project, summary: dict[str, Any], delivered_seconds: float) -> dict[str, Any]:
    """Cost against the client's fee and the plan's price, and per delivered second."""
    total = float(summary.get("total_usd") or 0.0)
    fee = p.config.project.fee_usd
    price = plan_usd_per_month(p.config.plan)
    out: dict[str, Any] = {
        "fee_usd": fee,
        "cost_share_of_fee": round(total / fee, 4) if fee else None,
        "delivered_seconds": round(delivered_seconds, 3),
        "usd_per_delivered_second": round(total / delivered_seconds, 4) if delivered_seconds else None,
    }
    if price is not None:
        month = max(summary.get("by_day", {}) or {"": 0}, default="")[:7]
        spent = (
            sum(v for d, v in (summary.get("by_day") or {}).items() if d.startswith(month)) if month else 0.0
        )
        out.update({"plan_usd_per_month": price, "month": month, "month_usd": round(spent, 4)})
    return out


def plan_usd_per_month(plan: Any) -> float | None:
    """What the project file's plan costs a month: its Kling credits at its price per credit (None: no plan)."""
    monthly = plan.monthly_credits()
    return round(monthly * plan.kling_usd_per_credit, 2) if monthly else None

"""Prices: every model's price rule lives in its :class:`~goldenchain.core.models.ModelSpec`; these helpers
look a model up in the active catalog and price a still or a clip, with the project's ``[prices]`` overrides.
Also the Kling account tiers. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from goldenchain.core.models import (
    Catalog,
    ModelSpec,
    Price,
    UnknownPrice,
    active_catalog,
    megapixels,
)

__all__ = [
    "CATALOG_VERSION",
    "KLING_TIERS",
    "KLING_USD_PER_UNIT",
    "CatalogEntry",
    "KlingTier",
    "Price",
    "UnknownPrice",
    "actual_usd",
    "catalog",
    "clip_price",
    "megapixels",
    "resolve_tier",
    "still_price",
]

CATALOG_VERSION = "2026-11-01"
#: what a Kling unit costs on prepaid video packs (the built-in tier below)
KLING_USD_PER_UNIT = 0.14


@dataclass(frozen=True)
class KlingTier:
    """A Kling account plan: credits granted per month, whether tasks get priority, what a credit costs."""

    name: str
    monthly_credits: float | None  # None: a prepaid pack, used until empty
    priority: bool
    usd_per_credit: float
    source: str
    date: str


#: Built-in tiers. Only what a source states is listed; a studio adds its own subscription in
#: goldenchain.toml ([plan.tiers.NAME]) and selects it with [plan] kling_tier.
KLING_TIERS: dict[str, KlingTier] = {
    "prepaid-video-pack": KlingTier(
        "prepaid-video-pack",
        None,
        False,
        KLING_USD_PER_UNIT,
        "Kling pricing transcription (inference-sh/grid api/klingai/pricing.md): prepaid video packs, 1 unit = $0.14",
        CATALOG_VERSION,
    ),
}


def resolve_tier(name: str | None, custom: dict[str, dict[str, float | bool | None]]) -> KlingTier | None:
    """The tier named in [plan], from the project's own [plan.tiers] first, then the built-ins."""
    if name is None:
        return None
    if name in custom:
        t = custom[name]
        mc = t.get("monthly_credits")
        return KlingTier(
            name,
            float(mc) if mc is not None else None,
            bool(t.get("priority", False)),
            float(t.get("usd_per_credit") or KLING_USD_PER_UNIT),
            "goldenchain.toml [plan.tiers]",
            "project",
        )
    return KLING_TIERS.get(name)


@dataclass(frozen=True)
class CatalogEntry:
    key: str  # the override key in goldenchain.toml [prices]
    usd: float
    unit: str
    source: str
    date: str


def catalog(models: Catalog | None = None) -> list[CatalogEntry]:
    """Every model's price, one entry per model (``route:model``; Kling's per (mode, duration) as well)."""
    out: list[CatalogEntry] = []
    seen: set[str] = set()
    for spec in models if models is not None else active_catalog():
        if spec.key in seen:  # Kling's text-to-video bills like its image-to-video
            continue
        seen.add(spec.key)
        rule = spec.price
        out.append(CatalogEntry(spec.key, rule.usd, rule.short().split("/", 1)[1], rule.source, rule.date))
        for mode, dur, units in rule.units:
            usd = round(units * rule.usd, 6)
            key = f"{spec.key}:{mode}:{dur}"
            out.append(CatalogEntry(key, usd, f"clip ({units:g} units)", rule.source, rule.date))
    return out


def _spec(provider: str, model: str, kinds: tuple[str, ...], models: Catalog | None) -> ModelSpec:
    cat = models if models is not None else active_catalog()
    for kind in kinds:
        spec = cat.get(provider, model, kind)
        if spec is not None:
            return spec
    raise UnknownPrice(f"no price for {provider}:{model}: no model spec is registered for it")


def still_price(
    provider: str,
    model: str,
    width: int,
    height: int,
    overrides: Mapping[str, float] | None = None,
    models: Catalog | None = None,
) -> Price:
    return _spec(provider, model, ("t2i",), models).still_price(width, height, overrides)


def clip_price(
    provider: str,
    model: str,
    mode: str,
    duration: int,
    overrides: Mapping[str, float] | None = None,
    models: Catalog | None = None,
) -> Price:
    return _spec(provider, model, ("i2v", "t2v"), models).clip_price(mode, duration, overrides)


def actual_usd(
    provider: str,
    billed_units: float | None,
    unit: str | None,
    estimate: float,
    model: str | None = None,
    overrides: Mapping[str, float] | None = None,
) -> tuple[float, float | None]:
    """Dollars (and credits) from what the provider says it billed, read with the model's price rule; the
    estimate when it says nothing or the model has no spec."""
    spec = None
    if model is not None:
        cat = active_catalog()
        spec = next((s for k in ("t2i", "i2v", "t2v") if (s := cat.get(provider, model, k))), None)
    if spec is not None:
        return spec.actual_usd(billed_units, unit, estimate, overrides)
    if billed_units is not None and unit == "credits" and provider == "kling":
        return round(billed_units * KLING_USD_PER_UNIT, 6), billed_units
    return estimate, None

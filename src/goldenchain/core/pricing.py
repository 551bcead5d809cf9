"""Price catalog (versioned data, each price with its source and date) and pure cost estimates."""

from __future__ import annotations

from dataclasses import dataclass

CATALOG_VERSION = "2026-11-01"

#: Kling official API: units per task by model -> mode -> duration. 1 unit = $0.14 on prepaid video packs.
#: Source: providers.md §1.10 (inference-sh/grid api/klingai/pricing.md transcription), read 2026-11.
KLING_USD_PER_UNIT = 0.14
KLING_UNITS: dict[str, dict[str, dict[int, float]]] = {
    "kling-v1": {"std": {5: 1, 10: 2}, "pro": {5: 3.5, 10: 7}},
    "kling-v1-5": {"std": {5: 2, 10: 4}, "pro": {5: 3.5, 10: 7}},
    "kling-v1-6": {"std": {5: 2, 10: 4}, "pro": {5: 3.5, 10: 7}},
    "kling-v2-1": {"std": {5: 2, 10: 4}, "pro": {5: 3.5, 10: 7}},
    "kling-v2-5-turbo": {"std": {5: 1.5, 10: 3}, "pro": {5: 2.5, 10: 5}},
    "kling-v2-6": {"std": {5: 1.5, 10: 3}, "pro": {5: 2.5, 10: 5}},
    "kling-v2-master": {"std": {5: 10, 10: 20}, "pro": {5: 10, 10: 20}},
    "kling-v2-1-master": {"std": {5: 10, 10: 20}, "pro": {5: 10, 10: 20}},
}

#: fal FLUX: dollars per megapixel (dev, schnell: official llms.txt pages) or per image (pro v1.1: third-party list).
FAL_USD_PER_MP = {"fal-ai/flux/dev": 0.025, "fal-ai/flux/schnell": 0.003}
FAL_USD_PER_IMAGE = {"fal-ai/flux-pro/v1.1": 0.04}


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


SOURCE_KLING = (
    "Kling pricing transcription (inference-sh/grid api/klingai/pricing.md); 1 unit = $0.14 prepaid"
)
SOURCE_FAL = "fal model pages (llms.txt), per megapixel, rounded up"
SOURCE_FAL_PRO = "third-party fal price list"


def catalog() -> list[CatalogEntry]:
    """Every built-in price with its source and the date it was read (``CATALOG_VERSION``)."""
    out: list[CatalogEntry] = []
    for model, modes in KLING_UNITS.items():
        for mode, durs in modes.items():
            for dur, units in durs.items():
                out.append(
                    CatalogEntry(
                        f"kling:{model}:{mode}:{dur}",
                        round(units * KLING_USD_PER_UNIT, 6),
                        f"clip ({units:g} units)",
                        SOURCE_KLING,
                        CATALOG_VERSION,
                    )
                )
    for model, usd in FAL_USD_PER_MP.items():
        out.append(CatalogEntry(f"fal:{model}", usd, "megapixel", SOURCE_FAL, CATALOG_VERSION))
    for model, usd in FAL_USD_PER_IMAGE.items():
        out.append(CatalogEntry(f"fal:{model}", usd, "image", SOURCE_FAL_PRO, CATALOG_VERSION))
    return out


@dataclass(frozen=True)
class Price:
    usd: float
    credits: float | None = None
    basis: str = ""


class UnknownPrice(KeyError):
    pass


def megapixels(width: int, height: int) -> float:
    # fal rounds up to whole megapixels for billing of FLUX dev/schnell
    import math

    return float(max(1, math.ceil(width * height / 1_000_000)))


def still_price(
    provider: str, model: str, width: int, height: int, overrides: dict[str, float] | None = None
) -> Price:
    key = f"{provider}:{model}"
    if overrides and key in overrides:
        return Price(overrides[key], None, "override")
    if provider == "fal":
        if model in FAL_USD_PER_MP:
            mp = megapixels(width, height)
            return Price(
                round(FAL_USD_PER_MP[model] * mp, 6), None, f"{mp:g} MP x ${FAL_USD_PER_MP[model]}/MP"
            )
        if model in FAL_USD_PER_IMAGE:
            return Price(FAL_USD_PER_IMAGE[model], None, "per image")
    raise UnknownPrice(f"no price for still model {key}")


def clip_price(
    provider: str, model: str, mode: str, duration: int, overrides: dict[str, float] | None = None
) -> Price:
    key = f"{provider}:{model}:{mode}:{duration}"
    if overrides and key in overrides:
        return Price(overrides[key], None, "override")
    if provider == "kling":
        try:
            units = KLING_UNITS[model][mode][duration]
        except KeyError:
            raise UnknownPrice(f"no price for {model} {mode} {duration}s") from None
        return Price(round(units * KLING_USD_PER_UNIT, 6), units, f"{units:g} units x ${KLING_USD_PER_UNIT}")
    raise UnknownPrice(f"no price for clip model {key}")


def actual_usd(
    provider: str, billed_units: float | None, unit: str | None, estimate: float
) -> tuple[float, float | None]:
    """Dollars (and credits) from what the provider says it billed; the estimate when it says nothing."""
    if billed_units is None:
        return estimate, None
    if unit == "credits" and provider == "kling":
        return round(billed_units * KLING_USD_PER_UNIT, 6), billed_units
    return estimate, None

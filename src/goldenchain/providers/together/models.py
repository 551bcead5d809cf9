"""Together's FLUX models (providers.md §4.1; field-2026.md), priced per megapixel."""

from __future__ import annotations

from goldenchain.core.models import ModelSpec, PriceRule

__all__ = ["SPECS"]

PRICE_DATE = "2026-11-01"
SRC = "community: Together FLUX prices per megapixel (field-2026.md)"
SRC_BFL = "assumed: Black Forest Labs' per-image price at about one megapixel; Together's own figure not in our sources"


def _flux(model: str, label: str, usd_per_mp: float, steps: int | None, source: str = SRC) -> ModelSpec:
    return ModelSpec(
        route="together",
        model=f"black-forest-labs/{model}",
        kind="t2i",
        price=PriceRule("megapixel", usd_per_mp, source, PRICE_DATE),
        label=label,
        min_side=64,
        max_side=2048,
        multiple_of=16,  # (uncertain)
        prompt_max=2000,
        params=("seed",),
        wire=(("body", (("steps", steps),) if steps is not None else ()),),
    )


SPECS: tuple[ModelSpec, ...] = (
    _flux("FLUX.1-schnell", "FLUX.1 schnell", 0.003, 4),
    _flux("FLUX.1-dev", "FLUX.1 dev", 0.025, 28),
    _flux("FLUX.1.1-pro", "FLUX1.1 pro", 0.04, None, SRC_BFL),
    _flux("FLUX.1-kontext-pro", "FLUX.1 Kontext pro", 0.04, None, SRC_BFL),
    _flux("FLUX.1-kontext-max", "FLUX.1 Kontext max", 0.08, None, SRC_BFL),
)

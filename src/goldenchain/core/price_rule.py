"""A price rule: how a model is billed, with its source and date. Pure data; :mod:`goldenchain.core.models`
attaches one to each :class:`~goldenchain.core.models.ModelSpec` and re-exports these names."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from goldenchain.errors import UsageError

__all__ = ["BILLED_UNIT", "GPU_RATE_KEY", "Basis", "Price", "PriceRule", "UnknownPrice", "megapixels"]

Basis = Literal["image", "megapixel", "second", "compute_second", "clip", "gpu_hour"]

#: the unit an adapter reports in ``Succeeded.unit`` for each price basis
BILLED_UNIT: dict[str, str] = {
    "image": "images",
    "megapixel": "megapixels",
    "second": "seconds",
    "compute_second": "compute_seconds",
    "clip": "credits",
    "gpu_hour": "gpu_seconds",
}
#: the ``[prices]`` key that sets the rate of every model billed by the GPU-hour (local routes)
GPU_RATE_KEY = "gpu_usd_per_hour"


class UnknownPrice(UsageError, KeyError):
    """No price for a model (or one of its mode/duration pairs). A usage error: the CLI exits 2."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "no price"


@dataclass(frozen=True)
class Price:
    usd: float
    credits: float | None = None
    basis: str = ""


def megapixels(width: int, height: int) -> float:
    """Whole megapixels, rounded up (fal bills FLUX dev/schnell that way)."""
    return float(max(1, math.ceil(width * height / 1_000_000)))


@dataclass(frozen=True)
class PriceRule:
    """How a model is billed. ``usd`` is per image, per megapixel, per output second, per second of compute
    (Replicate's ``metrics.predict_time``), per hour of a GPU of ours (local routes: the take's measured
    seconds) or, for ``clip``, per unit with ``units`` per (mode, duration)."""

    basis: Basis
    usd: float
    source: str
    date: str
    units: tuple[tuple[str, int, float], ...] = ()
    #: megapixel prices: bill whole megapixels, rounded up (fal)
    round_up: bool = False
    #: compute_second and gpu_hour prices: the seconds one output is expected to take (for the estimate)
    expected_seconds: float = 0.0

    def unit_count(self, mode: str, duration: int) -> float | None:
        for m, d, u in self.units:
            if m == mode and d == duration:
                return u
        return None

    def short(self) -> str:
        """``$0.025/MP``, ``$0.098/s``, ``$0.14/unit``: fits a narrow column."""
        per = {"image": "img", "megapixel": "MP", "second": "s", "compute_second": "cpu-s", "clip": "unit"}
        per["gpu_hour"] = "GPU-h"
        return f"${self.usd:g}/{per[self.basis]}"

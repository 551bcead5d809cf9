"""Pure money arithmetic: burn rate, days of credit left, API-vs-GPU break-even, reconciliation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any


def burn_rate(by_day: dict[str, float], today: date, window_days: int = 7) -> float:
    """Average spend per day over the last ``window_days`` days (today included)."""
    if window_days < 1:
        raise ValueError("window_days must be >= 1")
    start = today - timedelta(days=window_days - 1)
    total = sum(v for d, v in by_day.items() if start <= date.fromisoformat(d) <= today)
    return total / window_days


def days_left(remaining: float, per_day: float) -> float | None:
    """Days until ``remaining`` runs out at ``per_day``; None when nothing is being spent."""
    if per_day <= 0:
        return None
    return max(0.0, remaining) / per_day


def cycle_start(today: date, start_day: int) -> date:
    if today.day >= start_day:
        return today.replace(day=start_day)
    prev = today.replace(day=1) - timedelta(days=1)
    return prev.replace(day=start_day)


@dataclass(frozen=True)
class Breakeven:
    api_usd_per_image: float
    gpu_usd_per_hour: float
    gpu_images_per_hour: float
    gpu_usd_per_image: float
    #: images per hour the GPU must actually be kept busy with to beat the API
    breakeven_images_per_hour: float
    cheaper: str

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def breakeven(api_usd_per_image: float, gpu_usd_per_hour: float, gpu_images_per_hour: float) -> Breakeven:
    """The guide's reasoning: a rented GPU costs by the hour whether busy or not; the API costs per image."""
    if api_usd_per_image <= 0 or gpu_usd_per_hour <= 0 or gpu_images_per_hour <= 0:
        raise ValueError("prices and throughput must be positive")
    per_image = gpu_usd_per_hour / gpu_images_per_hour
    be = gpu_usd_per_hour / api_usd_per_image
    return Breakeven(
        api_usd_per_image,
        gpu_usd_per_hour,
        gpu_images_per_hour,
        per_image,
        be,
        "gpu" if per_image < api_usd_per_image else "api",
    )


def still_volume(stills: list[tuple[Any, float]]) -> dict[str, Any]:
    """From (made at, cost) pairs of paid stills: the real price per still, the busy hours (hours with at
    least one still) and the busiest hour's count."""
    made = [(at, cost) for at, cost in stills if at is not None]
    if not made:
        return {}
    per_hour: dict[str, int] = {}
    for at, _ in made:
        key = at.strftime("%Y-%m-%d %H")
        per_hour[key] = per_hour.get(key, 0) + 1
    return {
        "stills": len(made),
        "usd_per_image": sum(c for _, c in made) / len(made),
        "active_hours": len(per_hour),
        "busiest_hour_images": max(per_hour.values()),
        "images_per_active_hour": round(len(made) / len(per_hour), 2),
    }


def local_speed(takes: list[tuple[float, float]]) -> dict[str, Any]:
    """From (GPU seconds, cost) pairs of stills made on a GPU of ours: its real speed and price per still."""
    made = [(s, c) for s, c in takes if s > 0]
    if not made:
        return {}
    secs = sum(s for s, _ in made) / len(made)
    return {
        "stills": len(made),
        "gpu_seconds_per_image": round(secs, 3),
        "images_per_hour": round(3600 / secs, 2),
        "usd_per_image": round(sum(c for _, c in made) / len(made), 6),
    }


@dataclass(frozen=True)
class Difference:
    task_id: str
    kind: str  # missing_in_ledger | missing_in_provider | amount_mismatch
    ledger: float | None
    provider: float | None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def reconcile(
    ledger: dict[str, float], provider: dict[str, float], tolerance: float = 1e-6
) -> list[Difference]:
    """Compare per-task amounts (same unit on both sides) from our ledger and a provider's export."""
    out: list[Difference] = []
    for tid in sorted(set(ledger) | set(provider)):
        a, b = ledger.get(tid), provider.get(tid)
        if a is None:
            out.append(Difference(tid, "missing_in_ledger", None, b))
        elif b is None:
            out.append(Difference(tid, "missing_in_provider", a, None))
        elif abs(a - b) > tolerance:
            out.append(Difference(tid, "amount_mismatch", a, b))
    return out

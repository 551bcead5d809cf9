"""What a finished Replicate prediction was billed, in the unit its model's price is in."""

from __future__ import annotations

from typing import Any

from goldenchain.core.models import active_catalog
from goldenchain.providers.base import Submitted
from goldenchain.providers.replicate.api import predict_time

__all__ = ["billed_by"]


def billed_by(
    prediction: dict[str, Any], route: str, submitted: Submitted, outputs: float | None, unit: str
) -> tuple[float | None, str]:
    """``metrics.predict_time`` in ``compute_seconds`` when the model is priced per second of compute;
    otherwise ``outputs`` in ``unit`` (images, output seconds)."""
    model = submitted.handle.get("model")
    spec = active_catalog().get(route, model) if isinstance(model, str) else None
    if spec is not None and spec.price.basis == "compute_second":
        return predict_time(prediction), "compute_seconds"
    return outputs, unit

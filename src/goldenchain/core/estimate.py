"""Pure cost estimate of a planned run."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from goldenchain.core.models import Catalog, active_catalog
from goldenchain.core.pricing import CATALOG_VERSION


def estimate_project(cfg: Any, shots: list[Any], catalog: Catalog | None = None) -> dict[str, Any]:
    """Expected and worst-case cost per shot, from the stills and video models' specs. A model without a
    spec raises :class:`~goldenchain.core.models.UnknownModel` (a usage error: exit 2)."""
    st, v = cfg.stills, cfg.video
    models = catalog if catalog is not None else active_catalog()
    still_spec = models.require(st.provider, st.model, "t2i")
    clip_spec = models.require(v.provider, v.model, "i2v")
    by_shot: dict[str, float] = {}
    by_provider: dict[str, float] = defaultdict(float)
    rows: dict[str, dict[str, float]] = {}
    worst = 0.0
    for s in shots:
        sp = still_spec.still_price(st.width, st.height, cfg.prices).usd
        cp = clip_spec.clip_price(v.mode, s.duration, cfg.prices).usd
        expected = sp + cp
        wc = sp * st.max_takes + cp * v.max_takes
        rows[s.id] = {
            "still_usd": sp,
            "clip_usd": cp,
            "expected_usd": round(expected, 4),
            "worst_case_usd": round(wc, 4),
        }
        by_shot[s.id] = round(expected, 4)
        by_provider[st.provider] += sp
        by_provider[v.provider] += cp
        worst += wc
    return {
        "total_usd": round(sum(by_shot.values()), 4),
        "worst_case_usd": round(worst, 4),
        "by_shot": by_shot,
        "by_provider": {k: round(x, 4) for k, x in by_provider.items()},
        "shots": rows,
        "price_catalog": CATALOG_VERSION,
    }

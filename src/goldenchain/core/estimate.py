"""Pure cost estimate of a planned run."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from goldenchain.core.pricing import CATALOG_VERSION, clip_price, still_price


def estimate_project(cfg: Any, shots: list[Any]) -> dict[str, Any]:
    st, v = cfg.stills, cfg.video
    by_shot: dict[str, float] = {}
    by_provider: dict[str, float] = defaultdict(float)
    rows: dict[str, dict[str, float]] = {}
    worst = 0.0
    for s in shots:
        sp = still_price(st.provider, st.model, st.width, st.height, cfg.prices).usd
        cp = clip_price(v.provider, v.model, v.mode, s.duration, cfg.prices).usd
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

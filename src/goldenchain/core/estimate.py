"""Pure cost estimate of a planned run."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from goldenchain.core.models import Catalog, active_catalog
from goldenchain.core.pricing import CATALOG_VERSION


def estimate_project(cfg: Any, shots: list[Any], catalog: Catalog | None = None) -> dict[str, Any]:
    """Expected and worst-case cost per shot, from the stills and video models' specs; apart, what a draft run
    would cost (``draft_usd``: the draft model times ``[stills] draft_takes``; None where the route has no
    draft model). A model without a spec raises :class:`~goldenchain.core.models.UnknownModel` (exit 2)."""
    st, v = cfg.stills, cfg.video
    models = catalog if catalog is not None else active_catalog()
    dp = _draft_price(cfg, models)
    stills = _makes_stills(cfg)
    still_spec = models.require(st.provider, st.model, "t2i") if stills else None
    clip_spec = models.require(v.provider, v.model, _video_kind(cfg))
    by_shot: dict[str, float] = {}
    by_provider: dict[str, float] = defaultdict(float)
    rows: dict[str, dict[str, float | None]] = {}
    worst = 0.0
    for s in shots:
        sp = still_spec.still_price(st.width, st.height, cfg.prices).usd if still_spec else 0.0
        cp = clip_spec.clip_price(v.mode, s.duration, cfg.prices).usd
        expected = sp + cp
        wc = sp * st.max_takes + cp * v.max_takes
        rows[s.id] = {
            "still_usd": sp,
            "clip_usd": cp,
            "expected_usd": round(expected, 4),
            "worst_case_usd": round(wc, 4),
            "draft_usd": None if dp is None else round(dp * st.draft_takes, 4),
        }
        by_shot[s.id] = round(expected, 4)
        if still_spec:
            by_provider[st.provider] += sp
        by_provider[v.provider] += cp
        worst += wc
    return {
        "total_usd": round(sum(by_shot.values()), 4),
        "worst_case_usd": round(worst, 4),
        "draft_usd": _draft_total(rows),
        "by_shot": by_shot,
        "by_provider": {k: round(x, 4) for k, x in by_provider.items()},
        "shots": rows,
        "price_catalog": CATALOG_VERSION,
    }


def _draft_price(cfg: Any, models: Catalog) -> float | None:
    """What one draft costs (None: a text-to-video project, or a route without a draft model)."""
    if not _makes_stills(cfg):
        return None
    st = cfg.stills
    spec = models.draft_spec(st.provider, st.draft_model)
    return None if spec is None else spec.still_price(st.width, st.height, cfg.prices).usd


def _draft_total(rows: Mapping[str, Mapping[str, Any]]) -> float | None:
    drafts = [r["draft_usd"] for r in rows.values() if r["draft_usd"] is not None]
    return round(sum(drafts), 4) if drafts or not rows else None


def _makes_stills(cfg: Any) -> bool:
    """Whether the project's clips start from stills (text-to-video makes none)."""
    return bool(cfg.video.source == "still")


def _video_kind(cfg: Any) -> str:
    return str(cfg.video.kind)


@dataclass(frozen=True)
class ShotProgress:
    """What the ledger says a shot has already: the estimate of what is left starts from it."""

    status: str = "pending"
    still_ready: bool = False  # a still passed (or a person chose one): no still left to pay for
    clip_ready: bool = False  # a clip is in the cut
    in_flight: tuple[str, ...] = ()  # stages with a paid task out now (its cost is reserved already)
    stills_used: int = 0
    clips_used: int = 0
    drafts_used: int = 0
    extra_stills: int = 0
    extra_clips: int = 0


#: statuses a plain `goldenchain run` does not pay for again (a failed shot needs `goldenchain retry`)
_SETTLED = frozenset({"done", "failed"})


def estimate_remaining(
    cfg: Any,
    shots: list[Any],
    progress: Mapping[str, ShotProgress],
    *,
    used: Mapping[str, float] | None = None,
    max_cost: float | None = None,
    catalog: Catalog | None = None,
    drafts: bool = False,
) -> dict[str, Any]:
    """What the next run will cost: remaining work only (a done shot costs nothing, a still that passed is not
    paid for again), expected (one take per stage left) and worst case (every take left), in dollars and in
    provider credits, by shot and provider, against every budget that applies. ``draft_usd``, apart: what a
    draft run would pay for the drafts left. ``drafts``: the estimate is the draft run's (drafts only)."""
    st, v = cfg.stills, cfg.video
    models = catalog if catalog is not None else active_catalog()
    dp = _draft_price(cfg, models)
    stills = _makes_stills(cfg)
    still_spec = models.require(st.provider, st.model, "t2i") if stills else None
    clip_spec = models.require(v.provider, v.model, _video_kind(cfg))
    rows: dict[str, dict[str, Any]] = {}
    by_provider: dict[str, float] = defaultdict(float)
    credits: dict[str, float] = defaultdict(float)
    worst_credits: dict[str, float] = defaultdict(float)
    for s in shots:
        pr = progress.get(s.id, ShotProgress())
        sp_usd = still_spec.still_price(st.width, st.height, cfg.prices).usd if still_spec else 0.0
        cp = clip_spec.clip_price(v.mode, s.duration, cfg.prices)
        settled = (pr.status in _SETTLED and not (pr.extra_stills or pr.extra_clips)) or pr.clip_ready
        need_still = stills and not settled and not pr.still_ready and "still" not in pr.in_flight
        need_clip = not settled and not pr.clip_ready and "clip" not in pr.in_flight
        stills_left = max(0, st.max_takes + pr.extra_stills - pr.stills_used) if need_still else 0
        clips_left = max(0, v.max_takes + pr.extra_clips - pr.clips_used) if need_clip else 0
        need_still, need_clip = need_still and stills_left > 0, need_clip and clips_left > 0
        drafts_left = 0 if dp is None or pr.clip_ready else max(0, st.draft_takes - pr.drafts_used)
        draft_usd = None if dp is None else round(dp * drafts_left, 4)
        if drafts:  # a draft run pays for the drafts left and nothing else
            need_still = need_clip = False
            stills_left = clips_left = 0
        expected = (
            (sp_usd if need_still else 0.0) + (cp.usd if need_clip else 0.0) + (draft_usd or 0) * drafts
        )
        worst = sp_usd * stills_left + cp.usd * clips_left + (draft_usd or 0) * drafts
        needs = [x for x, n in (("still", need_still), ("clip", need_clip)) if n]
        rows[s.id] = {
            "status": pr.status,
            "needs": needs + ([f"{drafts_left} drafts"] if drafts and drafts_left else []),
            "still_usd": sp_usd,
            "clip_usd": cp.usd,
            "expected_usd": round(expected, 4),
            "worst_case_usd": round(worst, 4),
            "draft_usd": draft_usd,
        }
        if drafts and draft_usd:
            by_provider[st.provider] += draft_usd
        if need_still:
            by_provider[st.provider] += sp_usd
        if need_clip:
            by_provider[v.provider] += cp.usd
            if cp.credits:
                credits[v.provider] += cp.credits
        if cp.credits:
            worst_credits[v.provider] += cp.credits * clips_left
    total = round(sum(r["expected_usd"] for r in rows.values()), 4)
    worst_total = round(sum(r["worst_case_usd"] for r in rows.values()), 4)
    out: dict[str, Any] = {
        "total_usd": total,
        "worst_case_usd": worst_total,
        "draft_usd": _draft_total(rows),
        "by_shot": {k: r["expected_usd"] for k, r in rows.items()},
        "by_provider": {k: round(x, 4) for k, x in by_provider.items()},
        "credits": {k: round(x, 3) for k, x in credits.items()},
        "worst_case_credits": {k: round(x, 3) for k, x in worst_credits.items()},
        "shots": rows,
        "budgets": _budgets(cfg, used or {}, max_cost, total, worst_total),
        "price_catalog": CATALOG_VERSION,
    }
    return out


def _budgets(
    cfg: Any, used: Mapping[str, float], max_cost: float | None, expected: float, worst: float
) -> list[dict[str, Any]]:
    b = cfg.budget
    caps = [
        ("project", b.project_usd, used.get("project", 0.0)),
        ("client", b.client_usd, used.get("client", 0.0)),
        ("day", b.daily_usd, used.get("day", 0.0)),
        ("month", b.monthly_usd, used.get("month", 0.0)),
        ("--max-cost", max_cost, 0.0),
    ]
    out = []
    for name, limit, spent in caps:
        if limit is None:
            continue
        left = round(limit - spent, 4)
        out.append(
            {
                "cap": name,
                "limit_usd": limit,
                "used_usd": round(spent, 4),
                "left_usd": left,
                "expected_fits": expected <= left + 1e-9,
                "worst_case_fits": worst <= left + 1e-9,
            }
        )
    return out


def progress_of(shot_rows: list[Any], takes: list[Any]) -> dict[str, ShotProgress]:
    """Each shot's progress from the ledger's shot rows and takes (records with the ledger's fields)."""
    out: dict[str, ShotProgress] = {}
    for row in shot_rows:
        tk = [t for t in takes if t.shot_id == row.shot_id]

        def used(stage: str, tk: list[Any] = tk) -> int:
            return sum(
                1 for t in tk if t.stage == stage and t.state in ("downloaded", "failed", "needs_review")
            )

        flying = tuple(sorted({t.stage for t in tk if t.state in ("submitting", "submitted")}))
        out[row.shot_id] = ShotProgress(
            status=row.status,
            still_ready=row.still_take_id is not None,
            clip_ready=row.clip_take_id is not None and row.status == "done",
            in_flight=flying,
            stills_used=used("still"),
            clips_used=used("clip"),
            drafts_used=used("draft"),
            extra_stills=row.extra_still_takes,
            extra_clips=row.extra_clip_takes,
        )
    return out


def what_fits(remaining: dict[str, Any], left_usd: float) -> list[str]:
    """The shots (in list order) whose expected cost fits in ``left_usd``, one after another."""
    chosen, acc = [], 0.0
    for sid, row in remaining["shots"].items():
        cost = float(row["expected_usd"])
        if cost <= 0:
            continue
        if acc + cost <= left_usd + 1e-9:
            chosen.append(sid)
            acc += cost
    return chosen

"""What the review app's pages show, built from the ledger (no HTML here: the templates escape everything)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from goldenchain import api
from goldenchain.config import Project
from goldenchain.core.takes import Take
from goldenchain.errors import GoldenchainError
from goldenchain.reports.failures import REVIEW_REASONS
from goldenchain.store.ledger import Ledger

FILTERS = {
    "all": "all",
    "review": "needs review",
    "failed": "failed",
    "rejected": "rejected",
    "done": "done",
}
FAILED = ("failed", "stopped", "budget_blocked")


def take_view(t: Take, by_id: dict[int, Take]) -> dict[str, Any]:
    """A take as the API gives it, and what the page adds: the poster frame of a clip (the still it was made
    from) and a name that says which still (or, for a final still, which draft) that was."""
    parent = by_id.get(t.parent) if t.parent else None
    return {
        **t.to_json(),
        "poster": parent.artifact_sha256 if parent else None,
        "label": f"{t.stage} {t.take}" + (f" of {parent.stage} {parent.take}" if parent else ""),
    }


def _badge(shot: dict[str, Any]) -> str:
    takes = shot["takes"]
    if shot["status"] in FAILED:
        return "failed"
    if any(t["review"] == "rejected" for t in takes if t["in_cut"]) or shot["status"] == "needs_retake":
        return "rejected"
    if shot["status"] == "done" and any(t["in_cut"] and not t["review"] for t in takes):
        return "review"
    return shot["status"]


def shots_view(project: Project, ledger: Ledger, *, checks: bool = True) -> list[dict[str, Any]]:
    """Every shot with its takes (``checks=False``: without them, for the pages that only count)."""
    takes = api.takes(project, ledger=ledger)
    out = []
    for row in ledger.shots(project.id):
        st = [t for t in takes if t.shot == row.shot_id]
        by_id = {t.id: t for t in st}
        views = [take_view(t, by_id) for t in st] if checks else []
        shot = {
            "id": row.shot_id,
            "prompt": row.spec.get("prompt"),
            "video_prompt": row.spec.get("video_prompt"),
            "status": row.status,
            "stage": row.stage,
            "detail": row.detail,
            "still_take_id": row.still_take_id,
            "clip_take_id": row.clip_take_id,
            "takes": views,
        }
        poster = next((t for t in st if t.id == row.still_take_id), None) or next(
            (
                t
                for stage in ("still", "draft")
                for t in reversed(st)
                if t.stage == stage and t.artifact_sha256
            ),
            None,
        )
        shot["poster"] = poster.artifact_sha256 if poster else None
        shot["badge"] = _badge(shot)
        shot["any_rejected"] = any(t.review == "rejected" or t.verdict == "reject" for t in st)
        out.append(shot)
    return out


def matches(shot: dict[str, Any], flt: str) -> bool:
    if flt == "review":
        return bool(shot["badge"] == "review")
    if flt == "failed":
        return bool(shot["status"] in FAILED)
    if flt == "rejected":
        return bool(shot["any_rejected"] or shot["badge"] == "rejected")
    if flt == "done":
        return bool(shot["status"] == "done")
    return True


def header(project: Project, ledger: Ledger, shots: list[dict[str, Any]]) -> dict[str, Any]:
    costs = api.costs(project, ledger=ledger)
    budget = project.config.budget.project_usd
    return {
        "project": project.id,
        "client": project.config.project.client,
        "done": sum(1 for s in shots if s["status"] == "done"),
        "total": len(shots),
        "spent": costs["total_usd"],
        "reserved": costs["reserved_usd"],
        "budget": budget,
        "share": min(1.0, costs["total_usd"] / budget) if budget else None,
        "burn": costs["burn"].get("usd_per_day_7d"),
        "waste": costs.get("waste_usd"),
        "per_clip": costs.get("cost_per_accepted_clip"),
        "final": (project.out_dir / "final.mp4").is_file(),
        "report": (project.out_dir / "report.html").is_file(),
        "now": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "costs": costs,
    }


def reroll_costs(project: Project, shot_id: str) -> dict[str, float | None]:
    """What one more still (which needs a new clip too) and one more clip would cost, before the click."""
    from goldenchain.core.estimate import estimate_project

    try:
        est = estimate_project(project.config, [project.shot(shot_id)])["shots"][shot_id]
    except (GoldenchainError, KeyError, ValueError):
        return {"still": None, "clip": None}
    return {"still": round(est["still_usd"] + est["clip_usd"], 4), "clip": round(est["clip_usd"], 4)}


def history(ledger: Ledger, project: Project, shot_id: str | None = None) -> list[dict[str, Any]]:
    return [
        {
            "at": e.at.strftime("%Y-%m-%d %H:%M:%S") if e.at else "",
            "who": e.who,
            "action": e.action,
            "take_id": e.take_id,
            "shot": e.shot_id,
            "reason": e.reason,
            "note": e.note,
        }
        for e in ledger.review_events(project.id, shot_id)
    ]


def failures_view(ledger: Ledger, project: Project) -> list[dict[str, Any]]:
    return api.failures(project, ledger=ledger)


__all__ = [
    "FILTERS",
    "REVIEW_REASONS",
    "failures_view",
    "header",
    "history",
    "matches",
    "reroll_costs",
    "shots_view",
    "take_view",
]

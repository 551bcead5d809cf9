"""The failure archive: every take that failed, was rejected by a check, or was rejected by a person."""

from __future__ import annotations

from typing import Any

from goldenchain.store.takes import Take

#: the reasons a person may give for rejecting a take (the review app's list), beside free text
REVIEW_REASONS: dict[str, str] = {
    "warp": "warped or melting background, bent geometry",
    "anatomy": "hands, faces or bodies deformed",
    "motion": "motion wrong: too much, too little, unnatural",
    "camera": "camera move not as asked",
    "flicker": "flicker, temporal noise or frozen frames",
    "artifact": "compression, banding or other visible artefacts",
    "subject": "wrong subject, brand or likeness",
    "composition": "framing or composition",
    "lighting": "lighting or colour",
    "text": "unwanted text, watermark or logo",
    "other": "other (see note)",
}


def failure_rows(takes: list[Take], reason: str | None = None) -> list[dict[str, Any]]:
    """One row per failed or rejected take, oldest first; a person's rejection has reason class ``human``
    (its sub-reason and note in the message) and counts whatever the automatic checks said."""
    rows = []
    for t in takes:
        msg: str | None
        if t.review == "rejected":
            cls, msg = "human", t.review_note or "rejected in review"
        elif t.state in ("pending", "submitting", "submitted"):
            continue  # not used up: an environment failure held it, and the next run takes it up again
        elif t.failure_class:
            cls, msg = t.failure_class, t.failure_reason
        else:
            continue
        if reason and cls != reason:
            continue
        rows.append(
            {
                "shot": t.shot_id,
                "stage": t.stage,
                "take": t.take_no,
                "take_id": t.id,
                "provider": t.provider,
                "model": t.model,
                "reason": cls,
                "message": msg,
                "cost_usd": t.cost_usd,
                "billed_units": t.billed_units,
                "unit": t.unit,
                "provider_task_id": t.provider_task_id,
                "at": t.created_at.isoformat(timespec="seconds") if t.created_at else None,
                "prompt": t.request.get("prompt"),
                "seed": t.seed,
            }
        )
    return rows

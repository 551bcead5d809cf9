"""Which draft a shot's final still is made from (``run --draft``, then a plain run). Pure: it reads take
records with the ledger's fields."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

__all__ = ["DraftSource", "choose_draft", "describe_source", "draft_source", "usable_drafts"]

DraftSource = Literal["chosen", "gate"]


def usable_drafts(takes: Iterable[Any]) -> list[Any]:
    """A shot's downloaded drafts that no person rejected, oldest first."""
    return sorted(
        (t for t in takes if t.stage == "draft" and t.state == "downloaded" and t.review != "rejected"),
        key=lambda t: t.id,
    )


def choose_draft(takes: Iterable[Any]) -> tuple[Any, DraftSource] | None:
    """A person's choice always wins (the draft marked approved); else the newest draft that passed the image
    gate; else None."""
    drafts = usable_drafts(takes)
    chosen = [t for t in drafts if t.review == "approved"]
    if chosen:
        return chosen[-1], "chosen"
    passed = [t for t in drafts if t.verdict in ("pass", "warn")]
    if passed:
        return passed[-1], "gate"
    return None


def draft_source(takes: Iterable[Any], still_take_id: int | None) -> dict[str, Any] | None:
    """Which draft the shot's final still comes from, for ``status``: ``{"take": N, "how": ...}`` where ``how``
    is ``made`` (the final still was made from it), ``chosen`` (a person chose it) or ``gate`` (the newest
    that passed the gate: the next run uses it unless a person chooses another); None without drafts."""
    takes = list(takes)
    by_id = {t.id: t for t in takes}
    still = by_id.get(still_take_id) if still_take_id is not None else None
    made = by_id.get(still.parent_take_id) if still is not None and still.parent_take_id else None
    if made is not None and made.stage == "draft":
        return {"take": made.take_no, "take_id": made.id, "how": "made"}
    if still is not None:
        return None
    found = choose_draft(takes)
    if found is None:
        return None
    return {"take": found[0].take_no, "take_id": found[0].id, "how": found[1]}


def describe_source(src: dict[str, Any] | None) -> str:
    if src is None:
        return ""
    how = {
        "made": "made from draft {n}",
        "chosen": "from draft {n} (chosen in review)",
        "gate": "from draft {n} (the newest that passed the gate; choose another in review)",
    }[src["how"]]
    return "final still " + how.format(n=src["take"])

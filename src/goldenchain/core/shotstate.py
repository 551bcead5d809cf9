"""A shot's states and the moves between them: one small machine, pure, that the ledger enforces on every
write of a shot's status (``docs/shot-states.md`` draws it).

::

    pending ──run──▶ running ──▶ done | stills_done | drafts_ready | failed | stopped | blocked | interrupted
                        ▲                 │                                 | needs_review
                        │                 │ a person rejects or re-rolls
       any end state ───┘ (next run)      ▼
                                     needs_retake ──run──▶ running
"""

from __future__ import annotations

from typing import Literal

from goldenchain.errors import LedgerError

__all__ = ["END_STATES", "STATES", "TRANSITIONS", "InvalidTransition", "check_move", "next_step"]

ShotStatus = Literal[
    "pending", "running", "needs_retake", "done", "stills_done", "drafts_ready", "failed", "stopped", "blocked",
    "interrupted", "needs_review",
]  # fmt: skip
STATES: tuple[str, ...] = (
    "pending", "running", "needs_retake", "done", "stills_done", "drafts_ready", "failed", "stopped", "blocked",
    "interrupted", "needs_review",
)  # fmt: skip
#: where a run leaves a shot
END_STATES = frozenset(
    {"done", "stills_done", "drafts_ready", "failed", "stopped", "blocked", "interrupted", "needs_review"}
)
#: a person's moves (review app, retry): a new take asked for, or a take chosen for the cut
_PERSON = frozenset({"needs_retake", "done"})

TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"running", "needs_retake", "interrupted"}),
    "running": frozenset({"running", "needs_retake"} | END_STATES),
    "needs_retake": frozenset({"running", "needs_retake", "done", "interrupted"}),
    **{s: frozenset({"running"} | _PERSON) for s in END_STATES},
}


class InvalidTransition(LedgerError):
    """A write would move a shot where no rule goes (a bug, or two writers disagreeing)."""


def check_move(old: str, new: str) -> None:
    if new not in STATES:
        raise InvalidTransition(f"unknown shot state {new!r}")
    if old == new or new in TRANSITIONS.get(old, frozenset()):
        return
    raise InvalidTransition(f"a shot cannot go from {old} to {new}")


_NEXT = {
    "pending": "goldenchain run",
    "running": "wait for it (goldenchain status)",
    "needs_retake": "goldenchain run makes the new take",
    "done": "review it (goldenchain review)",
    "stills_done": "choose stills, then goldenchain run --only clips",
    "drafts_ready": "choose a draft (goldenchain review, or goldenchain use {shot} --draft N), then goldenchain run",
    "failed": "goldenchain retry {shot} (new takes; see goldenchain failures)",
    "stopped": "raise the budget or --max-cost, then goldenchain run",
    "blocked": "fix it, then goldenchain run",
    "interrupted": "goldenchain run goes on from here",
    "needs_review": "approve or reject the clip (goldenchain review), then goldenchain run",
}


def next_step(status: str, shot: str, detail: str | None = None) -> str:
    """What a person can do about a shot in this state (a blocked shot's fix comes from its detail)."""
    if status == "blocked" and detail and ";" in detail:
        return detail.rsplit(";", 1)[1].strip()
    return _NEXT.get(status, "goldenchain status").format(shot=shot)

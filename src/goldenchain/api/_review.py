"""A person's review of takes: approve, reject (with a reason from the taxonomy and a note), use in the cut,
and ask for one more take. Every write is logged in the ledger with who made it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from goldenchain.api._common import with_ledger
from goldenchain.config import Project
from goldenchain.core.takes import Take
from goldenchain.errors import LedgerError, UsageError
from goldenchain.store.ledger import Ledger


def _write(p: Project, fn: Callable[[Ledger], Any], ledger: Ledger | None) -> Any:
    def go(led: Ledger) -> Any:
        try:
            return fn(led)
        except LedgerError as e:
            raise UsageError(str(e)) from None

    return with_ledger(p, go, ledger)


def review_take(
    p: Project,
    take_id: int,
    decision: str,
    *,
    reason: str | None = None,
    note: str | None = None,
    who: str = "api",
    ledger: Ledger | None = None,
) -> Take:
    """A person's ``approved`` or ``rejected`` on a take; ``reason`` is one of the review reasons
    (``goldenchain.reports.failures.REVIEW_REASONS``), ``note`` free text. A rejected take in the cut makes the
    next run make a new one."""
    from goldenchain.reports.failures import REVIEW_REASONS

    if decision not in ("approved", "rejected"):
        raise UsageError("decision must be approved or rejected")
    if reason is not None and reason not in REVIEW_REASONS:
        raise UsageError(f"unknown reason {reason!r} (one of {', '.join(REVIEW_REASONS)})")
    text = ": ".join(x for x in (reason, note) if x) or None

    def go(led: Ledger) -> Take:
        t = led.review_take(take_id, decision, text, who=who, reason=reason)
        return led.take_records(t.project_id, take_id=t.id)[0]

    result: Take = _write(p, go, ledger)
    return result


def approve_take(
    p: Project, take_id: int, *, note: str | None = None, who: str = "api", ledger: Ledger | None = None
) -> Take:
    return review_take(p, take_id, "approved", note=note, who=who, ledger=ledger)


def reject_take(
    p: Project,
    take_id: int,
    *,
    reason: str | None = None,
    note: str | None = None,
    who: str = "api",
    ledger: Ledger | None = None,
) -> Take:
    return review_take(p, take_id, "rejected", reason=reason, note=note, who=who, ledger=ledger)


def use_take(p: Project, take_id: int, *, who: str = "api", ledger: Ledger | None = None) -> Take:
    """Put a take in the cut (the shot's chosen still or clip)."""

    def go(led: Ledger) -> Take:
        t = led.choose_take(take_id, who=who)
        return led.take_records(t.project_id, take_id=t.id)[0]

    result: Take = _write(p, go, ledger)
    return result


def use_draft(p: Project, shot: str, draft: int, *, who: str = "api", ledger: Ledger | None = None) -> Take:
    """Choose draft number ``draft`` of ``shot`` (made by ``run --draft``): the next run makes the shot's final
    still from its prompt and seed with the final model. Logged with ``who``, like every review write."""
    p.shot(shot)  # an unknown id is a usage error

    def go(led: Ledger) -> Take:
        found = [t for t in led.takes(p.id, shot) if t.stage == "draft" and t.take_no == draft]
        if not found:
            raise LedgerError(f"{shot} has no draft {draft} (goldenchain status shows its drafts)")
        t = led.choose_take(found[0].id, who=who)
        return led.take_records(t.project_id, take_id=t.id)[0]

    result: Take = _write(p, go, ledger)
    return result


def reroll(
    p: Project,
    shot: str,
    stage: str,
    *,
    who: str = "api",
    why: str = "re-roll requested",
    ledger: Ledger | None = None,
) -> None:
    """One more take of ``stage``, made (and paid for, under a quote) by the next run."""
    if stage not in ("still", "clip"):
        raise UsageError("stage must be still or clip")
    p.shot(shot)

    def go(led: Ledger) -> None:
        led.ensure_project(
            p.id, p.config.project.client, str(p.root), [s.model_dump() for s in p.shots.shots]
        )
        led.reroll(p.id, shot, stage, who=who, why=why)

    _write(p, go, ledger)

"""The ledger's reads for a client's month: who the clients are, and every take paid for in a month with its
spend row (the row's ``day`` says when the paid call was made, and its ``client`` who paid for it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, union

from goldenchain.store.db import Database, retried
from goldenchain.store.schema import ProjectRow, ShotRow, SpendRow, TakeRow

__all__ = ["DeliveredShot", "MonthLedger", "MonthTake", "MonthView"]


@dataclass(frozen=True, slots=True)
class MonthTake:
    """One take whose paid call fell in the month, with its spend row's figures."""

    project_id: str
    shot_id: str
    take_id: int
    stage: str
    provider: str
    model: str
    state: str  # the take's: downloaded | failed | needs_review | ...
    verdict: str | None
    review: str | None
    spend_state: str  # reserved | committed | released
    usd: float
    credits: float | None
    day: str


@dataclass(frozen=True, slots=True)
class DeliveredShot:
    """A shot that is done, whose clip in the cut was paid for in the month."""

    project_id: str
    shot_id: str
    seconds: float


@dataclass(frozen=True)
class MonthView:
    client: str
    month: str
    #: every project of the client (by the project row or by a spend row in its name): id -> root on disk
    projects: dict[str, str]
    takes: list[MonthTake]
    delivered: list[DeliveredShot]
    #: committed spend of each project of the client from its first day to the month's last
    to_date_usd: dict[str, float]


class MonthLedger:
    """The month half of :class:`goldenchain.store.ledger.Ledger`."""

    db: Database

    @retried()
    def clients(self) -> list[str]:
        """Every client the ledger knows: named by a project, or billed for a paid call."""
        q = union(select(ProjectRow.client), select(SpendRow.client).distinct())
        with self.db.read_session() as s:
            return sorted({str(c) for (c,) in s.execute(q)})

    @retried()
    def month(self, client: str, month: str) -> MonthView:
        """The client's takes paid for in ``month`` (``YYYY-MM``), the shots delivered by them, and each
        project's spend to the month's end; all in one read snapshot."""
        like = month + "-%"
        in_month = (SpendRow.client == client, SpendRow.day.like(like))
        with self.db.read_session() as s, s.begin():
            projects = {
                str(pid): str(root or "")
                for pid, root in s.execute(
                    select(ProjectRow.id, ProjectRow.root).where(
                        (ProjectRow.client == client)
                        | ProjectRow.id.in_(select(SpendRow.project_id).where(SpendRow.client == client))
                    )
                )
            }
            rows = s.execute(
                select(
                    SpendRow.project_id,
                    SpendRow.shot_id,
                    TakeRow.id,
                    TakeRow.stage,
                    SpendRow.provider,
                    SpendRow.model,
                    TakeRow.state,
                    TakeRow.verdict,
                    TakeRow.review,
                    SpendRow.state,
                    SpendRow.usd,
                    SpendRow.credits,
                    SpendRow.day,
                )
                .join(TakeRow, TakeRow.id == SpendRow.take_id)
                .where(*in_month)
                .order_by(SpendRow.day, SpendRow.id)
            ).all()
            takes = [MonthTake(*tuple(r)) for r in rows]
            shots = s.execute(
                select(ShotRow.project_id, ShotRow.shot_id, ShotRow.spec)
                .join(SpendRow, SpendRow.take_id == ShotRow.clip_take_id)
                .where(ShotRow.status == "done", SpendRow.state == "committed", *in_month)
                .order_by(ShotRow.project_id, ShotRow.position)
            ).all()
            delivered = [DeliveredShot(str(p), str(sid), _seconds(spec)) for p, sid, spec in shots]
            last_day = month + "-31"  # days are YYYY-MM-DD strings: every day of the month sorts below it
            to_date = dict(
                s.execute(
                    select(SpendRow.project_id, func.coalesce(func.sum(SpendRow.usd), 0.0))
                    .where(SpendRow.client == client, SpendRow.state == "committed", SpendRow.day <= last_day)
                    .group_by(SpendRow.project_id)
                ).all()
            )
        return MonthView(
            client,
            month,
            projects,
            takes,
            delivered,
            {str(k): float(v) for k, v in to_date.items()},
        )


def _seconds(spec: Any) -> float:
    try:
        return float((spec or {}).get("duration") or 0.0)
    except (TypeError, ValueError, AttributeError):
        return 0.0

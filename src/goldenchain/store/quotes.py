"""The ledger's quotes: priced plans that a person approves before a script or an agent spends on them."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from goldenchain.errors import LedgerError
from goldenchain.store.db import Database, retried
from goldenchain.store.schema import QuoteRow, SpendRow

__all__ = ["Quote", "QuoteLedger"]


@dataclass(frozen=True)
class Quote:
    id: str
    project_id: str
    amount_usd: float
    shots: tuple[str, ...]
    plan_hash: str
    expires_at: float
    status: str
    decided_by: str | None

    def usable(self, now: float | None = None) -> bool:
        return self.status == "approved" and (now or time.time()) < self.expires_at

    def to_json(self) -> dict[str, Any]:
        return {
            "quote": self.id,
            "project": self.project_id,
            "amount_usd": self.amount_usd,
            "shots": list(self.shots),
            "plan_hash": self.plan_hash,
            "expires_at": datetime.fromtimestamp(self.expires_at, UTC).isoformat(timespec="seconds"),
            "status": self.status,
            "decided_by": self.decided_by,
        }


def _quote(r: QuoteRow) -> Quote:
    return Quote(
        r.id, r.project_id, r.amount_usd, tuple(r.shots), r.plan_hash, r.expires_at, r.status, r.decided_by
    )


class QuoteLedger:
    db: Database

    @retried(rerun_after_commit=False)
    def add_quote(
        self, project_id: str, amount_usd: float, shots: list[str], plan_hash: str, ttl_s: float
    ) -> Quote:
        qid = "q-" + secrets.token_hex(6)
        with self.db.session() as s, s.begin():
            row = QuoteRow(
                id=qid,
                project_id=project_id,
                amount_usd=round(amount_usd, 4),
                shots=list(shots),
                plan_hash=plan_hash,
                expires_at=time.time() + ttl_s,
                status="pending",
            )
            s.add(row)
            s.flush()
            return _quote(row)

    @retried()
    def quote(self, quote_id: str) -> Quote:
        with self.db.read_session() as s:
            row = s.get(QuoteRow, quote_id)
            if row is None:
                raise LedgerError(f"unknown quote {quote_id}")
            return _quote(row)

    @retried()
    def decide_quote(self, quote_id: str, status: str, who: str) -> Quote:
        """A person's yes (``approved``) or no (``revoked``); a revoke stops a run before its next paid call."""
        if status not in ("approved", "revoked"):
            raise LedgerError(f"unknown decision {status!r}")
        with self.db.session() as s, s.begin():
            row = s.get(QuoteRow, quote_id)
            if row is None:
                raise LedgerError(f"unknown quote {quote_id}")
            if status == "approved" and row.status == "revoked":
                raise LedgerError(f"quote {quote_id} was revoked; ask for a new one")
            if status == "approved" and row.expires_at <= time.time():
                raise LedgerError(f"quote {quote_id} has expired; ask for a new one")
            row.status, row.decided_by, row.decided_at = status, who, datetime.now(UTC)
            s.flush()
            return _quote(row)

    @retried()
    def quotes(self, project_id: str) -> list[Quote]:
        """The project's quotes, newest first."""
        with self.db.read_session() as s:
            rows = s.scalars(
                select(QuoteRow).where(QuoteRow.project_id == project_id).order_by(QuoteRow.created_at.desc())
            )
            return [_quote(r) for r in rows]

    @retried()
    def approved_today(self, project_id: str, day_start: float) -> float:
        """Dollars of quotes approved automatically or by a person since ``day_start`` (for auto-approval)."""
        with self.db.read_session() as s:
            rows = s.scalars(
                select(QuoteRow).where(QuoteRow.project_id == project_id, QuoteRow.status == "approved")
            )
            return sum(r.amount_usd for r in rows if r.decided_at and r.decided_at.timestamp() >= day_start)

    @retried()
    def quote_spent(self, run_ids: list[str]) -> float:
        if not run_ids:
            return 0.0
        with self.db.read_session() as s:
            return float(
                s.scalar(
                    select(func.coalesce(func.sum(SpendRow.usd), 0.0)).where(
                        SpendRow.run_id.in_(run_ids), SpendRow.state.in_(("reserved", "committed"))
                    )
                )
                or 0.0
            )

"""The ledger's circuit breakers (see :mod:`goldenchain.core.failures`): one row per provider route."""

from __future__ import annotations

import math
import time

from sqlalchemy import select

from goldenchain.core.failures import NEEDS_A_PERSON, Breaker, breaker_backoff
from goldenchain.store.db import Database, retried
from goldenchain.store.schema import BreakerRow

__all__ = ["BreakerLedger"]

#: an "until a person acts" breaker, stored as a number every database keeps (PostgreSQL and SQLite floats)
_FOREVER = 1e18


def _breaker(row: BreakerRow | None, route: str) -> Breaker:
    if row is None:
        return Breaker(route, None, None, 0, None)
    until = math.inf if row.until is not None and row.until >= _FOREVER else row.until
    return Breaker(route, row.failure_class, row.reason, row.trips, until)


class BreakerLedger:
    db: Database

    @retried()
    def breaker(self, route: str) -> Breaker:
        with self.db.read_session() as s:
            return _breaker(s.get(BreakerRow, route), route)

    @retried()
    def trip(self, route: str, failure_class: str, reason: str, *, now: float | None = None) -> Breaker:
        """Open the route's breaker: until a person acts for auth and billing, else for a backoff that grows
        with each consecutive trip."""
        now = time.time() if now is None else now
        with self.db.session() as s, s.begin():
            row = s.get(BreakerRow, route)
            if row is None:
                row = BreakerRow(route=route, trips=0)
                s.add(row)
            row.trips = (row.trips or 0) + 1
            row.failure_class, row.reason = failure_class, reason[:2000]
            if failure_class in NEEDS_A_PERSON:
                row.until = _FOREVER
            else:
                row.until = now + breaker_backoff(row.trips)
            s.flush()
            return _breaker(row, route)

    @retried()
    def close_breaker(self, route: str) -> None:
        """The route answered: close its breaker (no write when it is closed already)."""
        with self.db.session() as s, s.begin():
            row = s.get(BreakerRow, route)
            if row is not None and (row.until is not None or row.trips):
                row.until, row.trips = None, 0

    @retried()
    def reset_breakers(self, routes: list[str] | None = None) -> int:
        """A person starts a run: every breaker (or those of ``routes``) is closed, so the route is tried once
        more. Returns how many were open."""
        with self.db.session() as s, s.begin():
            q = select(BreakerRow).where(BreakerRow.until.is_not(None))
            if routes is not None:
                q = q.where(BreakerRow.route.in_(routes))
            rows = list(s.scalars(q))
            for row in rows:
                row.until, row.trips = None, 0
            return len(rows)

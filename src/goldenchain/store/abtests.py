"""The ledger's A/B tests: each test's spec and last report, each variant's outcome per pair, blind ratings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from goldenchain.errors import LedgerError
from goldenchain.store.db import Database, retried
from goldenchain.store.schema import AbtestRatingRow, AbtestResultRow, AbtestRow

__all__ = ["AbRating", "AbResult", "Abtest", "AbtestLedger"]


@dataclass(frozen=True)
class Abtest:
    id: int
    project_id: str
    name: str
    spec: dict[str, Any]
    report: dict[str, Any] | None
    created_at: datetime | None


@dataclass(frozen=True)
class AbResult:
    variant: str
    pair: int
    seed: int
    shot_id: str
    outcome: str  #: ``accepted``, ``rejected``, ``failed``, ``blocked`` or ``stopped``
    detail: str | None
    still_take_id: int | None
    clip_take_id: int | None
    cost_usd: float

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class AbRating:
    pair: int
    variant: str
    rating: int
    who: str


def _abtest(r: AbtestRow) -> Abtest:
    return Abtest(
        r.id, r.project_id, r.name, dict(r.spec), dict(r.report) if r.report else None, r.created_at
    )


class AbtestLedger:
    db: Database

    @retried(rerun_after_commit=False)
    def add_abtest(self, project_id: str, name: str, spec: dict[str, Any]) -> Abtest:
        with self.db.session() as s, s.begin():
            found = s.scalar(
                select(AbtestRow).where(AbtestRow.project_id == project_id, AbtestRow.name == name)
            )
            if found is not None:
                raise LedgerError(f"an A/B test named {name!r} exists already in project {project_id}")
            row = AbtestRow(project_id=project_id, name=name, spec=spec)
            s.add(row)
            s.flush()
            return _abtest(row)

    @retried()
    def abtest(self, project_id: str, name: str) -> Abtest | None:
        with self.db.read_session() as s:
            row = s.scalar(
                select(AbtestRow).where(AbtestRow.project_id == project_id, AbtestRow.name == name)
            )
            return None if row is None else _abtest(row)

    @retried()
    def abtests(self, project_id: str) -> list[Abtest]:
        """The project's A/B tests, oldest first."""
        with self.db.read_session() as s:
            rows = s.scalars(
                select(AbtestRow).where(AbtestRow.project_id == project_id).order_by(AbtestRow.id)
            )
            return [_abtest(r) for r in rows]

    @retried()
    def set_abtest_report(self, abtest_id: int, report: dict[str, Any]) -> None:
        with self.db.session() as s, s.begin():
            row = s.get(AbtestRow, abtest_id)
            if row is None:
                raise LedgerError(f"unknown A/B test {abtest_id}")
            row.report = report

    @retried()
    def save_abtest_results(self, abtest_id: int, results: list[AbResult]) -> None:
        """Each variant's outcome per pair, written over an earlier one of the same pair (a resumed test)."""
        with self.db.session() as s, s.begin():
            have = {
                (r.variant, r.pair): r
                for r in s.scalars(select(AbtestResultRow).where(AbtestResultRow.abtest_id == abtest_id))
            }
            for res in results:
                row = have.get((res.variant, res.pair))
                if row is None:
                    row = AbtestResultRow(abtest_id=abtest_id, variant=res.variant, pair=res.pair)
                    s.add(row)
                row.seed, row.shot_id, row.outcome, row.detail = (
                    res.seed,
                    res.shot_id,
                    res.outcome,
                    res.detail,
                )
                row.still_take_id, row.clip_take_id, row.cost_usd = (
                    res.still_take_id,
                    res.clip_take_id,
                    res.cost_usd,
                )

    @retried()
    def abtest_results(self, abtest_id: int) -> list[AbResult]:
        with self.db.read_session() as s:
            rows = s.scalars(
                select(AbtestResultRow)
                .where(AbtestResultRow.abtest_id == abtest_id)
                .order_by(AbtestResultRow.pair, AbtestResultRow.variant)
            )
            return [
                AbResult(
                    r.variant,
                    r.pair,
                    r.seed,
                    r.shot_id,
                    r.outcome,
                    r.detail,
                    r.still_take_id,
                    r.clip_take_id,
                    r.cost_usd,
                )
                for r in rows
            ]

    @retried()
    def rate_abtest(self, abtest_id: int, pair: int, variant: str, rating: int, who: str) -> None:
        """A person's blind rating of one clip; a second rating by the same person replaces the first."""
        with self.db.session() as s, s.begin():
            row = s.scalar(
                select(AbtestRatingRow).where(
                    AbtestRatingRow.abtest_id == abtest_id,
                    AbtestRatingRow.pair == pair,
                    AbtestRatingRow.variant == variant,
                    AbtestRatingRow.who == who,
                )
            )
            if row is None:
                s.add(
                    AbtestRatingRow(abtest_id=abtest_id, pair=pair, variant=variant, rating=rating, who=who)
                )
            else:
                row.rating = rating

    @retried()
    def abtest_ratings(self, abtest_id: int) -> list[AbRating]:
        with self.db.read_session() as s:
            rows = s.scalars(
                select(AbtestRatingRow)
                .where(AbtestRatingRow.abtest_id == abtest_id)
                .order_by(AbtestRatingRow.id)
            )
            return [AbRating(r.pair, r.variant, r.rating, r.who) for r in rows]

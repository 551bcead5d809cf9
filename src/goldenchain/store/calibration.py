"""The ledger's calibration runs (``goldenchain calibrate``): each run, its metrics per prompt, and the reads
that compare one run with the last of the same routes."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select

from goldenchain.errors import LedgerError
from goldenchain.store.db import Database, retried
from goldenchain.store.schema import CalibrationMetricRow, CalibrationRunRow, SpendRow

__all__ = ["CalibrationLedger", "CalibrationRun", "MetricValue"]

#: (prompt id, metric, value, threshold)
MetricValue = tuple[str, str, float, float | None]


@dataclass(frozen=True)
class CalibrationRun:
    id: str
    project_id: str
    ledger_project: str  #: the ledger project its takes are booked under
    routes: str
    stills_only: bool
    prompts: tuple[dict[str, Any], ...]  #: ``{"prompt", "shot", "seed"}`` each
    estimate_usd: float
    spent_usd: float | None
    status: str  #: running | done
    started_at: float
    finished_at: float | None


def _run(r: CalibrationRunRow) -> CalibrationRun:
    return CalibrationRun(
        r.id, r.project_id, r.ledger_project, r.routes, bool(r.stills_only), tuple(r.prompts), r.estimate_usd,
        r.spent_usd, r.status, r.started_at, r.finished_at,
    )  # fmt: skip


class CalibrationLedger:
    db: Database

    @retried()
    def start_calibration(
        self,
        run_id: str,
        project_id: str,
        ledger_project: str,
        routes: str,
        stills_only: bool,
        prompts: list[dict[str, Any]],
        estimate_usd: float,
    ) -> CalibrationRun:
        """Recorded before any spend: a run a crash stops is found again by :meth:`unfinished_calibration`."""
        with self.db.session() as s, s.begin():
            row = s.get(CalibrationRunRow, run_id)
            if row is None:  # else written already (a retry after a dropped commit)
                row = CalibrationRunRow(
                    id=run_id, project_id=project_id, ledger_project=ledger_project, routes=routes,
                    stills_only=stills_only, prompts=list(prompts), estimate_usd=round(estimate_usd, 4),
                    status="running", started_at=time.time(),
                )  # fmt: skip
                s.add(row)
                s.flush()
            return _run(row)

    @retried()
    def unfinished_calibration(
        self, project_id: str, routes: str, stills_only: bool
    ) -> CalibrationRun | None:
        """The newest calibration of these routes that never finished (a crash, Ctrl-C): resumed, not paid
        for again."""
        with self.db.read_session() as s:
            row = s.scalars(
                select(CalibrationRunRow)
                .where(
                    CalibrationRunRow.project_id == project_id,
                    CalibrationRunRow.routes == routes,
                    CalibrationRunRow.stills_only == stills_only,
                    CalibrationRunRow.status == "running",
                )
                .order_by(CalibrationRunRow.started_at.desc())
            ).first()
            return _run(row) if row is not None else None

    @retried()
    def finish_calibration(self, run_id: str, metrics: list[MetricValue]) -> CalibrationRun:
        """The run's metrics (written again whole when this runs twice) and what it spent, in one
        transaction."""
        with self.db.session() as s, s.begin():
            row = s.get(CalibrationRunRow, run_id)
            if row is None:
                raise LedgerError(f"unknown calibration {run_id}")
            s.execute(delete(CalibrationMetricRow).where(CalibrationMetricRow.run_id == run_id))
            s.add_all(
                CalibrationMetricRow(run_id=run_id, prompt_id=p, metric=m, value=float(v), threshold=t)
                for p, m, v, t in metrics
            )
            shots = [str(x["shot"]) for x in row.prompts]
            spent = s.scalar(
                select(func.coalesce(func.sum(SpendRow.usd), 0.0)).where(
                    SpendRow.project_id == row.ledger_project,
                    SpendRow.shot_id.in_(shots),
                    SpendRow.state.in_(("reserved", "committed")),
                )
            )
            row.spent_usd, row.status, row.finished_at = round(float(spent or 0.0), 6), "done", time.time()
            s.flush()
            return _run(row)

    @retried()
    def calibration_runs(self, project_id: str) -> list[CalibrationRun]:
        """The project's calibration runs, oldest first."""
        with self.db.read_session() as s:
            rows = s.scalars(
                select(CalibrationRunRow)
                .where(CalibrationRunRow.project_id == project_id)
                .order_by(CalibrationRunRow.started_at, CalibrationRunRow.id)
            )
            return [_run(r) for r in rows]

    @retried()
    def calibration_metrics(self, run_ids: list[str]) -> dict[str, list[MetricValue]]:
        """Each run's metrics: ``(prompt, metric, value, threshold)``."""
        out: dict[str, list[MetricValue]] = {r: [] for r in run_ids}
        if not run_ids:
            return out
        with self.db.read_session() as s:
            rows = s.scalars(
                select(CalibrationMetricRow)
                .where(CalibrationMetricRow.run_id.in_(run_ids))
                .order_by(CalibrationMetricRow.id)
            )
            for r in rows:
                out[r.run_id].append((r.prompt_id, r.metric, r.value, r.threshold))
        return out

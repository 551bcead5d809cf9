"""Ledger operations: intent before effect, task ids right after acceptance, budgets, verdicts.

Every function here is one short transaction (SQLite: ``BEGIN IMMEDIATE``), so a crash between two of them
leaves a state the next run can read and resume from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, text, update

from goldenchain.core.checks import CheckReport
from goldenchain.errors import BudgetExceeded, LedgerError
from goldenchain.store.db import Database
from goldenchain.store.schema import (
    ArtifactRow,
    CheckRow,
    ProjectRow,
    ProviderCallRow,
    RunRow,
    ShotRow,
    SpendRow,
    TakeRow,
)

ACTIVE_SPEND = ("reserved", "committed")


@dataclass(frozen=True)
class BudgetCaps:
    project_usd: float | None = None
    client_usd: float | None = None
    daily_usd: float | None = None
    monthly_usd: float | None = None
    run_usd: float | None = None


def today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


def _grant_retake(shot: ShotRow, stage: str, detail: str) -> None:
    """One more take of ``stage`` on the next run: the chosen take of that stage (and, for a still, the clip
    made from it) is dropped from the shot."""
    if stage == "still":
        shot.extra_still_takes += 1
        shot.still_take_id = shot.clip_take_id = None
    else:
        shot.extra_clip_takes += 1
        shot.clip_take_id = None
    shot.status, shot.stage, shot.detail = "needs_retake", stage, detail


class Ledger:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- projects, shots, runs ---------------------------------------------------------------------------

    def ensure_project(self, project_id: str, client: str, root: str, shots: list[dict[str, Any]]) -> None:
        with self.db.session() as s, s.begin():
            p = s.get(ProjectRow, project_id)
            if p is None:
                s.add(ProjectRow(id=project_id, client=client, root=root))
            else:
                p.client, p.root = client, root
            existing = {
                r.shot_id: r for r in s.scalars(select(ShotRow).where(ShotRow.project_id == project_id))
            }
            for pos, spec in enumerate(shots):
                row = existing.get(spec["id"])
                if row is None:
                    s.add(
                        ShotRow(
                            project_id=project_id,
                            shot_id=spec["id"],
                            position=pos,
                            spec=spec,
                            generation=1,
                            stage="planned",
                            status="pending",
                        )
                    )
                else:
                    row.position, row.spec = pos, spec

    def start_run(
        self,
        run_id: str,
        project_id: str,
        max_cost_usd: float | None,
        force_reason: str | None = None,
        lint_errors: list[dict[str, Any]] | None = None,
    ) -> None:
        with self.db.session() as s, s.begin():
            s.add(
                RunRow(
                    id=run_id,
                    project_id=project_id,
                    max_cost_usd=max_cost_usd,
                    status="running",
                    force_reason=force_reason,
                    lint_errors=lint_errors,
                )
            )

    def finish_run(self, run_id: str, status: str, reason: str | None = None) -> None:
        with self.db.session() as s, s.begin():
            r = s.get(RunRow, run_id)
            if r is not None:
                r.status, r.stop_reason = status, reason

    def run(self, run_id: str) -> RunRow | None:
        with self.db.read_session() as s:
            return s.get(RunRow, run_id)

    def shot(self, project_id: str, shot_id: str) -> ShotRow:
        with self.db.read_session() as s:
            row = s.scalar(
                select(ShotRow).where(ShotRow.project_id == project_id, ShotRow.shot_id == shot_id)
            )
            if row is None:
                raise LedgerError(f"unknown shot {shot_id}")
            return row

    def shots(self, project_id: str) -> list[ShotRow]:
        with self.db.read_session() as s:
            return list(
                s.scalars(select(ShotRow).where(ShotRow.project_id == project_id).order_by(ShotRow.position))
            )

    def set_shot(self, project_id: str, shot_id: str, **fields: Any) -> None:
        with self.db.session() as s, s.begin():
            done = s.execute(
                update(ShotRow)
                .where(ShotRow.project_id == project_id, ShotRow.shot_id == shot_id)
                .values(**fields)
                .execution_options(synchronize_session=False)
            )
            if getattr(done, "rowcount", 1) == 0:
                raise LedgerError(f"unknown shot {shot_id}")

    # --- takes -------------------------------------------------------------------------------------------

    def get_or_create_take(self, key: str, **fields: Any) -> TakeRow:
        with self.db.session() as s, s.begin():
            row = s.scalar(select(TakeRow).where(TakeRow.idempotency_key == key))
            if row is None:
                row = TakeRow(idempotency_key=key, state="pending", submit_attempts=0, **fields)
                s.add(row)
                s.flush()
            return row

    def take(self, take_id: int) -> TakeRow:
        with self.db.read_session() as s:
            row = s.get(TakeRow, take_id)
            if row is None:
                raise LedgerError(f"unknown take {take_id}")
            return row

    def takes(self, project_id: str, shot_id: str | None = None) -> list[TakeRow]:
        with self.db.read_session() as s:
            q = select(TakeRow).where(TakeRow.project_id == project_id)
            if shot_id is not None:
                q = q.where(TakeRow.shot_id == shot_id)
            return list(s.scalars(q.order_by(TakeRow.shot_id, TakeRow.stage.desc(), TakeRow.take_no)))

    def _log(
        self,
        s: Any,
        take_id: int,
        op: str,
        outcome: str,
        task_id: str | None = None,
        detail: str | None = None,
    ) -> None:
        s.add(
            ProviderCallRow(take_id=take_id, op=op, outcome=outcome, provider_task_id=task_id, detail=detail)
        )

    def begin_submit(self, take_id: int, run_id: str | None, client: str, caps: BudgetCaps) -> TakeRow:
        """Intent before effect: reserve the estimate against every budget and mark the take SUBMITTING, in one
        transaction. Raises :class:`BudgetExceeded` (and marks the take ``budget_blocked``) instead."""
        with self.db.session() as s, s.begin():
            if s.get_bind().dialect.name == "postgresql":
                # serialise every reservation: the budget check and the insert must not interleave across
                # workers (SQLite gets the same from BEGIN IMMEDIATE)
                s.execute(text("SELECT pg_advisory_xact_lock(727001)"))
            t = s.get(TakeRow, take_id)
            if t is None:
                raise LedgerError(f"unknown take {take_id}")
            if t.state not in ("pending", "budget_blocked"):
                raise LedgerError(f"take {t.idempotency_key} is {t.state}; refusing to submit it again")
            need = t.estimate_usd
            existing = s.scalar(select(SpendRow).where(SpendRow.take_id == t.id))
            checks: list[tuple[str, float, Any]] = []
            if caps.project_usd is not None:
                checks.append(
                    (f"project {t.project_id}", caps.project_usd, SpendRow.project_id == t.project_id)
                )
            if caps.client_usd is not None:
                checks.append((f"client {client}", caps.client_usd, SpendRow.client == client))
            if caps.daily_usd is not None:
                checks.append((f"day {today()}", caps.daily_usd, SpendRow.day == today()))
            if caps.monthly_usd is not None:
                checks.append(
                    (f"month {today()[:7]}", caps.monthly_usd, SpendRow.day.like(today()[:7] + "%"))
                )
            if caps.run_usd is not None and run_id is not None:
                checks.append(("--max-cost of this run", caps.run_usd, SpendRow.run_id == run_id))
            for scope, cap, cond in checks:
                used = (
                    s.scalar(
                        select(func.coalesce(func.sum(SpendRow.usd), 0.0)).where(
                            cond, SpendRow.state.in_(ACTIVE_SPEND)
                        )
                    )
                    or 0.0
                )
                if used + need > cap + 1e-9:
                    t.state = "budget_blocked"
                    t.failure_class, t.failure_reason = "budget", f"budget {scope} would be exceeded"
                    self._log(
                        s, t.id, "intent", "budget_blocked", detail=f"{scope}: {used:.4f}+{need:.4f}>{cap}"
                    )
                    s.commit()
                    raise BudgetExceeded(scope, cap, used, need)
            if existing is None:
                s.add(
                    SpendRow(
                        take_id=t.id,
                        project_id=t.project_id,
                        client=client,
                        shot_id=t.shot_id,
                        provider=t.provider,
                        model=t.model,
                        run_id=run_id,
                        state="reserved",
                        usd=need,
                        day=today(),
                    )
                )
            else:
                existing.state, existing.usd, existing.run_id = "reserved", need, run_id
            t.state = "submitting"
            t.failure_class = t.failure_reason = None
            t.submit_attempts += 1
            self._log(s, t.id, "intent", "submitting", detail=f"attempt {t.submit_attempts}")
            return t

    def record_submitted(
        self, take_id: int, task_id: str, handle: dict[str, Any], how: str = "create"
    ) -> None:
        with self.db.session() as s, s.begin():
            t = s.get(TakeRow, take_id)
            assert t is not None
            t.state, t.provider_task_id, t.handle = "submitted", task_id, handle
            self._log(s, take_id, how, "accepted", task_id)

    def record_not_accepted(self, take_id: int, failure_class: str, reason: str, *, final: bool) -> None:
        """The provider refused the create before accepting it: nothing was billed, release the reservation."""
        with self.db.session() as s, s.begin():
            t = s.get(TakeRow, take_id)
            assert t is not None
            t.state = "failed" if final else "pending"
            t.failure_class, t.failure_reason = failure_class, reason
            self._release(s, take_id)
            self._log(s, take_id, "create", f"rejected:{failure_class}", detail=reason)

    def record_needs_review(self, take_id: int, reason: str) -> None:
        """The create may have been accepted and billed, and the provider cannot be asked by our id.
        The reservation stays: a human settles it. Never resubmitted automatically."""
        with self.db.session() as s, s.begin():
            t = s.get(TakeRow, take_id)
            assert t is not None
            t.state, t.failure_class, t.failure_reason = "needs_review", "ambiguous", reason
            self._log(s, take_id, "create", "ambiguous", detail=reason)

    def record_task_failed(self, take_id: int, failure_class: str, reason: str) -> None:
        """The accepted task failed at the provider (not billed by Kling or fal): release."""
        with self.db.session() as s, s.begin():
            t = s.get(TakeRow, take_id)
            assert t is not None
            t.state, t.failure_class, t.failure_reason = "failed", failure_class, reason
            self._release(s, take_id)
            self._log(s, take_id, "poll", f"failed:{failure_class}", t.provider_task_id, reason)

    def record_result(self, take_id: int, url: str) -> None:
        with self.db.session() as s, s.begin():
            t = s.get(TakeRow, take_id)
            assert t is not None
            t.result_url = url
            self._log(s, take_id, "poll", "succeeded", t.provider_task_id)

    def record_downloaded(
        self,
        take_id: int,
        *,
        sha256: str,
        rel_path: str,
        size: int,
        mime: str,
        meta: dict[str, Any],
        kind: str,
        cost_usd: float,
        credits: float | None,
        billed_units: float | None,
        unit: str | None,
    ) -> None:
        """The result is on our disk and hashed: only now is the take done and its cost committed."""
        with self.db.session() as s, s.begin():
            t = s.get(TakeRow, take_id)
            assert t is not None
            if s.get(ArtifactRow, sha256) is None:
                s.add(
                    ArtifactRow(
                        sha256=sha256, kind=kind, path=rel_path, size_bytes=size, mime=mime, meta=meta
                    )
                )
            t.state, t.artifact_sha256 = "downloaded", sha256
            t.cost_usd, t.billed_units, t.unit = cost_usd, billed_units, unit
            sp = s.scalar(select(SpendRow).where(SpendRow.take_id == take_id))
            if sp is not None:
                sp.state, sp.usd, sp.credits = "committed", cost_usd, credits
            self._log(s, take_id, "download", "stored", t.provider_task_id, sha256)

    def _release(self, s: Any, take_id: int) -> None:
        sp = s.scalar(select(SpendRow).where(SpendRow.take_id == take_id))
        if sp is not None and sp.state == "reserved":
            sp.state = "released"

    def record_checks(self, take_id: int, kind: str, report: CheckReport) -> None:
        with self.db.session() as s, s.begin():
            t = s.get(TakeRow, take_id)
            assert t is not None
            for old in s.scalars(select(CheckRow).where(CheckRow.take_id == take_id, CheckRow.kind == kind)):
                s.delete(old)
            for c in report.checks:
                s.add(
                    CheckRow(
                        take_id=take_id,
                        kind=kind,
                        name=c.name,
                        verdict=c.verdict,
                        score=float(c.score),
                        threshold=float(c.threshold),
                        direction=c.direction,
                        message=c.message,
                    )
                )
            t.verdict = "reject" if report.verdict == "error" else report.verdict
            if t.verdict == "reject":
                t.failure_class = "gate_reject" if kind == "image" else "qc_reject"
                t.failure_reason = "; ".join(report.reasons)[:2000]
            elif t.failure_class in (
                "gate_reject",
                "qc_reject",
            ):  # re-checked (new thresholds) and now passes
                t.failure_class = t.failure_reason = None

    def review_take(self, take_id: int, decision: str, note: str | None = None) -> TakeRow:
        """A person approves or rejects a finished take. A rejected accepted take sends its shot back for a
        new take on the next run; an approved one overrides an automatic reject."""
        if decision not in ("approved", "rejected"):
            raise LedgerError(f"unknown review decision {decision!r}")
        with self.db.session() as s, s.begin():
            t = s.get(TakeRow, take_id)
            if t is None or t.state != "downloaded":
                raise LedgerError("only a downloaded take can be reviewed")
            t.review, t.review_note = decision, note
            shot = s.scalar(
                select(ShotRow).where(ShotRow.project_id == t.project_id, ShotRow.shot_id == t.shot_id)
            )
            assert shot is not None
            chosen = shot.still_take_id if t.stage == "still" else shot.clip_take_id
            if decision == "rejected" and chosen == t.id:
                _grant_retake(
                    shot,
                    t.stage,
                    f"{t.stage} take {t.take_no} rejected in review" + (f": {note}" if note else ""),
                )
            elif decision == "approved" and t.verdict == "reject":
                shot.status, shot.detail = "needs_retake", f"{t.stage} take {t.take_no} approved in review"
            return t

    def reroll(self, project_id: str, shot_id: str, stage: str) -> None:
        """Ask for one more take of ``stage`` on the next run, rejecting the current one."""
        with self.db.session() as s, s.begin():
            shot = s.scalar(
                select(ShotRow).where(ShotRow.project_id == project_id, ShotRow.shot_id == shot_id)
            )
            if shot is None:
                raise LedgerError(f"unknown shot {shot_id}")
            current = shot.still_take_id if stage == "still" else shot.clip_take_id
            if current is not None:
                t = s.get(TakeRow, current)
                if t is not None:
                    t.review, t.review_note = "rejected", "re-roll requested"
            _grant_retake(shot, stage, f"{stage} re-roll requested")

    def checks(self, take_id: int) -> list[CheckRow]:
        with self.db.read_session() as s:
            return list(s.scalars(select(CheckRow).where(CheckRow.take_id == take_id).order_by(CheckRow.id)))

    def artifact(self, sha256: str) -> ArtifactRow | None:
        with self.db.read_session() as s:
            return s.get(ArtifactRow, sha256)

    def set_artifact_meta(self, sha256: str, **meta: Any) -> None:
        with self.db.session() as s, s.begin():
            a = s.get(ArtifactRow, sha256)
            if a is not None:
                a.meta = {**a.meta, **meta}

    def add_artifact(
        self, sha256: str, kind: str, rel_path: str, size: int, mime: str, meta: dict[str, Any]
    ) -> None:
        with self.db.session() as s, s.begin():
            if s.get(ArtifactRow, sha256) is None:
                s.add(
                    ArtifactRow(
                        sha256=sha256, kind=kind, path=rel_path, size_bytes=size, mime=mime, meta=meta
                    )
                )

    def spend(self, project_id: str) -> list[SpendRow]:
        with self.db.read_session() as s:
            return list(
                s.scalars(select(SpendRow).where(SpendRow.project_id == project_id).order_by(SpendRow.id))
            )

    def recent_still_hashes(self, project_id: str, exclude_shot: str, limit: int = 50) -> list[str]:
        """pHashes of the project's recent accepted stills from other shots (near-duplicate check)."""
        with self.db.read_session() as s:
            rows = s.scalars(
                select(ArtifactRow)
                .join(TakeRow, TakeRow.artifact_sha256 == ArtifactRow.sha256)
                .where(
                    TakeRow.project_id == project_id,
                    TakeRow.stage == "still",
                    TakeRow.shot_id != exclude_shot,
                    TakeRow.verdict.in_(("pass", "warn")),
                )
                .order_by(TakeRow.id.desc())
                .limit(limit)
            )
            return [str(r.meta["phash"]) for r in rows if r.meta.get("phash")]

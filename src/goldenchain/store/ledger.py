"""The ledger: projects, shots, runs, reviews and the reads behind reports; the take lifecycle and its
artifacts come from :class:`~goldenchain.store.takes.TakeLedger`.

Every method is one short transaction (SQLite: ``BEGIN IMMEDIATE``), so a crash between two of them leaves a
state the next run can read and resume from.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from goldenchain.core.checks import Check
from goldenchain.core.shotstate import check_move
from goldenchain.core.takes import Take as TakeRecord
from goldenchain.errors import LedgerError
from goldenchain.store.abtests import AbtestLedger
from goldenchain.store.breakers import BreakerLedger
from goldenchain.store.calibration import CalibrationLedger
from goldenchain.store.db import Database, retried
from goldenchain.store.months import MonthLedger
from goldenchain.store.quotes import QuoteLedger
from goldenchain.store.schema import (
    ArtifactRow,
    CheckRow,
    ProjectRow,
    ReviewEventRow,
    RunRow,
    ShotRow,
    SpendRow,
    TakeRow,
)
from goldenchain.store.takes import (
    ACTIVE_SPEND,
    SHOT_UPDATE,
    Artifact,
    BudgetCaps,
    Take,
    TakeLedger,
    move_shot,
    today,
)

__all__ = ["ACTIVE_SPEND", "Artifact", "BudgetCaps", "Ledger", "Take", "today"]


def _grant_retake(shot: ShotRow, stage: str, detail: str, n: int = 1) -> None:
    """``n`` more takes of ``stage`` on the next run: the chosen take of that stage (and, for a still, the clip
    made from it) is dropped from the shot."""
    if stage == "still":
        shot.extra_still_takes += n
        shot.still_take_id = shot.clip_take_id = None
    else:
        shot.extra_clip_takes += n
        shot.clip_take_id = None
    check_move(shot.status, "needs_retake")
    shot.status, shot.stage, shot.detail = "needs_retake", stage, detail


def _record(t: Take, checks: list[Check], in_cut: bool) -> TakeRecord:
    return TakeRecord(
        t.id, t.shot_id, t.stage, t.take_no, t.provider, t.model, t.seed, t.parent_take_id, t.state, t.verdict,
        t.review, t.review_note, t.failure_class, t.failure_reason, t.provider_task_id, t.idempotency_key,
        t.estimate_usd, t.cost_usd, t.billed_units, t.unit, t.artifact_sha256, in_cut, tuple(checks),
    )  # fmt: skip


class Ledger(TakeLedger, BreakerLedger, QuoteLedger, MonthLedger, CalibrationLedger, AbtestLedger):
    def __init__(self, db: Database) -> None:
        self.db = db
        self.unwritten = {}

    # --- projects, shots, runs ---------------------------------------------------------------------------

    @retried()
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

    @retried()
    def start_run(
        self,
        run_id: str,
        project_id: str,
        max_cost_usd: float | None,
        force_reason: str | None = None,
        lint_errors: list[dict[str, Any]] | None = None,
    ) -> None:
        with self.db.session() as s, s.begin():
            if s.get(RunRow, run_id) is not None:  # written already (a retry after a dropped commit)
                return
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

    @retried()
    def finish_run(self, run_id: str, status: str, reason: str | None = None) -> None:
        with self.db.session() as s, s.begin():
            r = s.get(RunRow, run_id)
            if r is not None:
                r.status, r.stop_reason = status, reason

    @retried()
    def interrupt(self, project_id: str) -> int:
        """After Ctrl-C: the project's running runs and the shots they left running say so. Paid tasks in
        flight are left alone; the next run collects them. Returns how many shots were interrupted."""
        with self.db.session() as s, s.begin():
            for r in s.scalars(
                select(RunRow).where(RunRow.project_id == project_id, RunRow.status == "running")
            ):
                r.status, r.stop_reason = "interrupted", "interrupted (Ctrl-C)"
            n = 0
            for shot in s.scalars(
                select(ShotRow).where(ShotRow.project_id == project_id, ShotRow.status == "running")
            ):
                shot.status, n = "interrupted", n + 1
                shot.detail = f"interrupted at {shot.stage}: the next run goes on from here (paid tasks in flight are kept)"
            return n

    @retried()
    def run(self, run_id: str) -> RunRow | None:
        with self.db.read_session() as s:
            return s.get(RunRow, run_id)

    @retried()
    def shot(self, project_id: str, shot_id: str) -> ShotRow:
        with self.db.read_session() as s:
            row = s.scalar(
                select(ShotRow).where(ShotRow.project_id == project_id, ShotRow.shot_id == shot_id)
            )
            if row is None:
                raise LedgerError(f"unknown shot {shot_id}")
            return row

    @retried()
    def shots(self, project_id: str) -> list[ShotRow]:
        with self.db.read_session() as s:
            return list(
                s.scalars(select(ShotRow).where(ShotRow.project_id == project_id).order_by(ShotRow.position))
            )

    @retried()
    def set_shot(self, project_id: str, shot_id: str, **fields: Any) -> None:
        """A shot's fields; a new status only along the shot machine's moves."""
        with self.db.write() as c:
            move_shot(c, project_id, shot_id, fields)

    @retried()
    def set_workflow_ids(self, project_id: str, workflow_ids: dict[str, str]) -> None:
        """Each shot's current workflow id, all in one transaction (a run starts hundreds of shots)."""
        if not workflow_ids:
            return
        rows = [{"pid": project_id, "sid": sid, "workflow_id": wf} for sid, wf in workflow_ids.items()]
        with self.db.write() as c:
            if c.execute(SHOT_UPDATE, rows).rowcount != len(rows):
                raise LedgerError("unknown shot among " + ", ".join(sorted(workflow_ids)[:5]))

    @retried(rerun_after_commit=False)
    def review_take(
        self,
        take_id: int,
        decision: str,
        note: str | None = None,
        *,
        who: str = "local",
        reason: str | None = None,
    ) -> Take:
        """A person approves or rejects a finished take. A rejected accepted take sends its shot back for a
        new take on the next run; an approved one overrides an automatic reject. Logged with ``who``."""
        if decision not in ("approved", "rejected"):
            raise LedgerError(f"unknown review decision {decision!r}")
        with self.db.session() as s, s.begin():
            t = s.get(TakeRow, take_id)
            if t is None or t.state != "downloaded":
                raise LedgerError("only a downloaded take can be reviewed")
            if t.review == decision and not note:  # the same click again (a double submit): nothing new
                return self.take(take_id)
            t.review, t.review_note = decision, note
            s.add(
                ReviewEventRow(
                    project_id=t.project_id,
                    shot_id=t.shot_id,
                    take_id=t.id,
                    action=decision,
                    who=who,
                    reason=reason,
                    note=note,
                )
            )
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
                check_move(shot.status, "needs_retake")
                shot.status, shot.detail = "needs_retake", f"{t.stage} take {t.take_no} approved in review"
        return self.take(take_id)

    @retried(rerun_after_commit=False)
    def reroll(
        self, project_id: str, shot_id: str, stage: str, *, who: str = "local", why: str = "re-roll requested"
    ) -> None:
        """Ask for one more take of ``stage`` on the next run, rejecting the current one. Logged with ``who``."""
        with self.db.session() as s, s.begin():
            shot = s.scalar(
                select(ShotRow).where(ShotRow.project_id == project_id, ShotRow.shot_id == shot_id)
            )
            if shot is None:
                raise LedgerError(f"unknown shot {shot_id}")
            current = shot.still_take_id if stage == "still" else shot.clip_take_id
            s.add(
                ReviewEventRow(
                    project_id=project_id,
                    shot_id=shot_id,
                    take_id=current,
                    action="reroll",
                    who=who,
                    note=stage,
                )
            )
            if current is not None:
                t = s.get(TakeRow, current)
                if t is not None:
                    t.review, t.review_note = "rejected", why
            _grant_retake(shot, stage, f"{stage} {why}")

    @retried(rerun_after_commit=False)
    def grant_retry(
        self, project_id: str, shot_id: str, stage: str, takes: int, *, who: str = "local"
    ) -> None:
        """``goldenchain retry``: a shot that used up its takes gets ``takes`` new ones of ``stage`` (a still
        brings a new clip too)."""
        with self.db.session() as s, s.begin():
            shot = s.scalar(
                select(ShotRow).where(ShotRow.project_id == project_id, ShotRow.shot_id == shot_id)
            )
            if shot is None:
                raise LedgerError(f"unknown shot {shot_id}")
            _grant_retake(shot, stage, f"retry from the {stage}: {takes} new take(s)", takes)
            s.add(ReviewEventRow(project_id=project_id, shot_id=shot_id, action="retry", who=who, note=stage))

    @retried(rerun_after_commit=False)
    def choose_take(self, take_id: int, *, who: str = "local") -> Take:
        """A person puts this take in the cut (instead of the last one that passed). A clip brings its own
        still along and makes the shot done; a still is chosen only with a clip made from it, or before any clip
        exists (then the next run makes the clip from it)."""
        with self.db.session() as s, s.begin():
            t = s.get(TakeRow, take_id)
            if t is None or t.state != "downloaded":
                raise LedgerError("only a downloaded take can be chosen")
            shot = s.scalar(
                select(ShotRow).where(ShotRow.project_id == t.project_id, ShotRow.shot_id == t.shot_id)
            )
            assert shot is not None
            if t.stage == "draft":
                self._choose_draft(s, t, shot, who)
            elif t.stage == "clip":
                t.review = "approved"
                check_move(shot.status, "done")
                shot.clip_take_id, shot.still_take_id = t.id, t.parent_take_id
                shot.status, shot.stage = "done", "done"
                shot.detail = f"clip take {t.take_no} chosen in review by {who}"
            else:
                clip = s.scalar(
                    select(TakeRow)
                    .where(TakeRow.parent_take_id == t.id, TakeRow.state == "downloaded")
                    .where(TakeRow.review.is_(None) | (TakeRow.review != "rejected"))
                    .order_by(TakeRow.take_no.desc())
                )
                if clip is None and shot.clip_take_id is not None:
                    raise LedgerError(
                        "no clip was made from this still: re-roll the clip from it, or choose one of its clips"
                    )
                shot.still_take_id = t.id
                t.review = "approved"
                if clip is not None:
                    check_move(shot.status, "done")
                    shot.clip_take_id, shot.status, shot.stage = clip.id, "done", "done"
                shot.detail = f"still take {t.take_no} chosen in review by {who}"
            s.add(
                ReviewEventRow(
                    project_id=t.project_id, shot_id=t.shot_id, take_id=t.id, action="chosen", who=who
                )
            )
        return self.take(take_id)

    @staticmethod
    def _choose_draft(s: Any, t: TakeRow, shot: ShotRow, who: str) -> None:
        """A person chooses the draft the final still is made from: it alone among the shot's drafts is marked
        approved. A final still made from another draft is dropped (with its clip): the next run makes the
        still from this one, then the clip."""
        for other in s.scalars(
            select(TakeRow).where(
                TakeRow.project_id == t.project_id,
                TakeRow.shot_id == t.shot_id,
                TakeRow.stage == "draft",
                TakeRow.review == "approved",
                TakeRow.id != t.id,
            )
        ):
            other.review = None
        t.review = "approved"
        detail = f"draft {t.take_no} chosen in review by {who}: the next run makes the final still from it"
        still = s.get(TakeRow, shot.still_take_id) if shot.still_take_id is not None else None
        if still is not None and still.parent_take_id != t.id:
            _grant_retake(shot, "still", detail, 0)
        else:
            shot.detail = detail

    @retried(rerun_after_commit=False)
    def log_review(self, project_id: str, shot_id: str, action: str, *, who: str, note: str | None) -> None:
        """A review write that lives outside the ledger's own rows (a prompt edited in the shot list)."""
        with self.db.session() as s, s.begin():
            s.add(ReviewEventRow(project_id=project_id, shot_id=shot_id, action=action, who=who, note=note))

    @retried()
    def version(self, project_id: str) -> str:
        """Changes whenever a shot's state, a take's state or verdict, or a review changes: what live views
        poll for (a digest, since timestamps may hold only whole seconds)."""
        import hashlib

        h = hashlib.sha256()
        with self.db.read_session() as s:
            for row in s.execute(
                select(
                    ShotRow.shot_id,
                    ShotRow.status,
                    ShotRow.stage,
                    ShotRow.detail,
                    ShotRow.still_take_id,
                    ShotRow.clip_take_id,
                ).where(ShotRow.project_id == project_id)
            ):
                h.update(repr(tuple(row)).encode())
            for trow in s.execute(
                select(TakeRow.id, TakeRow.state, TakeRow.verdict, TakeRow.review, TakeRow.cost_usd).where(
                    TakeRow.project_id == project_id
                )
            ):
                h.update(repr(tuple(trow)).encode())
            h.update(
                repr(
                    s.scalar(
                        select(func.max(ReviewEventRow.id)).where(ReviewEventRow.project_id == project_id)
                    )
                ).encode()
            )
        return h.hexdigest()[:16]

    @retried()
    def review_events(self, project_id: str, shot_id: str | None = None) -> list[ReviewEventRow]:
        """Every review write, oldest first (one shot's, or the project's)."""
        q = select(ReviewEventRow).where(ReviewEventRow.project_id == project_id)
        if shot_id is not None:
            q = q.where(ReviewEventRow.shot_id == shot_id)
        with self.db.read_session() as s:
            return list(s.scalars(q.order_by(ReviewEventRow.id)))

    @retried()
    def take_records(
        self, project_id: str, shot_id: str | None = None, *, take_id: int | None = None
    ) -> list[TakeRecord]:
        """The project's takes (one shot's, or one take) as every surface shows them: with their checks and
        whether the cut uses them; three reads, whatever the number of takes."""
        takes = [t for t in self.takes(project_id, shot_id) if take_id is None or t.id == take_id]
        chosen = {
            i for r in self.shots(project_id) for i in (r.still_take_id, r.clip_take_id) if i is not None
        }
        checks: dict[int, list[Check]] = {}
        q = (
            select(CheckRow)
            .join(TakeRow, TakeRow.id == CheckRow.take_id)
            .where(TakeRow.project_id == project_id)
        )
        if take_id is not None:
            q = q.where(CheckRow.take_id == take_id)
        elif shot_id is not None:
            q = q.where(TakeRow.shot_id == shot_id)
        with self.db.read_session() as s:
            for c in s.scalars(q.order_by(CheckRow.id)):
                check = Check(c.name, c.verdict, c.score, c.threshold, c.direction, c.message)  # type: ignore[arg-type]
                checks.setdefault(c.take_id, []).append(check)
        return [_record(t, checks.get(t.id, []), t.id in chosen) for t in takes]

    @retried()
    def checks(self, take_id: int) -> list[CheckRow]:
        with self.db.read_session() as s:
            return list(s.scalars(select(CheckRow).where(CheckRow.take_id == take_id).order_by(CheckRow.id)))

    @retried()
    def spend(self, project_id: str) -> list[SpendRow]:
        with self.db.read_session() as s:
            return list(
                s.scalars(select(SpendRow).where(SpendRow.project_id == project_id).order_by(SpendRow.id))
            )

    @retried()
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

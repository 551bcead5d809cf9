"""The take lifecycle on the ledger: the paid boundary's reads and writes, and the artifacts they produce.

These run several times per take on the engine's hot path, so they are prebuilt Core statements on a bare
connection (no ORM session, no identity map; the compiled form of each statement is cached once). Every method
is still one short transaction (SQLite: ``BEGIN IMMEDIATE``), so a crash between two of them leaves a state the
next run can read and resume from. Reads return frozen :class:`Take` and :class:`Artifact` records.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

from sqlalchemy import Connection, Table, bindparam, delete, func, insert, select, update

from goldenchain.core.checks import CheckReport
from goldenchain.core.shotstate import check_move
from goldenchain.errors import BudgetExceeded, DatabaseUnavailable, LedgerError
from goldenchain.store.db import Database, retried
from goldenchain.store.records import Artifact, BudgetCaps, Take, today
from goldenchain.store.records import take_record as _take
from goldenchain.store.schema import (
    ArtifactRow,
    CheckRow,
    ProviderCallRow,
    QuoteRow,
    ShotRow,
    SpendRow,
    TakeRow,
)

__all__ = ["ACTIVE_SPEND", "Artifact", "BudgetCaps", "Take", "TakeLedger", "move_shot", "today"]

ACTIVE_SPEND = ("reserved", "committed")

_T = cast(Table, TakeRow.__table__)
_A = cast(Table, ArtifactRow.__table__)
_S = cast(Table, SpendRow.__table__)
_C = cast(Table, CheckRow.__table__)
_P = cast(Table, ProviderCallRow.__table__)
_SH = cast(Table, ShotRow.__table__)


# --- prebuilt statements ---------------------------------------------------------------------------------
_TAKE_BY_ID = select(_T).where(_T.c.id == bindparam("tid"))
_TAKE_BY_KEY = select(_T).where(_T.c.idempotency_key == bindparam("key"))
_INSERT_TAKE = insert(_T).returning(*_T.c)
#: the SET clause comes from the keys of the parameters (one compiled form per key set, cached); ``updated_at``
#: is set by its column's ``onupdate``
_UPDATE_TAKE = update(_T).where(_T.c.id == bindparam("tid"))
_UPDATE_TAKE_RETURNING = _UPDATE_TAKE.returning(*_T.c)
_LOG = insert(_P)
_SPEND_BY_TAKE = select(_S.c.id).where(_S.c.take_id == bindparam("tid"))
_INSERT_SPEND = insert(_S)
_UPDATE_SPEND = update(_S).where(_S.c.take_id == bindparam("tid"))
_RELEASE = (
    update(_S).where(_S.c.take_id == bindparam("tid"), _S.c.state == "reserved").values(state="released")
)
_ARTIFACT = select(_A).where(_A.c.sha256 == bindparam("sha"))
_INSERT_ARTIFACT = insert(_A)
_UPDATE_ARTIFACT = update(_A).where(_A.c.sha256 == bindparam("sha"))
_DELETE_CHECKS = delete(_C).where(_C.c.take_id == bindparam("tid"), _C.c.kind == bindparam("kind"))
_INSERT_CHECK = insert(_C)
SHOT_UPDATE = update(_SH).where(_SH.c.project_id == bindparam("pid"), _SH.c.shot_id == bindparam("sid"))
_SHOT_STATUS = select(_SH.c.status).where(
    _SH.c.project_id == bindparam("pid"), _SH.c.shot_id == bindparam("sid")
)


def move_shot(c: Any, project_id: str, shot_id: str, fields: dict[str, Any]) -> None:
    """The one write of a shot's state: a new ``status`` must be a move the shot machine allows
    (:mod:`goldenchain.core.shotstate`)."""
    if "status" in fields:
        old = c.execute(_SHOT_STATUS, {"pid": project_id, "sid": shot_id}).scalar()
        if old is None:
            raise LedgerError(f"unknown shot {shot_id}")
        check_move(old, fields["status"])
    if c.execute(SHOT_UPDATE, {"pid": project_id, "sid": shot_id, **fields}).rowcount == 0:
        raise LedgerError(f"unknown shot {shot_id}")


def _used(cond: Any) -> Any:
    return select(func.coalesce(func.sum(_S.c.usd), 0.0)).where(cond, _S.c.state.in_(ACTIVE_SPEND))


_USED_BY_PROJECT = _used(_S.c.project_id == bindparam("v"))
_USED_BY_CLIENT = _used(_S.c.client == bindparam("v"))
_USED_BY_DAY = _used(_S.c.day == bindparam("v"))
_USED_BY_MONTH = _used(_S.c.day.like(bindparam("v")))
_USED_BY_RUN = _used(_S.c.run_id == bindparam("v"))
_Q = cast(Table, QuoteRow.__table__)
_QUOTE = select(_Q.c.status, _Q.c.expires_at).where(_Q.c.id == bindparam("qid"))


P = ParamSpec("P")
L = TypeVar("L", bound="TakeLedger")


def _kept(fn: Callable[Concatenate[L, int, P], None]) -> Callable[Concatenate[L, int, P], None]:
    """A write of what a provider answered to a create (accepted, refused, or in doubt). Only this process
    knows that answer, so when the database stays away past the store's wait the write is kept here, by
    take, and done before that take is next read (:meth:`TakeLedger.get_or_create_take`, where the step that
    runs again starts) instead of the take's state being guessed from a ledger that missed it."""

    @functools.wraps(fn)
    def inner(self: L, take_id: int, /, *args: P.args, **kwargs: P.kwargs) -> None:
        try:
            fn(self, take_id, *args, **kwargs)
        except DatabaseUnavailable:
            self.unwritten.setdefault(take_id, []).append(lambda: fn(self, take_id, *args, **kwargs))
            raise

    return inner


class TakeLedger:
    """The take and artifact half of :class:`goldenchain.store.ledger.Ledger`."""

    db: Database
    #: take id -> writes the database could not take yet, in order (see :func:`_kept`)
    unwritten: dict[int, list[Callable[[], None]]]

    # --- reads -------------------------------------------------------------------------------------------

    @retried()
    def take(self, take_id: int) -> Take:
        with self.db.read() as c:
            row = c.execute(_TAKE_BY_ID, {"tid": take_id}).first()
        if row is None:
            raise LedgerError(f"unknown take {take_id}")
        return _take(row)

    @retried()
    def takes(self, project_id: str, shot_id: str | None = None) -> list[Take]:
        q = select(_T).where(_T.c.project_id == project_id)
        if shot_id is not None:
            q = q.where(_T.c.shot_id == shot_id)
        with self.db.read() as c:
            rows = c.execute(q.order_by(_T.c.shot_id, _T.c.stage.desc(), _T.c.take_no)).all()
        return [_take(r) for r in rows]

    @retried()
    def artifact(self, sha256: str) -> Artifact | None:
        with self.db.read() as c:
            row = c.execute(_ARTIFACT, {"sha": sha256}).first()
        return None if row is None else Artifact(**row._mapping)

    @retried()
    def budget_used(self, project_id: str, client: str, day: str | None = None) -> dict[str, float]:
        """What each cap has used (committed and reserved), as the paid boundary counts it."""
        day = day or today()
        with self.db.read() as c:
            return {
                "project": float(c.execute(_USED_BY_PROJECT, {"v": project_id}).scalar() or 0.0),
                "client": float(c.execute(_USED_BY_CLIENT, {"v": client}).scalar() or 0.0),
                "day": float(c.execute(_USED_BY_DAY, {"v": day}).scalar() or 0.0),
                "month": float(c.execute(_USED_BY_MONTH, {"v": day[:7] + "%"}).scalar() or 0.0),
            }

    # --- the paid boundary -------------------------------------------------------------------------------

    def get_or_create_take(self, key: str, **fields: Any) -> Take:
        """The take with this key, created (``pending``) on first sight; writes kept for it while the database
        was away are done first."""
        t = self._get_or_create_take(key, **fields)
        pending = self.unwritten.pop(t.id, None)
        if not pending:
            return t
        for i, write in enumerate(pending):
            try:
                write()
            except DatabaseUnavailable:
                self.unwritten[t.id] = pending[i:]
                raise
        return self.take(t.id)

    @retried()
    def _get_or_create_take(self, key: str, **fields: Any) -> Take:
        with self.db.write() as c:
            row = c.execute(_TAKE_BY_KEY, {"key": key}).first()
            if row is None:
                row = c.execute(
                    _INSERT_TAKE, {"idempotency_key": key, "state": "pending", "submit_attempts": 0, **fields}
                ).one()
            return _take(row)

    @staticmethod
    def _log(
        c: Connection,
        take_id: int,
        op: str,
        outcome: str,
        task_id: str | None = None,
        detail: str | None = None,
    ) -> None:
        c.execute(
            _LOG,
            {"take_id": take_id, "op": op, "outcome": outcome, "provider_task_id": task_id, "detail": detail},
        )

    @staticmethod
    def _set(c: Connection, take_id: int, **values: Any) -> None:
        c.execute(_UPDATE_TAKE, {"tid": take_id, **values})

    @staticmethod
    def _ensure_artifact(
        c: Connection, sha256: str, kind: str, rel_path: str, size: int, mime: str, meta: dict[str, Any]
    ) -> None:
        """The artifact's row, added unless this content is stored already (the store is by content)."""
        if c.execute(_ARTIFACT, {"sha": sha256}).first() is None:
            c.execute(
                _INSERT_ARTIFACT,
                {
                    "sha256": sha256,
                    "kind": kind,
                    "path": rel_path,
                    "size_bytes": size,
                    "mime": mime,
                    "meta": meta,
                },
            )

    @staticmethod
    def _locked_take(c: Connection, take_id: int) -> Take:
        row = c.execute(_TAKE_BY_ID, {"tid": take_id}).first()
        if row is None:
            raise LedgerError(f"unknown take {take_id}")
        return _take(row)

    def begin_submit(self, take_id: int, run_id: str | None, client: str, caps: BudgetCaps) -> Take:
        """Intent before effect: reserve the estimate against every budget and mark the take SUBMITTING, in one
        transaction. Raises :class:`BudgetExceeded` (and marks the take ``budget_blocked``) instead.

        Run again when the database dropped the connection, even during the COMMIT: a take found SUBMITTING
        with the very attempt number this call wrote is this call's own intent, committed after all."""
        wrote: list[int] = []  # the attempt number this call's transaction wrote (before its COMMIT)
        return self.db.retrying(lambda: self._begin_submit(take_id, run_id, client, caps, wrote))

    def _begin_submit(
        self, take_id: int, run_id: str | None, client: str, caps: BudgetCaps, wrote: list[int]
    ) -> Take:
        blocked: BudgetExceeded | None = None
        with self.db.write() as c:
            if c.dialect.name == "postgresql":
                # serialise every reservation: the budget check and the insert must not interleave across
                # workers (SQLite gets the same from BEGIN IMMEDIATE)
                c.exec_driver_sql("SELECT pg_advisory_xact_lock(727001)")
            t = self._locked_take(c, take_id)
            if t.state == "submitting" and wrote and t.submit_attempts == wrote[-1]:
                return t
            if t.state not in ("pending", "budget_blocked"):
                raise LedgerError(f"take {t.idempotency_key} is {t.state}; refusing to submit it again")
            need, day = t.estimate_usd, today()
            checks: list[tuple[str, float, Any, str]] = []
            if caps.project_usd is not None:
                checks.append((f"project {t.project_id}", caps.project_usd, _USED_BY_PROJECT, t.project_id))
            if caps.client_usd is not None:
                checks.append((f"client {client}", caps.client_usd, _USED_BY_CLIENT, client))
            if caps.daily_usd is not None:
                checks.append((f"day {day}", caps.daily_usd, _USED_BY_DAY, day))
            if caps.monthly_usd is not None:
                checks.append((f"month {day[:7]}", caps.monthly_usd, _USED_BY_MONTH, day[:7] + "%"))
            if caps.run_usd is not None and run_id is not None:
                checks.append(("--max-cost of this run", caps.run_usd, _USED_BY_RUN, run_id))
            if caps.quote_id is not None:
                q = c.execute(_QUOTE, {"qid": caps.quote_id}).first()
                if q is None or q.status != "approved" or q.expires_at <= time.time():
                    why = "revoked" if q is not None and q.status == "revoked" else "not approved or expired"
                    self._set(c, take_id, state="budget_blocked", failure_class="budget",
                              failure_reason=f"quote {caps.quote_id} {why}")  # fmt: skip
                    self._log(c, take_id, "intent", "budget_blocked", detail=f"quote {caps.quote_id} {why}")
                    blocked = BudgetExceeded(f"quote {caps.quote_id} ({why})", 0.0, 0.0, need)
                    checks = []
            for scope, cap, stmt, value in checks:
                used = float(c.execute(stmt, {"v": value}).scalar() or 0.0)
                if used + need > cap + 1e-9:
                    self._set(
                        c,
                        take_id,
                        state="budget_blocked",
                        failure_class="budget",
                        failure_reason=f"budget {scope} would be exceeded",
                    )
                    self._log(
                        c, take_id, "intent", "budget_blocked", detail=f"{scope}: {used:.4f}+{need:.4f}>{cap}"
                    )
                    blocked = BudgetExceeded(scope, cap, used, need)
                    break
            if blocked is None:
                spend = {"state": "reserved", "usd": need, "run_id": run_id}
                if c.execute(_SPEND_BY_TAKE, {"tid": take_id}).first() is None:
                    c.execute(
                        _INSERT_SPEND,
                        {
                            **spend,
                            "take_id": take_id,
                            "project_id": t.project_id,
                            "client": client,
                            "shot_id": t.shot_id,
                            "provider": t.provider,
                            "model": t.model,
                            "day": day,
                        },
                    )
                else:
                    c.execute(_UPDATE_SPEND, {**spend, "tid": take_id})
                attempts = t.submit_attempts + 1
                wrote.append(attempts)
                self._log(c, take_id, "intent", "submitting", detail=f"attempt {attempts}")
                row = c.execute(
                    _UPDATE_TAKE_RETURNING,
                    {
                        "tid": take_id,
                        "state": "submitting",
                        "failure_class": None,
                        "failure_reason": None,
                        "submit_attempts": attempts,
                    },
                ).one()
                t = _take(row)
        if blocked is not None:
            raise blocked
        return t

    @_kept
    @retried()
    def record_submitted(
        self, take_id: int, task_id: str, handle: dict[str, Any], how: str = "create"
    ) -> None:
        with self.db.write() as c:
            t = self._locked_take(c, take_id)
            if t.state == "submitted" and t.provider_task_id == task_id:  # recorded already (a retry)
                return
            self._set(c, take_id, state="submitted", provider_task_id=task_id, handle=handle)
            self._log(c, take_id, how, "accepted", task_id)

    @_kept
    @retried()
    def record_not_accepted(self, take_id: int, failure_class: str, reason: str, *, final: bool) -> None:
        """The provider refused the create before accepting it: nothing was billed, release the reservation."""
        with self.db.write() as c:
            self._set(
                c,
                take_id,
                state="failed" if final else "pending",
                failure_class=failure_class,
                failure_reason=reason,
            )
            c.execute(_RELEASE, {"tid": take_id})
            self._log(c, take_id, "create", f"rejected:{failure_class}", detail=reason)

    @_kept
    @retried()
    def record_needs_review(self, take_id: int, reason: str, *, result_url: str | None = None) -> None:
        """The create may have been accepted and billed, and the provider cannot be asked by our id (or its
        paid result could not be fetched). The reservation stays: a human settles it. Never resubmitted
        automatically."""
        with self.db.write() as c:
            extra = {"result_url": result_url} if result_url else {}
            self._set(
                c, take_id, state="needs_review", failure_class="ambiguous", failure_reason=reason, **extra
            )
            self._log(c, take_id, "create", "ambiguous", detail=reason)

    @retried()
    def record_task_failed(self, take_id: int, failure_class: str, reason: str) -> None:
        """The accepted task failed at the provider (not billed by Kling or fal): release."""
        with self.db.write() as c:
            t = self._locked_take(c, take_id)
            if t.state == "failed":  # a poll that ran again after a crash: already recorded
                return
            self._set(c, take_id, state="failed", failure_class=failure_class, failure_reason=reason)
            c.execute(_RELEASE, {"tid": take_id})
            self._log(c, take_id, "poll", f"failed:{failure_class}", t.provider_task_id, reason)

    @retried()
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
        result_url: str | None = None,
        latency_s: float | None = None,
    ) -> str:
        """The result is on our disk and hashed: only now is the take done and its cost committed. The
        provider's result URL (from the poll that saw the task succeed) and the task's latency (acceptance to
        the result on disk) are written in the same transaction.

        Returns the take's artifact hash. A take downloaded before (a step that ran again after a crash)
        keeps its first artifact and cost."""
        with self.db.write() as c:
            t = self._locked_take(c, take_id)
            if t.state == "downloaded" and t.artifact_sha256:
                return t.artifact_sha256
            self._ensure_artifact(c, sha256, kind, rel_path, size, mime, meta)
            self._set(
                c,
                take_id,
                state="downloaded",
                artifact_sha256=sha256,
                cost_usd=cost_usd,
                billed_units=billed_units,
                unit=unit,
                result_url=result_url or t.result_url,
                latency_s=None if latency_s is None else round(latency_s, 3),
            )
            c.execute(
                _UPDATE_SPEND,
                {"tid": take_id, "state": "committed", "usd": cost_usd, "credits": credits},
            )
            logs: list[tuple[str, str, str | None]] = [("poll", "succeeded", None)] if result_url else []
            logs.append(("download", "stored", sha256))
            c.execute(
                _LOG,
                [
                    {
                        "take_id": take_id,
                        "op": op,
                        "outcome": out,
                        "provider_task_id": t.provider_task_id,
                        "detail": d,
                    }
                    for op, out, d in logs
                ],
            )
        return sha256

    @retried()
    def record_checks(
        self,
        take_id: int,
        kind: str,
        report: CheckReport,
        *,
        shot: tuple[str, str, dict[str, Any]] | None = None,
    ) -> None:
        """The verdict of every check of ``kind`` on a take; with ``shot`` = (project, shot id, fields), the
        shot's next state is written in the same transaction."""
        with self.db.write() as c:
            t = self._locked_take(c, take_id)
            c.execute(_DELETE_CHECKS, {"tid": take_id, "kind": kind})
            if report.checks:
                c.execute(
                    _INSERT_CHECK,
                    [
                        {
                            "take_id": take_id,
                            "kind": kind,
                            "name": ch.name,
                            "verdict": ch.verdict,
                            "score": float(ch.score),
                            "threshold": float(ch.threshold),
                            "direction": ch.direction,
                            "message": ch.message,
                        }
                        for ch in report.checks
                    ],
                )
            verdict = "reject" if report.verdict == "error" else report.verdict
            values: dict[str, Any] = {"verdict": verdict}
            if verdict == "reject":
                values["failure_class"] = "gate_reject" if kind == "image" else "qc_reject"
                values["failure_reason"] = "; ".join(report.reasons)[:2000]
            elif t.failure_class in ("gate_reject", "qc_reject"):  # re-checked (new thresholds), now passes
                values["failure_class"] = values["failure_reason"] = None
            self._set(c, take_id, **values)
            if shot is not None:
                project_id, shot_id, fields = shot
                move_shot(c, project_id, shot_id, fields)

    # --- artifacts ---------------------------------------------------------------------------------------

    @retried()
    def set_artifact_meta(self, sha256: str, **meta: Any) -> None:
        with self.db.write() as c:
            row = c.execute(_ARTIFACT, {"sha": sha256}).first()
            if row is not None:
                c.execute(_UPDATE_ARTIFACT, {"sha": sha256, "meta": {**row.meta, **meta}})

    @retried()
    def add_artifact(
        self, sha256: str, kind: str, rel_path: str, size: int, mime: str, meta: dict[str, Any]
    ) -> None:
        with self.db.write() as c:
            self._ensure_artifact(c, sha256, kind, rel_path, size, mime, meta)

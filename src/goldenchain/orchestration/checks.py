"""Durable steps between the paid stages: the image gate on a still and the clip check on a clip.

Each step also moves the shot along in the ledger (``gate`` or ``qc`` while a check runs, then the next stage,
or ``done``, in the transaction that records the verdict), so the shot workflow needs no separate step for those
marks. A person's review overrides both."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
from collections.abc import Awaitable, Callable
from typing import Any

from dbos import DBOS

from goldenchain.core.checks import CheckReport, worst_verdict
from goldenchain.orchestration.outage import outlasts_database_outage
from goldenchain.orchestration.plan import ShotPlan
from goldenchain.orchestration.results import CheckResult
from goldenchain.orchestration.runtime import Runtime, runtime
from goldenchain.store.ledger import Artifact, Take


def _reviewed(t: Take) -> CheckResult:
    """A person's decision overrides the automatic checks."""
    if t.review == "approved":
        return CheckResult("pass")
    return CheckResult("reject", (t.review_note or "no note",), by="review")


#: what the shot becomes after a verdict: the shot's ledger fields (on a reject, with its ``detail``)
Next = Callable[[CheckResult], dict[str, Any]]
#: the checks to run on a take and its artifact (calls that each return a CheckReport)
CallsFor = Callable[[Take, Artifact], Awaitable[list[Any]]]


def _mark(rt: Runtime, plan: ShotPlan, **fields: Any) -> None:
    rt.ledger.set_shot(plan.project_id, plan.shot_id, **fields)


def _with_detail(verdict: CheckResult, fields: dict[str, Any]) -> CheckResult:
    return dataclasses.replace(verdict, detail=fields.get("detail")) if verdict.rejected else verdict


async def _run_checks(
    rt: Runtime, plan: ShotPlan, take_id: int, kind: str, calls: list[Any], after: Next
) -> CheckResult:
    """Run every registered check of ``kind`` off the event loop, record them as one report with the shot's
    next state, and say whether the take may go on."""
    if calls:  # visible while the checks run
        _mark(rt, plan, stage="gate" if kind == "image" else "qc")
    reports: list[CheckReport] = [await asyncio.to_thread(call) for call in calls]
    checks = [c for r in reports for c in r.checks]
    worst = worst_verdict([r.verdict for r in reports]) if reports else "pass"
    merged = CheckReport(
        reports[0].path if reports else "",
        worst,
        sum(r.seconds for r in reports),
        checks,
        "; ".join(r.message for r in reports if r.message) or None,
    )
    bad = worst in ("reject", "error")
    verdict = (
        CheckResult("reject", tuple(merged.reasons))
        if bad
        else CheckResult("warn" if worst == "warn" else "pass")
    )
    fields = after(verdict)
    rt.ledger.record_checks(take_id, kind, merged, shot=(plan.project_id, plan.shot_id, fields))
    return _with_detail(verdict, fields)


async def _check(
    rt: Runtime, plan: ShotPlan, take_id: int, kind: str, after: Next, calls_for: CallsFor
) -> CheckResult:
    """The verdict on a downloaded take: a person's review if there is one, else the checks ``calls_for``
    builds for the take and its artifact; the shot moves on as ``after`` says."""
    t = rt.ledger.take(take_id)
    if t.review:
        verdict = _reviewed(t)
        fields = after(verdict)
        _mark(rt, plan, **fields)
        return _with_detail(verdict, fields)
    art = rt.ledger.artifact(t.artifact_sha256 or "")
    assert art is not None
    return await _run_checks(rt, plan, take_id, kind, await calls_for(t, art), after)


async def _gate_calls(rt: Runtime, plan: ShotPlan, t: Take, art: Artifact) -> list[Any]:
    g = plan.gate
    entries = rt.registry.gates["image"] if g.enabled else []
    path = rt.abs_path(art.path)
    recent: list[str] = []
    if entries:
        from goldenchain.gates.image import image_phash

        if getattr(g, "near_duplicates", True):  # a plan recorded before the setting existed compares
            recent = rt.ledger.recent_still_hashes(plan.project_id, t.shot_id)
        if "phash" not in art.meta:  # for the near-duplicate check of later stills
            rt.ledger.set_artifact_meta(art.sha256, phash=await asyncio.to_thread(image_phash, path))
    return [
        functools.partial(
            e.check,
            path,
            profile=g.profile,
            aspect=plan.shot.aspect,
            thresholds=g.thresholds,
            recent_hashes=recent,
        )
        for e in entries
    ]


async def _clip_calls(rt: Runtime, plan: ShotPlan, t: Take, art: Artifact) -> list[Any]:
    sha = t.request.get("image_sha256")  # none for text-to-video: no still to compare the first frame with
    still = rt.ledger.artifact(sha) if sha else None
    d = plan.delivery
    entries = rt.registry.gates["clip"] if plan.qc.enabled else []
    return [
        functools.partial(
            e.check,
            rt.abs_path(art.path),
            still=rt.abs_path(still.path) if still else None,
            duration=float(plan.shot.duration),
            size=(d.width, d.height),
            fps=float(d.fps),
            thresholds=plan.qc.thresholds,
        )
        for e in entries
    ]


def _by(verdict: CheckResult, check: str) -> str:
    return "in review" if verdict.by == "review" else f"by the {check}"


@DBOS.step()
@outlasts_database_outage
async def gate_still(plan: ShotPlan, take_id: int, take_no: int) -> CheckResult:
    """The image gate on a downloaded still. On a pass the shot moves on to video (unless only stills were
    asked for); on a reject it goes back to stills, with the reasons as its detail."""

    def after(verdict: CheckResult) -> dict[str, Any]:
        if verdict.rejected:
            detail = f"still take {take_no} rejected {_by(verdict, 'gate')}: {'; '.join(verdict.reasons)}"
            return {"stage": "still", "detail": detail}
        if plan.only == "stills":
            return {"stage": "gate"}
        return {"stage": "video", "still_take_id": take_id}

    rt = runtime(plan.project_id)
    return await _check(rt, plan, take_id, "image", after, functools.partial(_gate_calls, rt, plan))


@DBOS.step()
@outlasts_database_outage
async def gate_draft(plan: ShotPlan, take_id: int) -> CheckResult:
    """The image gate on a downloaded draft: information for the person who chooses, so the shot does not
    move (a draft that fails is not re-rolled; the final still made from the chosen one is gated again)."""
    rt = runtime(plan.project_id)
    return await _check(
        rt, plan, take_id, "image", lambda _: {"stage": "draft"}, functools.partial(_gate_calls, rt, plan)
    )


@DBOS.step()
@outlasts_database_outage
async def check_clip_take(
    plan: ShotPlan, take_id: int, take_no: int, still_take_id: int | None
) -> CheckResult:
    """The clip check on a downloaded clip. On a pass the shot is done; on a reject it goes back to video."""

    def after(verdict: CheckResult) -> dict[str, Any]:
        if verdict.rejected:
            detail = (
                f"clip take {take_no} rejected {_by(verdict, 'clip check')}: {'; '.join(verdict.reasons)}"
            )
            return {"stage": "video", "detail": detail}
        ids = {"clip_take_id": take_id, **({"still_take_id": still_take_id} if still_take_id else {})}
        return {"status": "done", "stage": "done", "detail": None, **ids}

    rt = runtime(plan.project_id)
    return await _check(rt, plan, take_id, "clip", after, functools.partial(_clip_calls, rt, plan))

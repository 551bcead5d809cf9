"""Durable steps between the paid stages: the image gate on a still and the clip check on a clip.

Each step also moves the shot along in the ledger (``gate`` or ``qc`` while a check runs, then the next stage,
or ``done``, in the transaction that records the verdict), so the shot workflow needs no separate step for those
marks. A person's review overrides both."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any

from dbos import DBOS

from goldenchain.core.checks import CheckReport, worst_verdict
from goldenchain.orchestration.runtime import Runtime, runtime
from goldenchain.store.ledger import Artifact, Take


def _reviewed(t: Take) -> dict[str, Any]:
    """A person's decision overrides the automatic checks."""
    if t.review == "approved":
        return {"verdict": "pass", "reasons": []}
    return {"verdict": "reject", "reasons": [t.review_note or "no note"], "by": "review"}


#: what the shot becomes after a verdict: the shot's ledger fields (it may add a ``detail`` to the verdict)
Next = Callable[[dict[str, Any]], dict[str, Any]]
#: the checks to run on a take and its artifact (calls that each return a CheckReport)
CallsFor = Callable[[Take, Artifact], Awaitable[list[Any]]]


def _mark(rt: Runtime, plan: dict[str, Any], **fields: Any) -> None:
    rt.ledger.set_shot(plan["project_id"], plan["shot"]["id"], **fields)


async def _run_checks(
    rt: Runtime, plan: dict[str, Any], take_id: int, kind: str, calls: list[Any], after: Next
) -> dict[str, Any]:
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
    verdict = {"verdict": "reject" if bad else worst, "reasons": merged.reasons if bad else []}
    shot = (plan["project_id"], plan["shot"]["id"], after(verdict))
    rt.ledger.record_checks(take_id, kind, merged, shot=shot)
    return verdict


async def _check(
    rt: Runtime, plan: dict[str, Any], take_id: int, kind: str, after: Next, calls_for: CallsFor
) -> dict[str, Any]:
    """The verdict on a downloaded take: a person's review if there is one, else the checks ``calls_for``
    builds for the take and its artifact; the shot moves on as ``after`` says."""
    t = rt.ledger.take(take_id)
    if t.review:
        verdict = _reviewed(t)
        _mark(rt, plan, **after(verdict))
        return verdict
    art = rt.ledger.artifact(t.artifact_sha256 or "")
    assert art is not None
    return await _run_checks(rt, plan, take_id, kind, await calls_for(t, art), after)


async def _gate_calls(rt: Runtime, plan: dict[str, Any], t: Take, art: Artifact) -> list[Any]:
    g = plan["gate"]
    entries = rt.registry.gates["image"] if g.get("enabled", True) else []
    path = rt.abs_path(art.path)
    recent: list[str] = []
    if entries:
        from goldenchain.gates.image import image_phash

        recent = rt.ledger.recent_still_hashes(plan["project_id"], t.shot_id)
        if "phash" not in art.meta:  # for the near-duplicate check of later stills
            rt.ledger.set_artifact_meta(art.sha256, phash=await asyncio.to_thread(image_phash, path))
    return [
        functools.partial(
            e.check,
            path,
            profile=g["profile"],
            aspect=plan["shot"]["aspect"],
            thresholds=g["thresholds"],
            recent_hashes=recent,
        )
        for e in entries
    ]


async def _clip_calls(rt: Runtime, plan: dict[str, Any], t: Take, art: Artifact) -> list[Any]:
    still = rt.ledger.artifact(t.request["image_sha256"])
    d = plan["delivery"]
    entries = rt.registry.gates["clip"] if plan["qc"].get("enabled", True) else []
    return [
        functools.partial(
            e.check,
            rt.abs_path(art.path),
            still=rt.abs_path(still.path) if still else None,
            duration=float(plan["shot"]["duration"]),
            size=(d["width"], d["height"]),
            fps=float(d["fps"]),
            thresholds=plan["qc"]["thresholds"],
        )
        for e in entries
    ]


@DBOS.step()
async def gate_still(plan: dict[str, Any], take_id: int, take_no: int) -> dict[str, Any]:
    """The image gate on a downloaded still. On a pass the shot moves on to video (unless only stills were
    asked for); on a reject it goes back to stills, with the reasons as its detail."""

    def after(verdict: dict[str, Any]) -> dict[str, Any]:
        if verdict["verdict"] == "reject":
            by = "in review" if verdict.get("by") == "review" else "by the gate"
            verdict["detail"] = f"still take {take_no} rejected {by}: {'; '.join(verdict['reasons'])}"
            return {"stage": "still", "detail": verdict["detail"]}
        if plan.get("only") == "stills":
            return {"stage": "gate"}
        return {"stage": "video", "still_take_id": take_id}

    rt = runtime(plan["project_id"])
    return await _check(rt, plan, take_id, "image", after, functools.partial(_gate_calls, rt, plan))


@DBOS.step()
async def check_clip_take(
    plan: dict[str, Any], take_id: int, take_no: int, still_take_id: int
) -> dict[str, Any]:
    """The clip check on a downloaded clip. On a pass the shot is done; on a reject it goes back to video."""

    def after(verdict: dict[str, Any]) -> dict[str, Any]:
        if verdict["verdict"] == "reject":
            reasons = "; ".join(verdict["reasons"])
            by = "in review" if verdict.get("by") == "review" else "by the clip check"
            verdict["detail"] = f"clip take {take_no} rejected {by}: {reasons}"
            return {"stage": "video", "detail": verdict["detail"]}
        ids = {"still_take_id": still_take_id, "clip_take_id": take_id}
        return {"status": "done", "stage": "done", "detail": None, **ids}

    rt = runtime(plan["project_id"])
    return await _check(rt, plan, take_id, "clip", after, functools.partial(_clip_calls, rt, plan))

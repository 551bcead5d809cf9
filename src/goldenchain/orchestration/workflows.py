"""Durable workflows: one per shot, and one per paid take on its provider's queue."""

from __future__ import annotations

from typing import Any

from dbos import DBOS, SetWorkflowID

from goldenchain.core.failures import blocked_detail
from goldenchain.orchestration.awaiting import announce_end, await_workflow
from goldenchain.orchestration.checks import check_clip_take, gate_draft, gate_still
from goldenchain.orchestration.hints import fallback_interval
from goldenchain.orchestration.plan import ShotPlan
from goldenchain.orchestration.results import (
    PollResult,
    ShotResult,
    ShotStatus,
    StartResult,
    TakeOutcome,
    TakeResult,
)
from goldenchain.orchestration.steps import pick_draft, poll_take, prepare_take, set_shot_state, start_take

MAX_SUBMIT_RETRIES = 8


def queue_name(provider: str) -> str:
    """``gc-<route>``, or ``gc-gpu`` for every route registered on the GPU queue (the local routes)."""
    from goldenchain.plugins.manager import get_registry

    return f"gc-{get_registry().queue_of(provider)}"


def _blocked_take(sub: StartResult, take_no: int, stage: str, plan: ShotPlan) -> TakeResult:
    cls = sub.failure_class or "outage"
    reason = sub.reason or "the provider did not accept the create in time"
    detail = blocked_detail(cls, plan.provider_for(stage), reason)
    return TakeResult(take_no, "blocked", sub.take_id, failure_class=cls, reason=reason, detail=detail)


async def _start(plan: ShotPlan, stage: str, take_no: int, parent_take_id: int | None) -> StartResult:
    """The start step until it is not ``retry``: an environment failure is waited out, up to ``[engine]
    blocked_after`` seconds (measured on recorded step results only, so a replay waits the same)."""
    sub = StartResult("retry")
    blocked_after = plan.engine.blocked_after
    since: float | None = None  # when the environment first failed this take
    for _ in range(MAX_SUBMIT_RETRIES):
        sub = await start_take(plan, stage, take_no, parent_take_id)
        if sub.outcome != "retry":
            break
        if sub.at is not None:
            since = since if since is not None else sub.at
            if sub.at - since >= blocked_after:
                break
        await DBOS.sleep_async(min(60.0, sub.retry_after or 5.0, max(0.5, blocked_after / 4)))
    return sub


@DBOS.workflow()
async def paid_take(plan: ShotPlan, stage: str, take_no: int, parent_take_id: int | None) -> TakeResult:
    """start (find or create, intent first, create call) -> polls, each at its due time -> download and hash.

    Two steps per take on the happy path: the start, and the poll that downloads. A poll's due time comes from
    recorded outputs (the acceptance, then each poll's end), so it is the same when a step runs again after a
    crash; the step waits for it itself, which records one operation per poll instead of a sleep and a poll."""
    announce_end()
    sub = await _start(plan, stage, take_no, parent_take_id)
    if sub.outcome == "retry":  # the environment did not come back in time: the take is not used up
        return _blocked_take(sub, take_no, stage, plan)
    take_id = sub.take_id
    if sub.outcome == "ok":
        return TakeResult(take_no, "ok", take_id, sha256=sub.sha256)
    if sub.outcome != "submitted":
        return TakeResult(take_no, sub.outcome, take_id, None, sub.failure_class, sub.reason, sub.detail)
    task = sub.task
    assert task is not None and take_id is not None

    # a take created with a callback is woken by it; polling is then only the fallback, and slow
    interval = fallback_interval(plan.engine) if task.hook else plan.engine.poll_interval
    max_polls = max(1, int(plan.engine.poll_timeout / interval))
    # no provider's task is done the moment it is accepted: wait, then ask; a local render is (``ready``)
    due = task.accepted_at + (0.0 if task.handle.get("ready") else interval)
    env_since: float | None = None
    for _ in range(max_polls):
        st: PollResult = await poll_take(plan, take_id, task, due)
        if st.state == "pending":
            at = st.at or due
            due = at + interval
            if st.env is None:
                env_since = None
                continue
            env_since = env_since if env_since is not None else at
            if at - env_since < plan.engine.blocked_after:
                continue
            # the provider cannot be reached: the task stays submitted (paid) and the next run polls it again
            st = PollResult("blocked", failure_class=st.env, reason=st.reason or "")
        if st.state == "blocked":
            cls, why = st.failure_class or "outage", st.reason or ""
            detail = blocked_detail(cls, task.provider, why)
            return TakeResult(take_no, "blocked", take_id, failure_class=cls, reason=why, detail=detail)
        if st.state == "downloaded":
            return TakeResult(take_no, "ok", take_id, sha256=st.sha256)
        outcome: TakeOutcome = "stop" if st.state == "stop" else "failed"
        return TakeResult(take_no, outcome, take_id, failure_class=st.failure_class, reason=st.reason)
    return TakeResult(
        take_no, "failed", take_id, failure_class="timeout", reason="the task did not finish in time"
    )


def _end_of(res: TakeResult, label: str, failures: list[str]) -> tuple[ShotStatus, str | None] | None:
    """What a take that did not come back ok means for its shot: None to try the next take, else the shot's
    end (status, detail). The environment blocks or a budget stops the shot; a take's own failure is added to
    ``failures`` and ends the shot unless another take may succeed."""
    if res.outcome == "blocked":
        return "blocked", res.detail
    if res.outcome == "stop":
        return "stopped", f"{res.failure_class}: {res.reason}"
    failures.append(res.describe(label))
    return None if res.retakeable else ("failed", failures[-1])


async def _take(plan: ShotPlan, stage: str, take_no: int, parent: int | None) -> TakeResult:
    provider = plan.provider_for(stage)
    queue = await DBOS.retrieve_queue_async(queue_name(provider))
    assert queue is not None, f"queue {queue_name(provider)} is not registered"
    with SetWorkflowID(f"{DBOS.workflow_id}/{stage}/{take_no}"):
        handle = await queue.enqueue_async(paid_take, plan, stage, take_no, parent)
    result: TakeResult = await await_workflow(handle)
    return result


async def _finish(
    plan: ShotPlan, status: ShotStatus, stage: str, detail: str | None = None, **ids: Any
) -> ShotResult:
    await set_shot_state(plan, status=status, stage=stage, detail=detail, **ids)
    return ShotResult(plan.shot_id, status, stage, detail, **ids)


@DBOS.workflow()
async def shot_workflow(plan: ShotPlan) -> ShotResult:
    """still -> image gate -> (re-roll with a new seed on reject) -> image-to-video -> clip check; or, for a
    text-to-video project, the clips alone; or, in a draft run, the drafts alone. A shot with drafts makes its
    still from the chosen one (its prompt and seed, with the final model)."""
    announce_end()
    if plan.from_text:
        await set_shot_state(plan, status="running", stage="video", detail=None)
        return await _clips(plan, None, [])
    if plan.drafts:
        return await _drafts(plan)
    failures: list[str] = []

    async def finish(status: ShotStatus, stage: str, detail: str | None = None, **ids: Any) -> ShotResult:
        return await _finish(plan, status, stage, detail, **ids)

    draft = await pick_draft(plan)
    source = draft.take_id if draft is not None else None
    await set_shot_state(
        plan, status="running", stage="still", detail=draft.describe() if draft is not None else None
    )
    still: TakeResult | None = None
    for n in range(1, plan.stills.max_takes + 1):
        if plan.only == "clips":
            prep = await prepare_take(plan, "still", n, source)
            if prep.state != "downloaded":
                return await finish(
                    "failed", "still", "--only clips: no accepted still yet (run --only stills first)"
                )
        res = await _take(plan, "still", n, source)
        if res.outcome != "ok":
            end = _end_of(res, "still", failures)
            if end is None:
                continue
            return await finish(end[0], "still", end[1])
        assert res.take_id is not None
        verdict = await gate_still(plan, res.take_id, n)  # also moves the shot to video, or back
        if not verdict.rejected:
            still = res
            break
        failures.append(verdict.detail or "")
    if still is None or still.take_id is None:
        return await finish(
            "failed", "gate", f"no still passed after {plan.stills.max_takes} takes: " + " | ".join(failures)
        )
    if plan.only == "stills":
        return await finish("stills_done", "gate", None, still_take_id=still.take_id)
    return await _clips(plan, still.take_id, failures)


async def _drafts(plan: ShotPlan) -> ShotResult:
    """``run --draft``: ``[stills] draft_takes`` drafts with the draft model, each with its own seed, each
    through the image gate (for the person who chooses); then the shot waits for that choice. No video."""
    await set_shot_state(plan, status="running", stage="draft", detail=None)
    made, passed = 0, 0
    failures: list[str] = []
    for n in range(1, plan.stills.draft_takes + 1):
        res = await _take(plan, "draft", n, None)
        if res.outcome != "ok":
            end = _end_of(res, "draft", failures)
            if end is None:
                continue
            return await _finish(plan, end[0], "draft", end[1])
        assert res.take_id is not None
        made += 1
        passed += not (await gate_draft(plan, res.take_id)).rejected
    if not made:
        return await _finish(plan, "failed", "draft", "no draft was made: " + " | ".join(failures))
    detail = (
        f"{made} draft(s), {passed} passed the gate: choose one in the review app (goldenchain review) or "
        f"with goldenchain use {plan.shot_id} --draft N; the next goldenchain run makes the final still from it"
    )
    return await _finish(plan, "drafts_ready", "draft", detail)


async def _clips(plan: ShotPlan, still_id: int | None, failures: list[str]) -> ShotResult:
    """Clip takes until one passes the clip check: from the still ``still_id``, or from text when None."""
    ids: dict[str, Any] = {"still_take_id": still_id} if still_id is not None else {}

    async def finish(status: ShotStatus, stage: str, detail: str | None = None) -> ShotResult:
        return await _finish(plan, status, stage, detail, **ids)

    for n in range(1, plan.video.max_takes + 1):
        res = await _take(plan, "clip", n, still_id)
        if res.outcome != "ok":
            end = _end_of(res, "clip", failures)
            if end is None:
                continue
            return await finish(end[0], "video", end[1])
        assert res.take_id is not None
        verdict = await check_clip_take(plan, res.take_id, n, still_id)  # a pass marks it done
        if not verdict.rejected:
            return ShotResult(plan.shot_id, "done", "done", None, still_id, res.take_id)
        failures.append(verdict.detail or "")
        if plan.qc.on_reject == "review" and verdict.by != "review":
            # the project's policy: a person looks at the clip the check rejected before more is spent
            return await finish("needs_review", "qc", verdict.detail)
    return await finish(
        "failed", "qc", f"no clip passed after {plan.video.max_takes} takes: " + " | ".join(failures)
    )

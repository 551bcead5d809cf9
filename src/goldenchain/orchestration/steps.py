"""Durable steps of the chain. Each is safe to run again after a crash: it reads the ledger first and only
ever moves a take forward. The paid boundary follows one rule: intent in the ledger before the create call,
the provider's task id in the ledger right after acceptance, reconciliation by our own id after a doubt."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import Any

from dbos import DBOS

from goldenchain.core.drafts import choose_draft
from goldenchain.core.failures import Breaker, blocked_detail
from goldenchain.core.keys import take_key
from goldenchain.core.pricing import actual_usd, clip_price, still_price
from goldenchain.crashpoints import crashpoint
from goldenchain.errors import (
    AuthError,
    BillingError,
    BudgetExceeded,
    DatabaseUnavailable,
    InvalidInput,
    ModerationError,
    ProviderError,
    ProviderTimeout,
    ProviderUnreachable,
    RateLimited,
    ResultExpired,
    SubmissionUncertain,
)
from goldenchain.media import media_meta
from goldenchain.orchestration.interrupt import finish_before_cancel
from goldenchain.orchestration.outage import outlasts_database_outage
from goldenchain.orchestration.plan import ShotPlan
from goldenchain.orchestration.results import (
    DraftPick,
    EnvClass,
    PollResult,
    PrepareResult,
    StartOutcome,
    StartResult,
    TaskRef,
)
from goldenchain.orchestration.runtime import Runtime, runtime
from goldenchain.providers.base import (
    Camera,
    ClipRequest,
    Failed,
    Pending,
    StillRequest,
    Submitted,
    Succeeded,
    TextClipRequest,
)
from goldenchain.store.ledger import Take

#: environment failures no waiting mends: the shot is blocked at once, the take is not used up
STOP_CLASSES = (BillingError, AuthError)
#: environment failures that may pass: waited out (up to [engine] blocked_after), then the shot is blocked
TRANSIENT_CLASSES = (ProviderUnreachable, ProviderTimeout)


def take_seed(base: int, take_no: int) -> int:
    return (base + (take_no - 1) * 7919) % (2**32)


#: the stages whose takes are stills (text-to-image): a draft, and the final still
STILL_STAGES = ("still", "draft")


def _still_inputs(plan: ShotPlan, stage: str, take_no: int, draft: Take | None) -> dict[str, Any]:
    """What a still take asks for. A draft: the draft model; a final still made from a draft: the draft's own
    prompt and seed (its composition) with the final model, the seed moving on only for a re-roll."""
    st = plan.stills
    model = st.draft_model if stage == "draft" else st.model
    assert model is not None  # a draft plan has its draft model resolved
    prompt, base = (
        (draft.request["prompt"], draft.seed) if draft is not None else (plan.shot.prompt, plan.seed)
    )
    assert base is not None
    return {
        "prompt": prompt,
        "width": st.width,
        "height": st.height,
        "model": model,
        "seed": take_seed(base, take_no),
    }


def _clip_inputs(plan: ShotPlan, parent_sha: str | None) -> dict[str, Any]:
    """What a clip take asks for; text-to-video (no ``parent_sha``) has no start frame and so no image key."""
    shot, v = plan.shot, plan.video
    image = {"image_sha256": parent_sha} if parent_sha is not None else {}
    return {
        "prompt": shot.video_prompt or shot.prompt,
        **image,
        "duration": shot.duration,
        "aspect": shot.aspect,
        "model": v.model,
        "mode": v.mode,
        "camera": shot.camera.model_dump(),
        "motion": shot.motion,
        "negative_prompt": shot.negative_prompt or v.negative_prompt,
        "cfg_scale": v.cfg_scale,
    }


def _find_or_create(
    rt: Runtime, plan: ShotPlan, stage: str, take_no: int, parent_take_id: int | None
) -> Take:
    """The ledger row of this take, created on first sight. Its key fixes what is asked for, once and for
    all: finding it again after a crash gives the same row, never a second take."""
    shot = plan.shot
    if stage in STILL_STAGES:  # a still's parent is the draft it is made from (None: from the shot's prompt)
        draft = rt.ledger.take(parent_take_id) if parent_take_id is not None else None
        inputs = _still_inputs(plan, stage, take_no, draft)
        st = plan.stills
        est = still_price(st.provider, inputs["model"], st.width, st.height, plan.prices).usd
        provider, model, seed = st.provider, inputs["model"], inputs["seed"]
    else:  # a clip starts from its parent still, or from text alone (text-to-video: no parent)
        assert (parent_take_id is None) == plan.from_text
        still_sha = rt.ledger.take(parent_take_id).artifact_sha256 if parent_take_id is not None else None
        assert still_sha or plan.from_text
        inputs = _clip_inputs(plan, still_sha)
        v = plan.video
        est = clip_price(v.provider, v.model, v.mode, shot.duration, plan.prices).usd
        provider, model, seed = v.provider, v.model, None
    key = take_key(plan.project_id, shot.id, stage, take_no, inputs)
    return rt.ledger.get_or_create_take(
        key,
        project_id=plan.project_id,
        shot_id=shot.id,
        stage=stage,
        take_no=take_no,
        provider=provider,
        model=model,
        request=inputs,
        seed=seed,
        parent_take_id=parent_take_id,
        estimate_usd=est,
    )


@DBOS.step()
@outlasts_database_outage
async def prepare_take(plan: ShotPlan, stage: str, take_no: int, parent_take_id: int | None) -> PrepareResult:
    """Find (or create) the ledger row of this take, without sending anything."""
    t = _find_or_create(runtime(plan.project_id), plan, stage, take_no, parent_take_id)
    return PrepareResult(t.id, t.state, t.failure_class, t.failure_reason)


def _kind(t: Take) -> str:
    if t.stage in STILL_STAGES:
        return "t2i"
    return "i2v" if "image_sha256" in t.request else "t2v"


def _camera(r: dict[str, Any]) -> Camera | None:
    return Camera(**r["camera"]) if any(r["camera"].values()) else None


def _build_request(rt: Runtime, t: Take) -> StillRequest | ClipRequest | TextClipRequest:
    r = t.request
    if t.stage in STILL_STAGES:
        return StillRequest(
            prompt=r["prompt"],
            width=r["width"],
            height=r["height"],
            seed=r["seed"],
            model=r["model"],
            external_id=t.idempotency_key,
        )
    clip: dict[str, Any] = {
        k: r[k] for k in ("prompt", "duration", "aspect", "model", "mode", "negative_prompt")
    }
    clip |= {"external_id": t.idempotency_key, "camera": _camera(r), "cfg_scale": r["cfg_scale"]}
    if _kind(t) == "t2v":
        return TextClipRequest(**clip)
    art = rt.ledger.artifact(r["image_sha256"])
    assert art is not None
    data = rt.abs_path(art.path).read_bytes()
    # lint enforces the motion policy; Kling takes no motion amplitude
    return ClipRequest(image=data, image_mime=art.mime, motion=None, **clip)


def _hook(rt: Runtime, adapter: Any) -> str | None:
    """The receiver route that wakes this adapter's takes, now that a create went out (None: webhooks off)."""
    return str(adapter.webhooks) if rt.callback_url(adapter) else None


def _fail(outcome: StartOutcome, cls: str, reason: str) -> StartResult:
    return StartResult(outcome, failure_class=cls, reason=reason)


def _blocked(cls: str, provider: str, reason: str) -> StartResult:
    """The environment's fault: the take is not used up; the shot stops as blocked with what to do."""
    detail = blocked_detail(cls, provider, reason)
    return StartResult("blocked", failure_class=cls, reason=reason, provider=provider, detail=detail)


def _wait_env(cls: str, reason: str, retry_after: float) -> StartResult:
    """An environment failure that may pass: try the create again after ``retry_after`` seconds."""
    return StartResult("retry", failure_class=cls, reason=reason, retry_after=retry_after, at=time.time())


async def _reconcile(rt: Runtime, t: Take, adapter: Any, why: str) -> StartResult | None:
    """A create may have been accepted. Ask the provider by our own id; without that, hold for review.
    Returns a result, or None when the provider says the create never arrived (safe to send)."""
    if not adapter.lookup_by_external_id:
        rt.ledger.record_needs_review(
            t.id, f"{why}; {t.provider} cannot be asked by our id: check its console"
        )
        return _fail("failed", "ambiguous", why)
    found = await adapter.find_by_external_id(t.idempotency_key)
    if found is not None:
        rt.ledger.record_submitted(t.id, found.task_id, found.handle, how="lookup")
        return _submitted(t, found.task_id, found.handle, _hook(rt, adapter))
    rt.ledger.record_not_accepted(t.id, "ambiguous", f"{why}; provider has no task with our id", final=False)
    return None


@DBOS.step()
@outlasts_database_outage
async def start_take(plan: ShotPlan, stage: str, take_no: int, parent_take_id: int | None) -> StartResult:
    """Find or create the take, then, unless it is past that point already, reserve its estimate and send
    the create call: intent in the ledger first, the provider's task id right after acceptance."""
    return await _start(runtime(plan.project_id), plan, stage, take_no, parent_take_id)


async def _start(
    rt: Runtime, plan: ShotPlan, stage: str, take_no: int, parent_take_id: int | None
) -> StartResult:
    t = _find_or_create(rt, plan, stage, take_no, parent_take_id)
    if t.state == "downloaded":
        return StartResult("ok", take_id=t.id, sha256=t.artifact_sha256)
    out = dataclasses.replace(await _submit(rt, plan, t), take_id=t.id)
    task = out.task
    if task is not None and task.hook and rt.hub is not None:
        rt.hub.expect(task.hook, task.task_id or "")  # its callback may come before the first poll
    return out


async def _submit(rt: Runtime, plan: ShotPlan, t: Take) -> StartResult:
    take_id = t.id
    async with rt.provider(t.provider, _kind(t)) as adapter:
        if t.state == "submitted":
            return _submitted(t, t.provider_task_id, t.handle, _hook(rt, adapter))
        if t.state in ("failed", "needs_review"):
            return _fail("failed", t.failure_class or "provider_error", t.failure_reason or "")
        if t.state == "submitting":  # we crashed during the create call
            res = await _reconcile(rt, t, adapter, "interrupted during the create call")
            if res is not None:
                return res
            t = rt.ledger.take(take_id)
        request = dataclasses.replace(_build_request(rt, t), callback_url=rt.callback_url(adapter))
        try:
            adapter.check_inputs(request)
        except (InvalidInput, ValueError) as e:
            rt.ledger.record_not_accepted(take_id, "invalid_input", str(e), final=True)
            return _fail("invalid", "invalid_input", str(e))
        route = t.provider
        breaker = rt.ledger.breaker(route)
        now = time.time()
        if breaker.open_at(now):  # another take found the route down: no call, no take used up
            cls, why = breaker.failure_class or "outage", breaker.reason or "route paused"
            if breaker.waits_for_a_person():
                return _blocked(cls, route, why)
            return _wait_env(cls, why, float(breaker.until or now) - now)
        if rt.stopping:  # the run is stopping (Ctrl-C): no new create, nothing recorded
            raise asyncio.CancelledError
        try:
            t = rt.ledger.begin_submit(take_id, plan.run_id, plan.client, plan.caps.budget())
        except BudgetExceeded as e:
            return _fail("stop", "budget", str(e))
        try:
            rt.check_fence()  # team mode: a worker whose lease was taken over sends nothing (it stops here)
        except DatabaseUnavailable as e:  # nothing was sent: the intent is released (kept until written)
            rt.ledger.record_not_accepted(take_id, "database", str(e), final=False)
            raise
        # Ctrl-C while the create is in flight waits for its answer and records it, then stops: a task the
        # provider accepted is never left unknown (fal, Replicate and Together cannot be asked by our id later)
        return await finish_before_cancel(_send(rt, t, adapter, request, breaker), rt.creates_in_flight)


async def _send(
    rt: Runtime,
    t: Take,
    adapter: Any,
    request: StillRequest | ClipRequest | TextClipRequest,
    breaker: Breaker,
) -> StartResult:
    """The paid create itself, its intent already recorded: send once, record what the provider answered."""
    take_id, route = t.id, t.provider
    crashpoint("before_create", t.provider)
    try:
        sub: Submitted = await adapter.submit(request)
    except SubmissionUncertain as e:
        res = await _reconcile(rt, t, adapter, e.reason)
        return res if res is not None else StartResult("retry", retry_after=1.0)
    except RateLimited as e:
        rt.ledger.record_not_accepted(take_id, "rate_limit", e.reason, final=False)
        return _wait_env("rate_limit", e.reason, e.retry_after or 5.0)
    except STOP_CLASSES as e:  # the key or the account: nothing was made, nothing used up
        rt.ledger.record_not_accepted(take_id, e.failure_class, e.reason, final=False)
        rt.ledger.trip(route, e.failure_class, e.reason)
        return _blocked(e.failure_class, route, e.reason)
    except ProviderUnreachable as e:  # nothing was sent
        rt.ledger.record_not_accepted(take_id, "network", e.reason, final=False)
        b = rt.ledger.trip(route, "network", e.reason)
        return _wait_env("network", e.reason, max(1.0, float(b.until or 0) - time.time()))
    except ModerationError as e:
        rt.ledger.record_not_accepted(take_id, "moderation", e.reason, final=True)
        return _fail("failed", "moderation", e.reason)
    except InvalidInput as e:
        rt.ledger.record_not_accepted(take_id, "invalid_input", e.reason, final=True)
        return _fail("invalid", "invalid_input", e.reason)
    except ProviderError as e:  # 5xx before acceptance
        if adapter.lookup_by_external_id:
            res = await _reconcile(rt, t, adapter, e.reason)
            if res is not None:
                return res
        else:
            rt.ledger.record_not_accepted(take_id, "outage", e.reason, final=False)
        return _wait_env("outage", e.reason, 5.0)
    crashpoint("after_create", t.provider)
    rt.ledger.record_submitted(take_id, sub.task_id, sub.handle)
    if breaker.trips:  # the route answers again
        rt.ledger.close_breaker(route)
    return _submitted(t, sub.task_id, sub.handle, _hook(rt, adapter))


def _submitted(
    t: Take, task_id: str | None, handle: dict[str, Any] | None, hook: str | None = None
) -> StartResult:
    """What polling and the download need, carried in the start step's recorded result: no ledger read."""
    task = TaskRef(
        provider=t.provider,
        kind=_kind(t),
        stage=t.stage,
        model=t.model,
        task_id=task_id,
        handle=handle or {},
        estimate_usd=t.estimate_usd,
        accepted_at=time.time(),
        hook=hook,
    )
    return StartResult("submitted", task=task, provider=t.provider)


@DBOS.step()
@outlasts_database_outage
async def poll_take(plan: ShotPlan, take_id: int, task: TaskRef, due: float) -> PollResult:
    """At ``due`` (epoch seconds; at once if past), ask the provider once; on success download the result in
    the same step. ``task`` comes from the start step's result, so a poll reads nothing from the ledger.

    A crash during the download runs the whole step again: the provider answers the same poll with the same
    result."""
    return await _poll(runtime(plan.project_id), plan, take_id, task, due)


async def _poll(rt: Runtime, plan: ShotPlan, take_id: int, task: TaskRef, due: float) -> PollResult:
    hook, hub = task.hook, rt.hub
    wait = due - time.time()
    if hook and hub is not None and task.task_id:
        # a callback for this task ends the wait early; the query below still decides (a hint records nothing)
        await hub.wait(hook, task.task_id, wait)
    elif wait > 0:
        await asyncio.sleep(wait)
    st = await _poll_once(rt, plan, take_id, task)
    if hook and hub is not None and st.state != "pending":
        hub.forget(hook, task.task_id or "")
    return st


def _failed(cls: str, reason: str) -> PollResult:
    return PollResult("failed", failure_class=cls, reason=reason)


async def _poll_once(rt: Runtime, plan: ShotPlan, take_id: int, task: TaskRef) -> PollResult:
    provider = task.provider
    async with rt.provider(provider, task.kind) as adapter:
        try:
            st = await adapter.poll(Submitted(provider, task.task_id or "", task.handle))
        except STOP_CLASSES as e:  # the task goes on at the provider; the next run after the fix collects it
            rt.ledger.trip(provider, e.failure_class, e.reason)
            return PollResult("blocked", failure_class=e.failure_class, reason=e.reason)
        except TRANSIENT_CLASSES as e:
            return PollResult("pending", at=time.time(), reason=e.reason, env="network")
        except ProviderError as e:
            if e.retryable:
                env: EnvClass = "rate_limit" if isinstance(e, RateLimited) else "outage"
                return PollResult("pending", at=time.time(), reason=e.reason, env=env)
            rt.ledger.record_task_failed(take_id, e.failure_class, e.reason)
            return _failed(e.failure_class, e.reason)
    if isinstance(st, Pending):
        crashpoint("polling", provider)
        return PollResult("pending", at=time.time())
    if isinstance(st, Failed):
        err = st.error
        rt.ledger.record_task_failed(take_id, err.failure_class, err.reason)
        return _failed(err.failure_class, err.reason)
    assert isinstance(st, Succeeded)
    if not st.urls:
        rt.ledger.record_task_failed(take_id, "provider_error", "succeeded without a result URL")
        return _failed("provider_error", "no result URL")
    return await _download(rt, plan, take_id, task, st.urls[0], st.billed_units, st.unit)


async def _download(
    rt: Runtime,
    plan: ShotPlan,
    take_id: int,
    task: TaskRef,
    url: str,
    billed_units: float | None,
    unit: str | None,
) -> PollResult:
    """Download and hash the result before the take counts as done (provider URLs expire). The ledger gets
    the result URL with the artifact and the committed cost, in one transaction."""
    provider = task.provider
    async with rt.provider(provider, task.kind) as adapter:
        try:
            data = await adapter.download(url)
        except ResultExpired as e:
            rt.ledger.record_needs_review(take_id, f"result paid for but gone: {e.reason}", result_url=url)
            return _failed("provider_error", e.reason)
    sha, path, mime = await asyncio.to_thread(rt.store.put, data)  # it syncs the file: off the event loop
    crashpoint("downloading", provider)
    meta = await asyncio.to_thread(media_meta, data, mime)
    # the provider's own billing answer, read with the model's price rule (the estimate when it gives none)
    cost, credits = actual_usd(provider, billed_units, unit, task.estimate_usd, task.model, plan.prices)
    sha = rt.ledger.record_downloaded(
        take_id,
        sha256=sha,
        rel_path=str(path.relative_to(rt.project.root)),
        size=len(data),
        mime=mime,
        meta=meta,
        kind=task.stage,
        cost_usd=round(cost, 6),
        credits=credits,
        billed_units=billed_units,
        unit=unit,
        result_url=url,
        latency_s=time.time() - task.accepted_at,
    )
    return PollResult("downloaded", sha256=sha)


@DBOS.step()
@outlasts_database_outage
async def pick_draft(plan: ShotPlan) -> DraftPick | None:
    """The draft the shot's final still is made from: the one a person chose, else the newest that passed the
    gate; None when the shot has no usable draft (the still comes from the shot's own prompt and seed)."""
    rt = runtime(plan.project_id)
    found = choose_draft(rt.ledger.takes(plan.project_id, plan.shot_id))
    if found is None:
        return None
    t, how = found
    return DraftPick(t.id, t.take_no, how)


@DBOS.step()
@outlasts_database_outage
async def set_shot_state(plan: ShotPlan, **fields: Any) -> None:
    runtime(plan.project_id).ledger.set_shot(plan.project_id, plan.shot_id, **fields)

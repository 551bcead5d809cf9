"""The take steps' decisions, one branch at a time: ``start_take``/``poll_take`` (through ``_start``/``_poll``),
``_submit``, ``_reconcile``, ``_poll_once`` and ``_download`` of ``goldenchain.orchestration.steps`` on a real
SQLite ledger, with a scripted adapter in place of the provider's HTTP (the fault matrix runs the same steps
against the emulator over HTTP; this module pins every field the steps answer and write, fast enough to run once
per mutant of ``steps.py``: see docs/mutation.md).

Each test asserts what the step answered, what the adapter was asked (how many creates, by which id), and what
the ledger holds afterwards (the take's state and failure, its call log, the spend, the route's breaker)."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from goldenchain.config import CameraSpec, load_project
from goldenchain.core.failures import blocked_detail
from goldenchain.core.keys import take_key
from goldenchain.core.pricing import active_catalog, actual_usd, clip_price, still_price
from goldenchain.emulator.media import encode_image, render_still
from goldenchain.errors import (
    AuthError,
    BillingError,
    DatabaseUnavailable,
    InvalidInput,
    ModerationError,
    ProviderFailed,
    ProviderTimeout,
    ProviderUnreachable,
    RateLimited,
    ResultExpired,
    SubmissionUncertain,
)
from goldenchain.orchestration import steps
from goldenchain.orchestration.hints import WebhookHub
from goldenchain.orchestration.plan import Caps, ShotPlan
from goldenchain.orchestration.results import PollResult, StartResult, TaskRef
from goldenchain.orchestration.runtime import RUNTIMES, Runtime
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
from goldenchain.store.schema import ProviderCallRow, SpendRow, TakeRow
from tests.faults.harness import ROUTES, _ledger_file, _parent_still, _plan, start_frame

pytestmark = pytest.mark.timeout(60)

# -- a scripted adapter -----------------------------------------------------------------------------------


class Scripted:
    """A provider adapter that answers from scripts (a value is returned, an exception raised) and records
    what it was asked. ``lookup``: whether the provider can be asked by our own id."""

    def __init__(
        self,
        *,
        lookup: bool = True,
        submit: list[Any] | None = None,
        find: list[Any] | None = None,
        poll: list[Any] | None = None,
        download: list[Any] | None = None,
        check: Exception | None = None,
        webhooks: str | None = None,
    ) -> None:
        self.lookup_by_external_id = lookup
        self.webhooks = webhooks
        self.scripts = {
            "submit": list(submit or []),
            "find": list(find or []),
            "poll": list(poll or []),
            "download": list(download or []),
        }
        self.check = check
        self.asked: list[tuple[str, Any]] = []

    def _answer(self, op: str, arg: Any) -> Any:
        self.asked.append((op, arg))
        script = self.scripts[op]
        assert script, f"unexpected {op}"
        out = script.pop(0)
        if callable(out):  # a function of nothing, run when the call is made (it may assert what holds then)
            out = out()
        if isinstance(out, BaseException):
            raise out
        return out

    def check_inputs(self, request: Any) -> None:
        self.asked.append(("check", request))
        if self.check is not None:
            raise self.check

    async def submit(self, request: Any) -> Submitted:
        return self._answer("submit", request)  # type: ignore[no-any-return]

    async def find_by_external_id(self, external_id: str) -> Submitted | None:
        return self._answer("find", external_id)  # type: ignore[no-any-return]

    async def poll(self, submitted: Submitted) -> Any:
        return self._answer("poll", submitted)

    async def download(self, url: str) -> bytes:
        return self._answer("download", url)  # type: ignore[no-any-return]

    async def aclose(self) -> None:
        pass

    def ops(self, op: str) -> list[Any]:
        return [a for o, a in self.asked if o == op]


# -- a project with a real ledger --------------------------------------------------------------------------


@dataclasses.dataclass
class Env:
    rt: Runtime
    root: Path

    def use(self, provider: str, kind: str, adapter: Scripted) -> Scripted:
        self.rt._adapters[(provider, kind, id(asyncio.get_running_loop()))] = adapter
        return adapter

    def plan(self, route: str = "fal", **caps: float) -> ShotPlan:
        plan = _plan(self.rt, ROUTES[route])
        return plan.model_copy(update={"caps": Caps(**caps)}) if caps else plan

    def take(self, take_id: int) -> Any:
        return self.rt.ledger.take(take_id)

    def calls(self, take_id: int) -> list[tuple[str, str, str | None, str | None]]:
        q = select(ProviderCallRow).where(ProviderCallRow.take_id == take_id).order_by(ProviderCallRow.id)
        with self.rt.db.read_session() as s:
            return [(c.op, c.outcome, c.provider_task_id, c.detail) for c in s.scalars(q)]

    def spend(self, take_id: int) -> list[tuple[str, float]]:
        with self.rt.db.read_session() as s:
            return [(r.state, r.usd) for r in s.scalars(select(SpendRow).where(SpendRow.take_id == take_id))]

    def set_take(self, take_id: int, **values: Any) -> None:
        with self.rt.db.session() as s, s.begin():
            s.execute(update(TakeRow).where(TakeRow.id == take_id).values(**values))


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    from goldenchain.templates import write_example

    write_example(tmp_path, shots=1)
    project = load_project(tmp_path)
    _ledger_file(project.db_path)
    rt = Runtime.open(project)
    rt.ledger.ensure_project(
        project.id,
        project.config.project.client,
        str(tmp_path),
        [s.model_dump() for s in project.shots.shots],
    )
    RUNTIMES[project.id] = rt
    try:
        yield Env(rt, tmp_path)
    finally:
        RUNTIMES.pop(project.id, None)
        rt._adapters.clear()
        rt.db.dispose()


def accepted(task_id: str = "task-1", handle: dict[str, Any] | None = None) -> Submitted:
    return Submitted("fal", task_id, handle if handle is not None else {"status_url": f"/s/{task_id}"})


async def start(
    env: Env, plan: ShotPlan, stage: str = "still", take_no: int = 1, parent: int | None = None
) -> StartResult:
    return await steps.start_take(plan, stage, take_no, parent)


def reseed(plan: ShotPlan, n: int) -> ShotPlan:
    """The same shot with another seed: another take (its key holds the seed)."""
    return plan.model_copy(update={"shot": plan.shot.model_copy(update={"seed": plan.seed + n})})


def only_take(env: Env, stage: str = "still") -> Any:
    takes = [t for t in env.rt.ledger.takes(env.rt.project.id) if t.stage == stage]
    assert len(takes) == 1
    return takes[0]


# -- pure pieces -------------------------------------------------------------------------------------------


def test_take_seed_moves_by_a_prime_and_wraps_at_32_bits() -> None:
    assert steps.take_seed(5, 1) == 5
    assert steps.take_seed(5, 2) == 5 + 7919
    assert steps.take_seed(5, 3) == 5 + 2 * 7919
    assert steps.take_seed(2**32 - 1, 2) == 7918


def test_results_built_by_the_small_helpers() -> None:
    r = steps._fail("invalid", "invalid_input", "too wide")
    assert (r.outcome, r.failure_class, r.reason, r.retry_after) == (
        "invalid",
        "invalid_input",
        "too wide",
        None,
    )
    b = steps._blocked("auth", "kling", "bad key")
    assert (b.outcome, b.failure_class, b.reason, b.provider) == ("blocked", "auth", "bad key", "kling")
    assert b.detail == blocked_detail("auth", "kling", "bad key")
    before = time.time()
    w = steps._wait_env("network", "refused", 3.5)
    assert (w.outcome, w.failure_class, w.reason, w.retry_after) == ("retry", "network", "refused", 3.5)
    assert w.at is not None and before <= w.at <= time.time()
    f = steps._failed("moderation", "nsfw")
    assert f == PollResult("failed", failure_class="moderation", reason="nsfw")


# -- what a take asks for ------------------------------------------------------------------------------------


async def test_a_still_take_row_holds_its_inputs_estimate_and_key(env: Env) -> None:
    plan = env.plan("fal")
    t = steps._find_or_create(env.rt, plan, "still", 2, None)
    st = plan.stills
    inputs = {"prompt": plan.shot.prompt, "width": 256, "height": 256, "model": st.model,
              "seed": steps.take_seed(plan.seed, 2)}  # fmt: skip
    assert t.request == inputs
    assert (t.stage, t.take_no, t.provider, t.model, t.seed) == ("still", 2, "fal", st.model, inputs["seed"])
    assert t.parent_take_id is None
    assert t.estimate_usd == still_price("fal", st.model, 256, 256, plan.prices).usd
    assert t.idempotency_key == take_key(plan.project_id, plan.shot.id, "still", 2, inputs)
    assert steps._find_or_create(env.rt, plan, "still", 2, None).id == t.id  # found again, not a second take
    assert steps._kind(t) == "t2i"


async def test_a_draft_uses_the_draft_model_and_a_final_still_the_drafts_prompt_and_seed(env: Env) -> None:
    plan = env.plan("fal")
    plan = plan.model_copy(
        update={"stills": plan.stills.model_copy(update={"draft_model": "fal-ai/flux/dev"})}
    )
    d = steps._find_or_create(env.rt, plan, "draft", 1, None)
    assert d.request["model"] == "fal-ai/flux/dev" and d.model == "fal-ai/flux/dev"
    assert d.request["prompt"] == plan.shot.prompt and d.seed == plan.seed
    assert steps._kind(d) == "t2i"
    env.set_take(d.id, request={**d.request, "prompt": "the draft's own words"}, seed=41)
    final = steps._find_or_create(env.rt, plan, "still", 3, d.id)
    assert final.request["prompt"] == "the draft's own words"
    assert final.request["model"] == plan.stills.model
    assert final.seed == steps.take_seed(41, 3) and final.parent_take_id == d.id


async def test_a_clip_take_row_from_its_still(env: Env) -> None:
    plan = env.plan("kling")
    shot = plan.shot.model_copy(update={"video_prompt": "slow push in", "negative_prompt": None,
                                        "camera": CameraSpec(zoom=2)})  # fmt: skip
    video = plan.video.model_copy(update={"negative_prompt": "blur", "cfg_scale": 0.4})
    plan = plan.model_copy(update={"shot": shot, "video": video})
    parent = _parent_still(env.rt, plan)
    sha = env.take(parent).artifact_sha256
    t = steps._find_or_create(env.rt, plan, "clip", 1, parent)
    assert t.request == {
        "prompt": "slow push in", "image_sha256": sha, "duration": shot.duration, "aspect": shot.aspect,
        "model": video.model, "mode": video.mode, "camera": shot.camera.model_dump(), "motion": shot.motion,
        "negative_prompt": "blur", "cfg_scale": 0.4,
    }  # fmt: skip
    assert (t.provider, t.model, t.seed, t.parent_take_id) == ("kling", video.model, None, parent)
    assert t.estimate_usd == clip_price("kling", video.model, video.mode, shot.duration, plan.prices).usd
    assert steps._kind(t) == "i2v"
    shot2 = shot.model_copy(update={"video_prompt": None, "negative_prompt": "rain"})
    inputs = steps._clip_inputs(plan.model_copy(update={"shot": shot2}), None)
    assert inputs["prompt"] == shot.prompt and inputs["negative_prompt"] == "rain"
    assert "image_sha256" not in inputs


async def test_the_requests_built_for_each_kind(env: Env) -> None:
    plan = env.plan("fal")
    t = steps._find_or_create(env.rt, plan, "still", 1, None)
    r = steps._build_request(env.rt, t)
    assert r == StillRequest(prompt=plan.shot.prompt, width=256, height=256, seed=t.seed, model=t.model,
                             external_id=t.idempotency_key)  # fmt: skip
    kplan = env.plan("kling")
    kplan = kplan.model_copy(
        update={"shot": kplan.shot.model_copy(update={"camera": CameraSpec(horizontal=3)})}
    )
    parent = _parent_still(env.rt, kplan)
    c = steps._find_or_create(env.rt, kplan, "clip", 1, parent)
    cr = steps._build_request(env.rt, c)
    assert isinstance(cr, ClipRequest)
    assert cr.image == start_frame() and cr.image_mime == "image/png" and cr.motion is None
    assert cr.camera == Camera(**CameraSpec(horizontal=3).model_dump())
    assert (cr.prompt, cr.duration, cr.aspect, cr.model, cr.mode) == (
        c.request["prompt"], c.request["duration"], c.request["aspect"], c.model, c.request["mode"])  # fmt: skip
    assert cr.negative_prompt == c.request["negative_prompt"] and cr.cfg_scale == c.request["cfg_scale"]
    assert cr.external_id == c.idempotency_key
    text = dataclasses.replace(c, request={k: v for k, v in c.request.items() if k != "image_sha256"})
    assert steps._kind(text) == "t2v"
    tr = steps._build_request(env.rt, text)
    assert isinstance(tr, TextClipRequest) and tr.external_id == c.idempotency_key
    assert tr.prompt == c.request["prompt"] and tr.camera == cr.camera
    still_camera = {"camera": {"horizontal": 0, "vertical": 0, "zoom": 0, "rotation": 0}}
    assert steps._camera(still_camera) is None
    assert steps._camera({"camera": {**still_camera["camera"], "rotation": 1}}) == Camera(rotation=1)


# -- the create ------------------------------------------------------------------------------------------------


async def test_an_accepted_create_is_recorded_with_its_task_id_and_handle(env: Env) -> None:
    plan = env.plan("fal")
    a = env.use("fal", "t2i", Scripted(submit=[accepted("T1", {"status_url": "/s/T1"})]))
    before = time.time()
    out = await start(env, plan)
    t = only_take(env)
    assert out.outcome == "submitted" and out.take_id == t.id and out.provider == "fal"
    task = out.task
    assert task is not None
    assert (task.provider, task.kind, task.stage, task.model) == ("fal", "t2i", "still", t.model)
    assert (task.task_id, task.handle, task.estimate_usd, task.hook) == ("T1", {"status_url": "/s/T1"},
                                                                          t.estimate_usd, None)  # fmt: skip
    assert before <= task.accepted_at <= time.time()
    assert [r.external_id for r in a.ops("submit")] == [t.idempotency_key]
    assert len(a.ops("check")) == 1 and a.ops("check")[0] == a.ops("submit")[0]
    assert (t.state, t.provider_task_id, t.handle) == ("submitted", "T1", {"status_url": "/s/T1"})
    assert [c[:3] for c in env.calls(t.id)] == [("intent", "submitting", None), ("create", "accepted", "T1")]
    assert env.spend(t.id) == [("reserved", t.estimate_usd)]
    with env.rt.db.read_session() as s:
        row = s.scalars(select(SpendRow).where(SpendRow.take_id == t.id)).one()
        assert (row.run_id, row.client, row.provider, row.model) == (plan.run_id, plan.client, "fal", t.model)
    assert plan.run_id == "matrix"
    again = await start(env, plan)  # a later run: nothing is sent
    assert again.outcome == "submitted" and again.task is not None and again.task.task_id == "T1"
    assert again.task.handle == {"status_url": "/s/T1"} and again.take_id == t.id
    assert len(a.ops("submit")) == 1


async def test_an_accepted_create_without_a_handle_carries_an_empty_one(env: Env) -> None:
    env.use("fal", "t2i", Scripted(submit=[accepted("T1", {})]))
    out = await start(env, env.plan("fal"))
    assert out.task is not None and out.task.handle == {}


async def test_a_downloaded_take_is_not_sent_again(env: Env) -> None:
    plan = env.plan("fal")
    a = env.use("fal", "t2i", Scripted())
    t = steps._find_or_create(env.rt, plan, "still", 1, None)
    env.set_take(t.id, state="downloaded", artifact_sha256="ab" * 32)
    out = await start(env, plan)
    assert out == StartResult("ok", take_id=t.id, sha256="ab" * 32)
    assert a.asked == []


@pytest.mark.parametrize("state", ["failed", "needs_review"])
async def test_a_take_used_up_stays_failed(env: Env, state: str) -> None:
    plan = env.plan("fal")
    a = env.use("fal", "t2i", Scripted())
    t = steps._find_or_create(env.rt, plan, "still", 1, None)
    env.set_take(t.id, state=state, failure_class="moderation", failure_reason="refused")
    out = await start(env, plan)
    assert (out.outcome, out.failure_class, out.reason, out.take_id) == (
        "failed",
        "moderation",
        "refused",
        t.id,
    )
    env.set_take(t.id, failure_class=None, failure_reason=None)
    out = await start(env, plan)
    assert (out.outcome, out.failure_class, out.reason) == ("failed", "provider_error", "")
    assert a.asked == []


async def test_a_request_the_adapter_refuses_uses_up_the_take_without_a_call(env: Env) -> None:
    plan = env.plan("fal")
    a = env.use("fal", "t2i", Scripted(check=InvalidInput("fal", "width must be a multiple of 32")))
    out = await start(env, plan)
    t = only_take(env)
    assert (out.outcome, out.failure_class) == ("invalid", "invalid_input")
    assert out.reason is not None and "width must be a multiple of 32" in out.reason
    assert (t.state, t.failure_class) == ("failed", "invalid_input")
    assert t.failure_reason is not None and "multiple of 32" in t.failure_reason
    assert a.ops("submit") == [] and env.spend(t.id) == []
    b = env.use("fal", "t2i", Scripted(check=ValueError("seed out of range")))
    plan2 = reseed(plan, 1)
    out2 = await start(env, plan2)
    assert (out2.outcome, out2.reason) == ("invalid", "seed out of range") and b.ops("submit") == []


async def test_an_open_breaker_sends_nothing(env: Env) -> None:
    plan = env.plan("fal")
    a = env.use("fal", "t2i", Scripted())
    now = time.time()
    env.rt.ledger.trip("fal", "network", "connection refused", now=now)
    out = await start(env, plan)
    t = only_take(env)
    assert (out.outcome, out.failure_class, out.reason, out.take_id) == ("retry", "network", "connection refused",
                                                                         t.id)  # fmt: skip
    until = env.rt.ledger.breaker("fal").until
    assert until is not None and out.retry_after is not None
    assert until - time.time() - 1 <= out.retry_after <= until - now
    assert a.asked == [("check", a.asked[0][1])]
    assert (t.state, env.spend(t.id)) == ("pending", [])
    env.rt.ledger.trip("fal", "auth", "401 invalid key")
    out = await start(env, plan)
    assert (out.outcome, out.failure_class, out.reason, out.provider) == ("blocked", "auth", "401 invalid key",
                                                                          "fal")  # fmt: skip
    assert out.detail == blocked_detail("auth", "fal", "401 invalid key")
    assert a.ops("submit") == []


async def test_a_budget_stops_the_take_before_the_call(env: Env) -> None:
    plan = env.plan("fal", project_usd=0.001)
    a = env.use("fal", "t2i", Scripted(submit=[accepted()]))
    out = await start(env, plan)
    t = only_take(env)
    assert (out.outcome, out.failure_class) == ("stop", "budget")
    assert out.reason is not None and "project" in out.reason
    assert a.ops("submit") == [] and t.state == "budget_blocked" and env.spend(t.id) == []


async def test_a_worker_that_lost_its_lease_sends_nothing_and_releases_the_intent(env: Env) -> None:
    plan = env.plan("fal")
    a = env.use("fal", "t2i", Scripted(submit=[accepted()]))

    def fence() -> None:
        raise DatabaseUnavailable("lease taken over by worker-2")

    env.rt.fence = fence
    with pytest.raises(DatabaseUnavailable):  # the step itself (the engine's wrapper waits out a database)
        await steps._start(env.rt, plan, "still", 1, None)
    t = only_take(env)
    assert a.ops("submit") == []
    assert (t.state, t.failure_class) == ("pending", "database")
    assert t.failure_reason is not None and "worker-2" in t.failure_reason
    assert env.spend(t.id) == [("released", t.estimate_usd)]


# -- a create in doubt: reconcile by our own id ----------------------------------------------------------------


async def test_an_uncertain_create_found_by_our_id_is_submitted_not_resent(env: Env) -> None:
    plan = env.plan("fal")
    a = env.use("fal", "t2i", Scripted(submit=[SubmissionUncertain("fal", "connection dropped after send")],
                                       find=[accepted("T9", {"k": "v"})]))  # fmt: skip
    out = await start(env, plan)
    t = only_take(env)
    assert out.outcome == "submitted" and out.task is not None
    assert (out.task.task_id, out.task.handle, out.take_id) == ("T9", {"k": "v"}, t.id)
    assert a.ops("find") == [t.idempotency_key] and len(a.ops("submit")) == 1
    assert (t.state, t.provider_task_id, t.handle) == ("submitted", "T9", {"k": "v"})
    assert [c[:3] for c in env.calls(t.id)] == [("intent", "submitting", None), ("lookup", "accepted", "T9")]


async def test_an_uncertain_create_the_provider_never_got_is_sent_again_later(env: Env) -> None:
    plan = env.plan("fal")
    a = env.use("fal", "t2i", Scripted(submit=[SubmissionUncertain("fal", "read timeout"), accepted("T2")],
                                       find=[None]))  # fmt: skip
    out = await start(env, plan)
    t = only_take(env)
    assert (out.outcome, out.retry_after, out.take_id) == ("retry", 1.0, t.id)
    assert (t.state, t.failure_class) == ("pending", "ambiguous")
    assert t.failure_reason == "read timeout; provider has no task with our id"
    assert env.spend(t.id) == [("released", t.estimate_usd)]
    again = await start(env, plan)
    assert again.outcome == "submitted" and again.task is not None and again.task.task_id == "T2"
    keys = {r.external_id for r in a.ops("submit")}
    assert keys == {t.idempotency_key} and len(a.ops("submit")) == 2


async def test_an_uncertain_create_on_a_provider_without_lookup_is_held_for_review(env: Env) -> None:
    plan = env.plan("fal")
    a = env.use("fal", "t2i", Scripted(lookup=False, submit=[SubmissionUncertain("fal", "stalled")]))
    out = await start(env, plan)
    t = only_take(env)
    assert (out.outcome, out.failure_class, out.reason, out.take_id) == (
        "failed",
        "ambiguous",
        "stalled",
        t.id,
    )
    assert (t.state, t.failure_class) == ("needs_review", "ambiguous")
    assert t.failure_reason == "stalled; fal cannot be asked by our id: check its console"
    assert a.ops("find") == [] and len(a.ops("submit")) == 1
    assert env.spend(t.id) == [("reserved", t.estimate_usd)]  # kept until a person settles it
    assert (await start(env, plan)).outcome == "failed" and len(a.ops("submit")) == 1


class InFlight(Scripted):
    """A provider whose create answer comes only when the test lets it."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.sent, self.answer = asyncio.Event(), asyncio.Event()

    async def submit(self, request: Any) -> Submitted:
        self.asked.append(("submit", request))
        self.sent.set()
        await self.answer.wait()
        return accepted("T-late")


async def test_ctrl_c_during_a_create_waits_for_its_answer_and_records_it(env: Env) -> None:
    # fal cannot be asked by our id: a create dropped at Ctrl-C would be held for review and paid for twice
    plan = env.plan("fal")
    a = env.use("fal", "t2i", InFlight(lookup=False))
    step = asyncio.ensure_future(start(env, plan))
    await a.sent.wait()
    assert len(env.rt.creates_in_flight) == 1  # what a stopping run waits for before closing the clients
    for _ in range(3):  # Ctrl-C, and the cancellation asked again
        step.cancel()
        await asyncio.sleep(0)
    assert not step.done() and only_take(env).state == "submitting"
    a.answer.set()
    with pytest.raises(asyncio.CancelledError):
        await step
    t = only_take(env)
    assert (t.state, t.provider_task_id) == ("submitted", "T-late")
    again = await start(env, plan)  # the next run polls the task; nothing is sent again
    assert again.outcome == "submitted" and again.task is not None and again.task.task_id == "T-late"
    assert len(a.ops("submit")) == 1 and a.ops("find") == []
    assert env.rt.creates_in_flight == set()


async def test_a_stopping_run_waits_for_the_create_in_flight_and_sends_no_new_one(env: Env) -> None:
    plan = env.plan("fal")
    a = env.use("fal", "t2i", InFlight())
    step = asyncio.ensure_future(start(env, plan))
    await a.sent.wait()
    settle = asyncio.ensure_future(env.rt.settle_creates())
    await asyncio.sleep(0.05)
    settle.cancel()  # Ctrl-C asked again while the run waits: it still waits
    await asyncio.sleep(0.05)
    assert env.rt.stopping and not settle.done() and not step.done()
    a.answer.set()
    with pytest.raises(asyncio.CancelledError):
        await settle
    assert (await step).outcome == "submitted" and env.rt.creates_in_flight == set()
    first = only_take(env)
    assert first.state == "submitted"
    with pytest.raises(asyncio.CancelledError):  # another take: no intent, no create
        await start(env, reseed(plan, 1))
    other = [t for t in env.rt.ledger.takes(env.rt.project.id) if t.id != first.id]
    assert [t.state for t in other] == ["pending"] and env.calls(other[0].id) == []
    assert env.spend(other[0].id) == [] and len(a.ops("submit")) == 1
    assert await env.rt.settle_creates() is None  # nothing in flight: it returns at once


async def test_a_lookup_that_fails_leaves_the_take_in_doubt_for_the_next_run(env: Env) -> None:
    plan = env.plan("fal")
    a = env.use("fal", "t2i", Scripted(submit=[SubmissionUncertain("fal", "dropped")],
                                       find=[ProviderFailed("fal", "500 on lookup", retryable=True),
                                             accepted("T5")]))  # fmt: skip
    with pytest.raises(ProviderFailed):
        await start(env, plan)
    t = only_take(env)
    assert t.state == "submitting" and len(a.ops("submit")) == 1
    out = await start(env, plan)  # the next run: asked again by our id, found, never resent
    assert out.outcome == "submitted" and out.task is not None and out.task.task_id == "T5"
    assert len(a.ops("submit")) == 1 and a.ops("find") == [t.idempotency_key] * 2


async def test_a_crash_during_the_create_is_reconciled_first(env: Env) -> None:
    plan = env.plan("fal")
    t = steps._find_or_create(env.rt, plan, "still", 1, None)
    env.rt.ledger.begin_submit(t.id, None, plan.client, plan.caps.budget())  # the intent, then the crash
    a = env.use("fal", "t2i", Scripted(find=[accepted("T7")]))
    out = await start(env, plan)
    assert out.outcome == "submitted" and out.task is not None and out.task.task_id == "T7"
    assert a.ops("submit") == [] and env.take(t.id).state == "submitted"
    # not found: the take is read again (no longer in doubt) and sent once
    plan2 = reseed(plan, 1)
    t2 = steps._find_or_create(env.rt, plan2, "still", 1, None)
    env.rt.ledger.begin_submit(t2.id, None, plan.client, plan.caps.budget())
    b = env.use("fal", "t2i", Scripted(find=[None], submit=[accepted("T8")]))
    out2 = await steps.start_take(plan2, "still", 1, None)
    assert out2.outcome == "submitted" and out2.task is not None and out2.task.task_id == "T8"
    assert [r.external_id for r in b.ops("submit")] == [t2.idempotency_key]
    reason = "interrupted during the create call; provider has no task with our id"
    assert ("create", "rejected:ambiguous", None, reason) in env.calls(t2.id)
    # without lookup: held for review, never resent
    plan3 = reseed(plan, 2)
    t3 = steps._find_or_create(env.rt, plan3, "still", 1, None)
    env.rt.ledger.begin_submit(t3.id, None, plan.client, plan.caps.budget())
    c = env.use("fal", "t2i", Scripted(lookup=False))
    out3 = await steps.start_take(plan3, "still", 1, None)
    assert (out3.outcome, out3.failure_class, out3.reason) == ("failed", "ambiguous",
                                                               "interrupted during the create call")  # fmt: skip
    assert c.asked == [] and env.take(t3.id).state == "needs_review"


# -- a create refused ------------------------------------------------------------------------------------------


async def test_a_rate_limit_waits_as_long_as_the_provider_asks(env: Env) -> None:
    plan = env.plan("fal")
    env.use("fal", "t2i", Scripted(submit=[RateLimited("fal", "429 slow down", retry_after=7.5),
                                           RateLimited("fal", "429 again")]))  # fmt: skip
    out = await start(env, plan)
    t = only_take(env)
    assert (out.outcome, out.failure_class, out.reason, out.retry_after) == ("retry", "rate_limit",
                                                                             "429 slow down", 7.5)  # fmt: skip
    assert (t.state, t.failure_class, t.failure_reason) == ("pending", "rate_limit", "429 slow down")
    assert env.spend(t.id) == [("released", t.estimate_usd)]
    out = await start(env, plan)
    assert out.retry_after == 5.0
    assert env.rt.ledger.breaker("fal").trips == 0


@pytest.mark.parametrize("error", [AuthError("fal", "401 bad key"), BillingError("fal", "402 no credit")])
async def test_a_key_or_billing_refusal_blocks_the_shot_and_pauses_the_route(
    env: Env, error: Exception
) -> None:
    plan = env.plan("fal")
    env.use("fal", "t2i", Scripted(submit=[error]))
    out = await start(env, plan)
    t = only_take(env)
    cls, reason = error.failure_class, error.reason  # type: ignore[attr-defined]
    assert (out.outcome, out.failure_class, out.reason, out.provider) == ("blocked", cls, reason, "fal")
    assert out.detail == blocked_detail(cls, "fal", reason)
    assert (t.state, t.failure_class, t.failure_reason) == ("pending", cls, reason)  # not used up
    b = env.rt.ledger.breaker("fal")
    assert (b.failure_class, b.reason, b.trips) == (cls, reason, 1) and b.waits_for_a_person()


async def test_a_connection_refused_waits_out_the_routes_pause(env: Env) -> None:
    plan = env.plan("fal")
    env.use("fal", "t2i", Scripted(submit=[ProviderUnreachable("fal", "connection refused")]))
    out = await start(env, plan)
    t = only_take(env)
    assert (out.outcome, out.failure_class, out.reason) == ("retry", "network", "connection refused")
    b = env.rt.ledger.breaker("fal")
    assert (b.failure_class, b.trips) == ("network", 1) and b.until is not None
    assert (
        out.retry_after is not None
        and b.until - time.time() - 1 <= out.retry_after <= b.until - out.at + 0.01
    )
    assert out.retry_after >= 1.0
    assert (t.state, t.failure_class, t.failure_reason) == ("pending", "network", "connection refused")
    assert 4.0 <= out.retry_after <= 5.0  # the first trip's pause (5 s)
    assert env.spend(t.id) == [("released", t.estimate_usd)]


async def test_moderation_and_a_refused_body_use_up_the_take(env: Env) -> None:
    plan = env.plan("fal")
    env.use("fal", "t2i", Scripted(submit=[ModerationError("fal", "nsfw prompt")]))
    out = await start(env, plan)
    t = only_take(env)
    assert (out.outcome, out.failure_class, out.reason) == ("failed", "moderation", "nsfw prompt")
    assert (t.state, t.failure_class, t.failure_reason) == ("failed", "moderation", "nsfw prompt")
    assert env.spend(t.id) == [("released", t.estimate_usd)]
    plan2 = reseed(plan, 1)
    env.use("fal", "t2i", Scripted(submit=[InvalidInput("fal", "422 bad aspect")]))
    out = await steps.start_take(plan2, "still", 1, None)
    assert (out.outcome, out.failure_class, out.reason) == ("invalid", "invalid_input", "422 bad aspect")
    (t2,) = [x for x in env.rt.ledger.takes(env.rt.project.id) if x.id != t.id]
    assert (t2.state, t2.failure_class, t2.failure_reason) == ("failed", "invalid_input", "422 bad aspect")


async def test_a_server_error_is_reconciled_where_the_provider_can_be_asked(env: Env) -> None:
    plan = env.plan("fal")
    a = env.use(
        "fal", "t2i", Scripted(submit=[ProviderFailed("fal", "500 oops", retryable=True)], find=[None])
    )
    out = await start(env, plan)
    t = only_take(env)
    assert (out.outcome, out.failure_class, out.reason, out.retry_after) == (
        "retry",
        "outage",
        "500 oops",
        5.0,
    )
    assert a.ops("find") == [t.idempotency_key]
    assert (t.state, t.failure_class) == ("pending", "ambiguous")
    assert t.failure_reason == "500 oops; provider has no task with our id"
    plan2 = reseed(plan, 1)
    b = env.use("fal", "t2i", Scripted(submit=[ProviderFailed("fal", "502")], find=[accepted("T3")]))
    out2 = await steps.start_take(plan2, "still", 1, None)
    assert out2.outcome == "submitted" and out2.task is not None and out2.task.task_id == "T3"
    assert len(b.ops("submit")) == 1


async def test_a_server_error_without_lookup_waits_without_asking(env: Env) -> None:
    plan = env.plan("fal")
    a = env.use("fal", "t2i", Scripted(lookup=False, submit=[ProviderFailed("fal", "503 busy")]))
    out = await start(env, plan)
    t = only_take(env)
    assert (out.outcome, out.failure_class, out.reason, out.retry_after) == (
        "retry",
        "outage",
        "503 busy",
        5.0,
    )
    assert a.ops("find") == []
    assert (t.state, t.failure_class, t.failure_reason) == ("pending", "outage", "503 busy")
    assert env.spend(t.id) == [("released", t.estimate_usd)]


async def test_an_accepted_create_closes_the_routes_breaker(env: Env) -> None:
    plan = env.plan("fal")
    env.rt.ledger.trip("fal", "network", "refused", now=time.time() - 3600)
    assert env.rt.ledger.breaker("fal").trips == 1
    env.use("fal", "t2i", Scripted(submit=[accepted()]))
    assert (await start(env, plan)).outcome == "submitted"
    b = env.rt.ledger.breaker("fal")
    assert (b.trips, b.until) == (0, None)


async def test_with_webhooks_the_task_is_expected_and_its_hook_carried(env: Env) -> None:
    plan = env.plan("fal")
    hub = WebhookHub()
    env.rt.hub, env.rt.callback_base = hub, "http://127.0.0.1:9/"
    a = env.use("fal", "t2i", Scripted(submit=[accepted("T4")], webhooks="fal"))
    out = await start(env, plan)
    assert out.task is not None and out.task.hook == "fal"
    assert a.ops("submit")[0].callback_url == "http://127.0.0.1:9/hooks/fal"
    assert hub.knows("fal", "T4")
    again = await start(env, plan)  # already submitted: the same hook
    assert again.task is not None and (again.task.task_id, again.task.hook) == ("T4", "fal")
    plan3 = reseed(plan, 3)  # found by our id after a doubt: the same hook
    env.use("fal", "t2i", Scripted(submit=[SubmissionUncertain("fal", "dropped")], find=[accepted("T10")],
                                   webhooks="fal"))  # fmt: skip
    found = await steps.start_take(plan3, "still", 1, None)
    assert found.task is not None and (found.task.task_id, found.task.hook) == ("T10", "fal")
    assert hub.knows("fal", "T10")
    plan4 = reseed(plan, 4)  # a refused create carries no task: nothing to expect, nothing raised
    env.use("fal", "t2i", Scripted(submit=[RateLimited("fal", "429")], webhooks="fal"))
    refused = await steps.start_take(plan4, "still", 1, None)
    assert (refused.outcome, refused.task) == ("retry", None)
    # a route without webhooks: no hook, nothing expected
    plan2 = reseed(plan, 1)
    env.use("fal", "t2i", Scripted(submit=[accepted("T6")]))
    out2 = await steps.start_take(plan2, "still", 1, None)
    assert out2.task is not None and out2.task.hook is None and not hub.knows("fal", "T6")


# -- polls and the download ------------------------------------------------------------------------------------


async def submitted_take(env: Env, plan: ShotPlan, **task: Any) -> tuple[int, TaskRef]:
    env.use("fal", "t2i", Scripted(submit=[accepted("T1")]))
    out = await start(env, plan)
    assert out.take_id is not None and out.task is not None
    env.rt._adapters.clear()
    return out.take_id, dataclasses.replace(out.task, **task)


async def test_a_pending_task_is_asked_again(env: Env) -> None:
    plan = env.plan("fal")
    tid, task = await submitted_take(env, plan)
    a = env.use("fal", "t2i", Scripted(poll=[Pending("running")]))
    before = time.time()
    st = await steps.poll_take(plan, tid, task, 0.0)
    assert st.state == "pending" and st.env is None and st.reason is None
    assert st.at is not None and before <= st.at <= time.time()
    (asked,) = a.ops("poll")
    assert asked == Submitted("fal", "T1", task.handle)


async def test_a_poll_waits_until_it_is_due(env: Env) -> None:
    plan = env.plan("fal")
    tid, task = await submitted_take(env, plan)
    env.use("fal", "t2i", Scripted(poll=[Pending("running")]))
    t0 = time.monotonic()
    await steps.poll_take(plan, tid, task, time.time() + 0.3)
    assert time.monotonic() - t0 >= 0.25


async def test_a_callback_ends_the_wait_and_a_finished_task_is_forgotten(env: Env) -> None:
    plan = env.plan("fal")
    hub = WebhookHub()
    env.rt.hub = hub
    tid, task = await submitted_take(env, plan, hook="fal")
    hub.expect("fal", "T1")
    env.use("fal", "t2i", Scripted(poll=[Pending("running"), Failed(ModerationError("fal", "nsfw output"))]))
    hub.hint("fal", "T1")
    t0 = time.monotonic()
    st = await steps.poll_take(plan, tid, task, time.time() + 30)  # woken at once by the hint
    assert st.state == "pending" and time.monotonic() - t0 < 20 and hub.knows("fal", "T1")
    hub.hint("fal", "T1")
    st = await steps.poll_take(plan, tid, task, time.time() + 30)
    assert st == PollResult("failed", failure_class="moderation", reason="nsfw output")
    assert not hub.knows("fal", "T1")


async def test_a_task_that_failed_at_the_provider_releases_its_reservation(env: Env) -> None:
    plan = env.plan("fal")
    tid, task = await submitted_take(env, plan)
    env.use("fal", "t2i", Scripted(poll=[Failed(ProviderFailed("fal", "task crashed"))]))
    st = await steps.poll_take(plan, tid, task, 0.0)
    assert st == PollResult("failed", failure_class="provider_error", reason="task crashed")
    t = env.take(tid)
    assert (t.state, t.failure_class, t.failure_reason) == ("failed", "provider_error", "task crashed")
    assert env.spend(tid) == [("released", t.estimate_usd)]


@pytest.mark.parametrize("error", [AuthError("fal", "401 key revoked"), BillingError("fal", "402 arrears")])
async def test_a_key_or_billing_failure_on_a_poll_blocks_and_keeps_the_task(
    env: Env, error: Exception
) -> None:
    plan = env.plan("fal")
    tid, task = await submitted_take(env, plan)
    env.use("fal", "t2i", Scripted(poll=[error]))
    st = await steps.poll_take(plan, tid, task, 0.0)
    cls, reason = error.failure_class, error.reason  # type: ignore[attr-defined]
    assert st == PollResult("blocked", failure_class=cls, reason=reason)
    assert env.take(tid).state == "submitted"
    b = env.rt.ledger.breaker("fal")
    assert (b.failure_class, b.reason, b.trips) == (cls, reason, 1)


@pytest.mark.parametrize(
    ("error", "env_class"),
    [
        (ProviderUnreachable("fal", "refused"), "network"),
        (ProviderTimeout("fal", "read timeout"), "network"),
        (RateLimited("fal", "429"), "rate_limit"),
        (ProviderFailed("fal", "503", retryable=True), "outage"),
    ],
)
async def test_an_environment_failure_on_a_poll_asks_again(
    env: Env, error: Exception, env_class: str
) -> None:
    plan = env.plan("fal")
    tid, task = await submitted_take(env, plan)
    env.use("fal", "t2i", Scripted(poll=[error]))
    before = time.time()
    st = await steps.poll_take(plan, tid, task, 0.0)
    assert (st.state, st.reason, st.env) == ("pending", error.reason, env_class)  # type: ignore[attr-defined]
    assert st.at is not None and before <= st.at <= time.time()
    assert env.take(tid).state == "submitted" and env.rt.ledger.breaker("fal").trips == 0


async def test_a_final_error_on_a_poll_fails_the_take(env: Env) -> None:
    plan = env.plan("fal")
    tid, task = await submitted_take(env, plan)
    env.use("fal", "t2i", Scripted(poll=[ModerationError("fal", "output refused")]))
    st = await steps.poll_take(plan, tid, task, 0.0)
    assert st == PollResult("failed", failure_class="moderation", reason="output refused")
    t = env.take(tid)
    assert (t.state, t.failure_class, t.failure_reason) == ("failed", "moderation", "output refused")


async def test_success_without_a_result_url_fails_the_take(env: Env) -> None:
    plan = env.plan("fal")
    tid, task = await submitted_take(env, plan)
    env.use("fal", "t2i", Scripted(poll=[Succeeded(urls=[])]))
    st = await steps.poll_take(plan, tid, task, 0.0)
    assert st == PollResult("failed", failure_class="provider_error", reason="no result URL")
    t = env.take(tid)
    assert (t.state, t.failure_class, t.failure_reason) == ("failed", "provider_error",
                                                            "succeeded without a result URL")  # fmt: skip


async def test_the_result_is_downloaded_stored_and_costed_from_the_providers_bill(env: Env) -> None:
    plan = env.plan("fal")
    tid, task = await submitted_take(env, plan, accepted_at=time.time() - 100)
    data = encode_image(render_still("a result", 4, 256, 256), "png")
    a = env.use("fal", "t2i", Scripted(poll=[Succeeded(urls=["https://x/1.png", "https://x/2.png"],
                                                       billed_units=2.0, unit="megapixels")],
                                       download=[data]))  # fmt: skip
    st = await steps.poll_take(plan, tid, task, 0.0)
    t = env.take(tid)
    assert st == PollResult("downloaded", sha256=t.artifact_sha256)
    assert a.ops("download") == ["https://x/1.png"]
    assert t.state == "downloaded" and t.result_url == "https://x/1.png"
    cost, _credits = actual_usd("fal", 2.0, "megapixels", task.estimate_usd, task.model, plan.prices)
    assert t.cost_usd == round(cost, 6) and (t.billed_units, t.unit) == (2.0, "megapixels")
    assert t.latency_s is not None and 99 <= t.latency_s <= 160
    art = env.rt.ledger.artifact(t.artifact_sha256)
    assert art is not None and art.mime == "image/png" and art.size_bytes == len(data)
    assert (env.root / art.path).read_bytes() == data and art.path.startswith("artifacts/")
    assert art.kind == "still" and art.meta.get("width") == 256
    assert env.spend(tid) == [("committed", round(cost, 6))]


async def test_a_result_gone_before_download_is_held_for_review_with_its_url(env: Env) -> None:
    plan = env.plan("fal")
    tid, task = await submitted_take(env, plan)
    env.use("fal", "t2i", Scripted(poll=[Succeeded(urls=["https://x/gone.png"])],
                                   download=[ResultExpired("fal", "404 expired")]))  # fmt: skip
    st = await steps.poll_take(plan, tid, task, 0.0)
    assert st == PollResult("failed", failure_class="provider_error", reason="404 expired")
    t = env.take(tid)
    assert (t.state, t.result_url) == ("needs_review", "https://x/gone.png")
    assert t.failure_reason == "result paid for but gone: 404 expired"
    assert env.spend(tid) == [("reserved", t.estimate_usd)]


# -- more of what the steps carry and record -------------------------------------------------------------------


async def test_a_clip_take_sends_its_start_frame(env: Env) -> None:
    plan = env.plan("kling")
    parent = _parent_still(env.rt, plan)
    a = env.use("kling", "i2v", Scripted(submit=[Submitted("kling", "K1", {})]))
    out = await steps.start_take(plan, "clip", 1, parent)
    assert out.outcome == "submitted" and out.task is not None
    assert (out.task.provider, out.task.kind, out.task.stage, out.task.task_id) == (
        "kling",
        "i2v",
        "clip",
        "K1",
    )
    (req,) = a.ops("submit")
    assert isinstance(req, ClipRequest) and req.image == start_frame() and req.image_mime == "image/png"
    assert req.motion is None and req.external_id == env.take(out.take_id or 0).idempotency_key


async def test_a_breaker_open_without_a_recorded_cause_reads_as_an_outage(env: Env) -> None:
    from goldenchain.store.schema import BreakerRow

    with env.rt.db.session() as s, s.begin():
        s.add(BreakerRow(route="fal", failure_class=None, reason=None, trips=1, until=time.time() + 60))
    a = env.use("fal", "t2i", Scripted())
    out = await start(env, env.plan("fal"))
    assert (out.outcome, out.failure_class, out.reason) == ("retry", "outage", "route paused")
    assert out.retry_after is not None and 50 < out.retry_after <= 60
    assert a.ops("submit") == []


@pytest.mark.parametrize("point", ["before_create", "after_create", "polling", "downloading"])
async def test_the_crash_points_are_passed_where_they_are_named(
    env: Env, point: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the crash matrix's "hold" action and its go-file already there, a named point leaves its mark and
    goes on: the mark shows the point was passed, under its name and the provider's, and when."""
    plan = env.plan("fal")
    marks = {
        p: tmp_path / f"mark-{p}"
        for p in ("before_create", "after_create", "polling", "downloading", "other")
    }
    for m in marks.values():
        m.with_name(m.name + ".go").touch()
    monkeypatch.setenv("GOLDENCHAIN_CRASHPOINT_ACTION", "hold")
    monkeypatch.setenv("GOLDENCHAIN_CRASHPOINT", f"{point}@kling")  # another provider: not this take
    monkeypatch.setenv("GOLDENCHAIN_CRASHPOINT_MARK", str(marks["other"]))
    tid, task = await submitted_take(env, reseed(plan, 5))
    data = encode_image(render_still("a result", 4, 256, 256), "png")
    env.use("fal", "t2i", Scripted(poll=[Pending("running"), Succeeded(urls=["u"])], download=[data]))
    await steps.poll_take(plan, tid, task, 0.0)
    await steps.poll_take(plan, tid, task, 0.0)
    assert not marks["other"].exists()

    mark = marks[point]
    monkeypatch.setenv("GOLDENCHAIN_CRASHPOINT", f"{point}@fal")
    monkeypatch.setenv("GOLDENCHAIN_CRASHPOINT_MARK", str(mark))

    created = ("before_create", "after_create")

    def create() -> Submitted:
        assert mark.exists() == (point == "before_create")  # the point is passed right before the call
        (t,) = [x for x in env.rt.ledger.takes(env.rt.project.id) if x.seed == plan.seed]
        assert t.state == "submitting"  # the intent is in the ledger first
        return accepted("T1")

    env.use("fal", "t2i", Scripted(submit=[create]))
    out = await start(env, plan)
    assert out.take_id is not None and out.task is not None
    assert mark.exists() == (point in created)  # after_create: passed once the provider accepted

    def fetch() -> bytes:
        assert not mark.exists()  # downloading is passed once the file is stored, not before
        return data

    env.use("fal", "t2i", Scripted(poll=[Pending("running")], download=[]))
    await steps.poll_take(plan, out.take_id, out.task, 0.0)
    assert mark.exists() == (point in (*created, "polling"))
    env.use(
        "fal",
        "t2i",
        Scripted(poll=[Succeeded(urls=["u"])], download=[fetch if point == "downloading" else data]),
    )
    st = await steps.poll_take(plan, out.take_id, out.task, 0.0)
    assert st.state == "downloaded" and mark.exists()


async def test_a_hooked_task_without_a_hub_polls_on_time(env: Env) -> None:
    plan = env.plan("fal")
    tid, task = await submitted_take(env, plan, hook="fal")
    assert env.rt.hub is None
    env.use("fal", "t2i", Scripted(poll=[Pending("running")]))
    t0 = time.monotonic()
    st = await steps.poll_take(plan, tid, task, time.time() + 0.3)
    assert st.state == "pending" and time.monotonic() - t0 >= 0.25


async def test_a_hooked_poll_without_a_callback_waits_until_it_is_due(env: Env) -> None:
    plan = env.plan("fal")
    hub = WebhookHub()
    env.rt.hub = hub
    tid, task = await submitted_take(env, plan, hook="fal")
    hub.expect("fal", "T1")
    env.use("fal", "t2i", Scripted(poll=[Pending("running")]))
    t0 = time.monotonic()
    st = await steps.poll_take(plan, tid, task, time.time() + 0.3)
    assert st.state == "pending" and time.monotonic() - t0 >= 0.25 and hub.knows("fal", "T1")


async def test_a_task_without_an_id_is_polled_by_its_handle(env: Env) -> None:
    plan = env.plan("fal")
    tid, task = await submitted_take(env, plan, task_id=None, handle={"status_url": "/s/x"})
    a = env.use("fal", "t2i", Scripted(poll=[Pending("queued")]))
    await steps.poll_take(plan, tid, task, 0.0)
    assert a.ops("poll") == [Submitted("fal", "", {"status_url": "/s/x"})]


async def test_a_result_without_a_bill_costs_its_estimate(env: Env) -> None:
    plan = env.plan("fal")
    tid, task = await submitted_take(env, plan, estimate_usd=0.0123)
    data = encode_image(render_still("a result", 4, 256, 256), "png")
    env.use("fal", "t2i", Scripted(poll=[Succeeded(urls=["u"])], download=[data]))
    await steps.poll_take(plan, tid, task, 0.0)
    t = env.take(tid)
    assert (t.cost_usd, t.billed_units, t.unit) == (0.0123, None, None)


async def test_a_bill_is_read_with_the_projects_own_price(env: Env) -> None:

    plan = env.plan("fal")
    spec = active_catalog().get("fal", plan.stills.model, "t2i")
    assert spec is not None
    plan = plan.model_copy(update={"prices": {**plan.prices, spec.key: 0.5}})
    tid, task = await submitted_take(env, plan)
    data = encode_image(render_still("a result", 4, 256, 256), "png")
    env.use("fal", "t2i", Scripted(poll=[Succeeded(urls=["u"], billed_units=0.25, unit="megapixels")],
                                   download=[data]))  # fmt: skip
    await steps.poll_take(plan, tid, task, 0.0)
    assert env.take(tid).cost_usd == 0.125


async def test_a_kling_bill_in_credits_is_recorded_with_its_credits(env: Env) -> None:
    plan = env.plan("kling")
    parent = _parent_still(env.rt, plan)
    env.use("kling", "i2v", Scripted(submit=[Submitted("kling", "K1", {})]))
    out = await steps.start_take(plan, "clip", 1, parent)
    assert out.take_id is not None and out.task is not None
    data = start_frame()
    env.use("kling", "i2v", Scripted(poll=[Succeeded(urls=["u"], billed_units=2.5, unit="credits")],
                                     download=[data]))  # fmt: skip
    await steps.poll_take(plan, out.take_id, out.task, 0.0)
    cost, credits = actual_usd("kling", 2.5, "credits", out.task.estimate_usd, out.task.model, plan.prices)
    assert credits == 2.5
    with env.rt.db.read_session() as s:
        row = s.scalars(select(SpendRow).where(SpendRow.take_id == out.take_id)).one()
        assert (row.state, row.usd, row.credits) == ("committed", cost, 2.5)


async def test_estimates_use_the_projects_own_prices(env: Env) -> None:
    plan = env.plan("fal")
    spec = active_catalog().get("fal", plan.stills.model, "t2i")
    assert spec is not None
    plan = plan.model_copy(update={"prices": {**plan.prices, spec.key: 0.77}})
    t = steps._find_or_create(env.rt, plan, "still", 1, None)
    assert t.estimate_usd == still_price("fal", plan.stills.model, 256, 256, plan.prices).usd
    assert t.estimate_usd != still_price("fal", plan.stills.model, 256, 256, None).usd
    kplan = env.plan("kling")
    v = kplan.video
    kspec = active_catalog().get("kling", v.model, "i2v")
    assert kspec is not None
    kplan = kplan.model_copy(update={"prices": {**kplan.prices, kspec.key: 9.25}})
    c = steps._find_or_create(env.rt, kplan, "clip", 1, _parent_still(env.rt, kplan))
    assert c.estimate_usd == clip_price("kling", v.model, v.mode, kplan.shot.duration, kplan.prices).usd
    assert c.estimate_usd != clip_price("kling", v.model, v.mode, kplan.shot.duration, None).usd


async def test_a_text_to_video_take_has_no_parent_and_no_start_frame(env: Env) -> None:
    plan = env.plan("kling")
    plan = plan.model_copy(update={"video": plan.video.model_copy(update={"source": "text"})})
    assert plan.from_text
    a = env.use("kling", "t2v", Scripted(submit=[Submitted("kling", "K2", {})]))
    out = await steps.start_take(plan, "clip", 1, None)
    t = only_take(env, "clip")
    assert out.outcome == "submitted" and out.task is not None and out.task.kind == "t2v"
    assert t.parent_take_id is None and "image_sha256" not in t.request
    (req,) = a.ops("submit")
    assert isinstance(req, TextClipRequest) and req.external_id == t.idempotency_key


async def test_a_final_still_from_a_draft_through_the_start_step(env: Env) -> None:
    plan = env.plan("fal")
    plan = plan.model_copy(
        update={"stills": plan.stills.model_copy(update={"draft_model": "fal-ai/flux/dev"})}
    )
    d = steps._find_or_create(env.rt, plan, "draft", 1, None)
    env.set_take(d.id, request={**d.request, "prompt": "the draft's words"}, seed=77)
    a = env.use("fal", "t2i", Scripted(submit=[accepted("T1")]))
    out = await steps.start_take(plan, "still", 1, d.id)
    t = env.take(out.take_id or 0)
    assert t.parent_take_id == d.id and t.seed == 77
    (req,) = a.ops("submit")
    assert req.prompt == "the draft's words" and req.seed == 77

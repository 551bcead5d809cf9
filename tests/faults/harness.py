"""The fault matrix's harness: one take through the real take steps (``start_take``, ``poll_take`` and their
``_submit``/``_reconcile``/``_download``, from ``goldenchain.orchestration.steps``) on a real SQLite ledger,
against the emulator with scripted faults.

The loop around the steps is the one ``paid_take`` runs (start until it is not ``retry``, then polls until
the take is not ``pending``), with short waits. A step that raises ends that attempt as the engine would (the
workflow errors); the take is then resumed once by calling ``start_take`` again, as the next ``goldenchain
run`` does. After the take, one more ``start_take`` stands for a later run: it must send nothing.

What is seen comes from the steps' answers, the ledger's take row and its call log, and the emulator's request
log (every create request, accepted or not, keyed by the request body's hash and by our own id).
"""

from __future__ import annotations

import asyncio
import atexit
import dataclasses
import shutil
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from goldenchain.config import CameraSpec, load_project
from goldenchain.core.pricing import UnknownPrice, clip_price, still_price
from goldenchain.emulator import Emulator, Fault
from goldenchain.emulator.media import encode_image, render_still
from goldenchain.errors import ProviderError
from goldenchain.media import media_meta
from goldenchain.orchestration.plan import ShotPlan, build_plan
from goldenchain.orchestration.results import PollResult, StartResult
from goldenchain.orchestration.runtime import RUNTIMES, Runtime
from goldenchain.orchestration.steps import poll_take, start_take
from goldenchain.orchestration.workflows import MAX_SUBMIT_RETRIES
from goldenchain.providers import (
    FalFluxTextToImage,
    FalKlingImageToVideo,
    KlingImageToVideo,
    ReplicateFluxTextToImage,
    ReplicateKlingImageToVideo,
    RetryPolicy,
    TogetherFluxTextToImage,
)
from goldenchain.providers.http import CREATE_POLICY
from goldenchain.store.db import Database
from goldenchain.store.schema import ProviderCallRow
from goldenchain.templates import write_example

#: adapter send loops: creates as shipped (``CREATE_POLICY``'s attempts, so a create the rules forbid to
#: resend would be resent and counted); reads once, so every poll or download fault reaches ``poll_take``
SHIPPED = dataclasses.replace(CREATE_POLICY, base=0.01, cap=0.02, min_rate_limit_delay=0.0)
ONE = RetryPolicy(max_attempts=1, base=0.01, cap=0.02, min_rate_limit_delay=0.0)
POLL_INTERVAL = 0.05
POLL_BUDGET = 6.0  # seconds of polling before a take counts as timed out (the emulator finishes in LATENCY)
LATENCY = 0.06
_MIGRATING = threading.Lock()
RESUMES = 1  # how many times a take is started again after a step raised (the next run)


async def nap(seconds: float) -> None:
    await asyncio.sleep(min(seconds, 0.02))


# -- adapters: (registry name, kind, stage, model, mode, factory) -------------------------------------------

Factory = Callable[[dict[str, str], httpx.AsyncClient, RetryPolicy], Any]


@dataclass(frozen=True)
class Route:
    provider: str  # the registry's route name (what the ledger's take records): fal-kling is Kling on fal
    kind: str  # "t2i" | "i2v"
    model: str
    mode: str | None
    make: Factory

    @property
    def stage(self) -> str:
        return "still" if self.kind == "t2i" else "clip"


def _kw(create: RetryPolicy) -> dict[str, Any]:
    return {"sleep": nap, "create_policy": create, "read_policy": ONE}


ROUTES: dict[str, Route] = {
    "kling": Route("kling", "i2v", "kling-v1-6", "std", lambda env, c, p: KlingImageToVideo(
        env["KLING_ACCESS_KEY"], env["KLING_SECRET_KEY"], base_url=env["KLING_BASE_URL"], client=c, **_kw(p))),
    "fal": Route("fal", "t2i", "fal-ai/flux/schnell", None, lambda env, c, p: FalFluxTextToImage(
        env["FAL_KEY"], queue_url=env["FAL_QUEUE_URL"], client=c, **_kw(p))),
    "fal-kling": Route("fal-kling", "i2v", "fal-ai/kling-video/v1.6/pro/image-to-video", "pro",
                       lambda env, c, p: FalKlingImageToVideo(env["FAL_KEY"], queue_url=env["FAL_QUEUE_URL"],
                                                              client=c, **_kw(p))),
    "replicate": Route("replicate", "t2i", "black-forest-labs/flux-1.1-pro", None,
                       lambda env, c, p: ReplicateFluxTextToImage(
                           env["REPLICATE_API_TOKEN"], base_url=env["REPLICATE_BASE_URL"], client=c, **_kw(p))),
    "replicate-wait": Route("replicate", "t2i", "black-forest-labs/flux-1.1-pro", None,
                            lambda env, c, p: ReplicateFluxTextToImage(
                                env["REPLICATE_API_TOKEN"], base_url=env["REPLICATE_BASE_URL"], client=c, wait=5,
                                **_kw(p))),
    "replicate-kling": Route("replicate-kling", "i2v", "kwaivgi/kling-v2.1", "std",
                             lambda env, c, p: ReplicateKlingImageToVideo(
                                 env["REPLICATE_API_TOKEN"], base_url=env["REPLICATE_BASE_URL"], client=c,
                                 **_kw(p))),
    "together": Route("together", "t2i", "black-forest-labs/FLUX.1-schnell", None,
                      lambda env, c, p: TogetherFluxTextToImage(
                          env["TOGETHER_API_KEY"], base_url=env["TOGETHER_BASE_URL"], client=c, **_kw(p))),
    "together-b64": Route("together", "t2i", "black-forest-labs/FLUX.1-schnell", None,
                          lambda env, c, p: TogetherFluxTextToImage(
                              env["TOGETHER_API_KEY"], base_url=env["TOGETHER_BASE_URL"], client=c,
                              response_format="base64", **_kw(p))),
}  # fmt: skip


# -- what one take did ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seen:
    """The rendered facts of one take (what the matrix row expects)."""

    first: str  # the first trouble the steps reported ("—": none)
    ledger: str  # the take's state in the ledger at the end
    outcome: str  # ok | failed | invalid | stop | blocked | raised
    sent: int  # create requests the emulator received for the take (accepted or not)
    paid: int  # creates the emulator accepted (made a task: billed)


@dataclass
class Take:
    """Everything observed about one take, for the invariants."""

    seen: Seen
    answers: list[str] = field(default_factory=list)
    creates: list[dict[str, Any]] = field(default_factory=list)
    intents: int = 0  # create intents the ledger recorded before sending (one per send allowed)
    key: str = ""
    calls: list[tuple[str, str]] = field(default_factory=list)  # the ledger's call log (op, outcome)
    sent_by_next_run: int = 0

    def by_body(self) -> Counter[str]:
        return Counter(str(e["body_sha256"]) for e in self.creates)

    def by_external_id(self) -> Counter[str]:
        return Counter(str(e.get("external_task_id")) for e in self.creates)


class _Trace:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.first: str | None = None
        self.answers: list[str] = []
        self.where = "start"  # the step being called

    def saw(self, where: str, answer: StartResult | PollResult, take_id: int | None) -> None:
        state = answer.outcome if isinstance(answer, StartResult) else answer.state
        why = answer.reason
        self.answers.append(f"{where} {state}" + (f" ({why})" if why else ""))
        if self.first is not None:
            return
        if state in ("failed", "invalid", "stop", "blocked"):
            self.first = f"{where}: {state}, {answer.failure_class}"
        elif state == "retry":  # the class the step gave, else the one it recorded, for not going on now
            assert take_id is not None
            cls = answer.failure_class or self.rt.ledger.take(take_id).failure_class
            self.first = f"{where}: retry, {cls}"
        elif state == "pending" and isinstance(answer, PollResult) and answer.env:
            self.first = f"{where}: pending, provider's error noted"
        elif state == "submitted" and take_id and ("lookup", "accepted") in calls_of(self.rt, take_id):
            self.first = f"{where}: submitted, found by our id"

    def raised(self, e: ProviderError, take_state: str) -> None:
        self.answers.append(f"{self.where} raised {e.failure_class} ({e.reason})")
        if self.first is None:
            self.first = f"{self.where}: raised {e.failure_class}, take stays {take_state}"


async def _one_attempt(plan: ShotPlan, stage: str, parent: int | None, tr: _Trace) -> str:
    """``paid_take``'s loop over the real steps; returns the take's outcome."""
    sub = StartResult("retry")
    for _ in range(MAX_SUBMIT_RETRIES):
        tr.where = "start"
        sub = await start_take(plan, stage, 1, parent)
        tr.saw("start", sub, sub.take_id)
        if sub.outcome != "retry":
            break
        await nap(sub.retry_after or 1.0)
    else:  # still refused after every retry: ``paid_take`` ends the take as blocked (not used up)
        return "blocked"
    take_id, task = sub.take_id, sub.task
    if sub.outcome != "submitted":
        return sub.outcome
    assert take_id is not None and task is not None
    deadline = time.monotonic() + POLL_BUDGET
    due = task.accepted_at + POLL_INTERVAL
    while time.monotonic() < deadline:
        tr.where = "poll"
        st = await poll_take(plan, take_id, task, due)
        tr.saw("poll", st, take_id)
        if st.state == "pending":
            due = (st.at or due) + POLL_INTERVAL
            continue
        return "ok" if st.state == "downloaded" else st.state
    if tr.first is None:
        tr.first = "poll: timeout"
    return "failed"


# -- one row ----------------------------------------------------------------------------------------------

_FRAME: dict[str, bytes] = {}


def start_frame() -> bytes:
    if "png" not in _FRAME:
        _FRAME["png"] = encode_image(render_still("fault matrix frame", 3, 640, 360), "png")
    return _FRAME["png"]


def _parent_still(rt: Runtime, plan: ShotPlan) -> int:
    """A downloaded still for a clip take to start from, put in the ledger the way a still take ends."""
    data = start_frame()
    sha, path, mime = rt.store.put(data)
    t = rt.ledger.get_or_create_take(
        "gc-fault-matrix-start-frame", project_id=plan.project_id, shot_id=plan.shot_id, stage="still",
        take_no=1, provider="fal", model="fal-ai/flux/schnell", request={}, seed=1, parent_take_id=None,
        estimate_usd=0.0,
    )  # fmt: skip
    rt.ledger.record_downloaded(
        t.id, sha256=sha, rel_path=str(path.relative_to(rt.project.root)), size=len(data), mime=mime,
        meta=media_meta(data, mime), kind="still", cost_usd=0.0, credits=None, billed_units=None, unit=None,
    )  # fmt: skip
    return t.id


def _plan(rt: Runtime, route: Route) -> ShotPlan:
    project = rt.project
    plan = build_plan(project, project.shots.shots[0].id, run_id="matrix", max_cost=None, only=None)
    update: dict[str, Any] = {"shot": plan.shot.model_copy(update={"camera": CameraSpec()})}
    prices = dict(plan.prices)
    duration = plan.shot.duration
    try:
        if route.stage == "still":
            update["stills"] = plan.stills.model_copy(
                update={"provider": route.provider, "model": route.model, "width": 256, "height": 256}
            )
            still_price(route.provider, route.model, 256, 256, prices)
        else:
            update["video"] = plan.video.model_copy(
                update={"provider": route.provider, "model": route.model, "mode": route.mode}
            )
            clip_price(route.provider, route.model, str(route.mode), duration, prices)
    except UnknownPrice:  # a model without a built-in price gets one, as a project file would give it
        key = f"{route.provider}:{route.model}"
        if route.stage == "still":
            prices[key] = 0.04
        else:
            prices[f"{key}:{route.mode}:{duration}"] = 0.5
    return plan.model_copy(update={**update, "prices": prices})


class _Timeouts(httpx.AsyncBaseTransport):
    """Short reads where the emulator stalls (so a hang costs little), roomy ones for media downloads (the
    emulator renders a clip on its first download) and everywhere else."""

    def __init__(self, stall: bool) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self._short = httpx.Timeout(connect=2.0, read=1.5, write=5.0, pool=2.0)
        self._roomy = httpx.Timeout(connect=2.0, read=60.0, write=5.0, pool=2.0)
        self._stall = stall

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        short = self._stall and not request.url.path.startswith("/files/")
        request.extensions["timeout"] = (self._short if short else self._roomy).as_dict()
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


async def run_take(
    root: Path, adapter: str, faults: list[Fault], *, create_attempts: int | None = None
) -> tuple[Take, list[tuple[Fault, int]]]:
    """One take of ``adapter``'s route through the real steps, with ``faults`` scripted in the emulator.
    Returns what was seen and the faults that fired."""
    route = ROUTES[adapter]
    policy = (
        SHIPPED if create_attempts is None else dataclasses.replace(SHIPPED, max_attempts=create_attempts)
    )
    write_example(root, shots=1)
    project = load_project(root)
    stall = any("stall" in f.kind for f in faults)
    with Emulator(scenario="clean", latency=LATENCY, faults=faults, stall_seconds=5) as emu:
        _ledger_file(project.db_path)
        with _MIGRATING:  # alembic's migration context is process-wide: one ledger is opened at a time
            rt = Runtime.open(project)
        rt.ledger.ensure_project(project.id, project.config.project.client, str(root),
                                 [s.model_dump() for s in project.shots.shots])  # fmt: skip
        RUNTIMES[project.id] = rt
        try:
            client = httpx.AsyncClient(transport=_Timeouts(stall))
            loop = id(asyncio.get_running_loop())
            rt._adapters[(route.provider, route.kind, loop)] = route.make(emu.env(), client, policy)
            plan = _plan(rt, route)
            parent = _parent_still(rt, plan) if route.stage == "clip" else None
            tr = _Trace(rt)
            outcome = "raised"
            for _ in range(1 + RESUMES):
                try:
                    outcome = await _one_attempt(plan, route.stage, parent, tr)
                    break
                except ProviderError as e:  # the workflow would end here; the next run starts the take again
                    tr.raised(e, _only_take(rt, route.stage).state)
                    outcome = "raised"
            t = _only_take(rt, route.stage)
            creates = emu.create_requests(route_log_name(route))
            before = len(creates)
            again = await start_take(plan, route.stage, 1, parent)  # a later run
            after = len(emu.create_requests(route_log_name(route)))
            tr.answers.append(f"next run: start {again.outcome}")
            calls = calls_of(rt, t.id)
            seen = Seen(
                first=tr.first or "—",
                ledger=t.state,
                outcome=outcome,
                sent=before,
                paid=sum(1 for e in creates if e.get("accepted") is True),
            )
            fired = list(emu.plan.fired)
            return Take(
                seen=seen,
                answers=tr.answers,
                creates=creates,
                intents=sum(1 for op, out in calls if op == "intent" and out == "submitting"),
                key=t.idempotency_key,
                calls=calls,
                sent_by_next_run=after - before,
            ), fired
        finally:
            await rt.aclose()
            RUNTIMES.pop(project.id, None)
            rt.db.dispose()


_TEMPLATE: list[Path] = []


def _ledger_file(path: Path) -> None:
    """A fresh ledger file for a row: a copy of one migrated once per process (migrating each row's ledger
    would be most of the matrix's time, one at a time); opening it still checks it is at the head revision."""
    with _MIGRATING:
        if not _TEMPLATE:
            folder = tempfile.mkdtemp(prefix="gc-matrix-ledger-")
            atexit.register(shutil.rmtree, folder, True)
            template = Path(folder) / "state.db"
            Database(f"sqlite:///{template}").dispose()
            _TEMPLATE.append(template)
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_TEMPLATE[0], path)


def calls_of(rt: Runtime, take_id: int) -> list[tuple[str, str]]:
    """The ledger's call log of a take: (op, outcome), in order."""
    q = select(ProviderCallRow).where(ProviderCallRow.take_id == take_id).order_by(ProviderCallRow.id)
    with rt.db.read_session() as s:
        return [(c.op, c.outcome) for c in s.scalars(q)]


def _only_take(rt: Runtime, stage: str) -> Any:
    takes = [t for t in rt.ledger.takes(rt.project.id) if t.stage == stage]
    assert len(takes) == 1, takes
    return takes[0]


def route_log_name(route: Route) -> str:
    """The emulator log's provider name for a route: the service it calls (Kling on fal is fal)."""
    return route.provider.split("-")[0]

"""``goldenchain run``: plan the shots, start or resume one durable workflow per shot, follow them."""

from __future__ import annotations

import asyncio
import logging
import sys
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dbos import DBOS, SetWorkflowID

from goldenchain.config import Project, ProjectConfig
from goldenchain.errors import DatabaseUnavailable, UsageError
from goldenchain.orchestration import engine
from goldenchain.orchestration.hints import start_webhooks
from goldenchain.orchestration.plan import ShotPlan, build_plan
from goldenchain.orchestration.results import ShotResult
from goldenchain.orchestration.runtime import RUNTIMES, Runtime
from goldenchain.orchestration.waits import WAITS_TICK, read_waits
from goldenchain.orchestration.workflows import shot_workflow
from goldenchain.store.schema import ShotRow

log = logging.getLogger(__name__)

#: where a run that went as asked leaves a shot
OK_STATUSES = ("done", "stills_done", "drafts_ready")


@dataclass
class RunResult:
    run_id: str
    shots: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(s["status"] in OK_STATUSES for s in self.shots)

    @property
    def stopped(self) -> str | None:
        for s in self.shots:
            if s["status"] == "stopped":
                return str(s.get("detail"))
        return None


def _workflow_id(plan: ShotPlan, generation: int) -> str:
    return f"{plan.project_id}/{plan.shot_id}/{plan.identity()}/g{generation}"


async def _workflow_id_for(
    rt: Runtime, row: ShotRow, plan: ShotPlan, wf: str, status: Any | None
) -> tuple[str, bool]:
    """The workflow to start or re-attach to, and whether it already finished with the shot done.
    ``wf``: the shot's current workflow id; ``status``: the engine's status of it (None if it never ran)."""
    stranded = (
        status is not None
        and status.status not in engine.FINISHED
        and status.app_version not in (None, engine.APP_VERSION)
        and not engine.is_team(rt.project.database_url)
    )
    if stranded:
        # left unfinished by an older release: no process of this one resumes it, and on one machine no old
        # worker is left to finish it. Cancel it (and its takes' workflows, which would hold provider slots)
        # and start a new attempt; its paid takes are found again by their keys, never paid for twice.
        await DBOS.cancel_workflow_async(wf, cancel_children=True)
    elif status is None or status.status not in engine.FINISHED:
        return wf, False
    if status is not None and status.status == "SUCCESS" and row.status in OK_STATUSES:
        handle: Any = await DBOS.retrieve_workflow_async(wf)
        out = ShotResult.of(await handle.get_result())
        finished = ("done", "stills_done")  # a draft run's end counts only for a shot still waiting on it
        if out.status == row.status or (out.status in finished and row.status in finished):
            return wf, True
    gen = row.generation + 1  # the last attempt ended without the shot done: a new attempt; paid takes are
    rt.ledger.set_shot(plan.project_id, row.shot_id, generation=gen)  # reused by their keys
    return _workflow_id(plan, gen), False


ProgressFn = Callable[[list[ShotRow]], None]
#: team mode: shot id -> what it waits on (a provider queue, a worker and when it was last seen, a takeover)
WaitsFn = Callable[[dict[str, str]], None]


def _check_drafts(project: Project, only: str | None) -> None:
    """``run --draft``: refused before any spend where it cannot run (exit 2)."""
    from goldenchain.catalog import require_draft_model

    if only is not None:
        raise UsageError("--draft makes drafts only: leave out --only")
    require_draft_model(project.config)


async def _check_providers(project: Project) -> None:
    """Fail fast, before any spend or engine start: unknown providers or missing keys are usage errors."""
    from goldenchain.plugins.manager import get_registry

    reg = get_registry()
    cfg = project.config
    routes: list[tuple[str, str]] = [(cfg.video.provider, cfg.video.kind)]
    if cfg.video.source == "still":
        routes.insert(0, (cfg.stills.provider, "t2i"))
    for name, kind in routes:
        adapter = reg.provider(name, kind).factory(project.settings, None)
        await adapter.aclose()


async def report_waits(rt: Runtime, shot_wfs: dict[str, str], show: WaitsFn) -> None:
    """Every :data:`WAITS_TICK` seconds, what each unfinished shot waits on (a failed read is tried again)."""
    while True:
        await asyncio.sleep(WAITS_TICK)
        try:
            show(await asyncio.to_thread(read_waits, DBOS.list_workflows, rt.db, shot_wfs))
        except Exception:  # the database is away for a moment
            log.warning("reading what the shots wait on failed: %s", sys.exc_info()[1])


async def run_project(
    project: Project,
    *,
    max_cost: float | None = None,
    only: str | None = None,
    shot_ids: list[str] | None = None,
    on_progress: ProgressFn | None = None,
    tick: float = 0.3,
    force_reason: str | None = None,
    quote_id: str | None = None,
    lint_errors: list[dict[str, Any]] | None = None,
    on_waits: WaitsFn | None = None,
    drafts: bool = False,
    configs: Mapping[str, ProjectConfig] | None = None,
) -> RunResult:
    """Run the chain on the wanted shots; ``drafts``: ``run --draft`` (drafts only, for a person to choose; a
    shot already done is left as it is); ``configs``: a shot's own settings where they differ from the
    project's (an A/B test's variants; same routes)."""
    if drafts:
        _check_drafts(project, only)
    if only not in (None, "stills", "clips"):
        raise UsageError("--only takes 'stills' or 'clips'")
    if only is not None and project.config.video.source == "text":
        raise UsageError(
            '--only does not apply to a text-to-video project ([video] source = "text"): it has no stills'
        )
    wanted = [s.id for s in project.shots.shots]
    if shot_ids:
        unknown = [s for s in shot_ids if s not in wanted]
        if unknown:
            raise UsageError(f"unknown shot id(s): {', '.join(unknown)}")
        wanted = [s for s in wanted if s in shot_ids]
    await _check_providers(project)
    rt = Runtime.open(project)
    rt.ledger.ensure_project(
        project.id,
        project.config.project.client,
        str(project.root),
        [s.model_dump() for s in project.shots.shots],
    )
    RUNTIMES[project.id] = rt
    # a person starts a run: routes paused by an environment failure are tried once more (the fix may be in)
    rt.ledger.reset_breakers()
    run_id = uuid.uuid4().hex[:12]
    team = engine.is_team(project.database_url)
    # before the engine, which may resume a take at once; in team mode the workers run takes and receive
    hooks = None if team else start_webhooks(project)
    if hooks is not None:
        rt.hub, rt.callback_base = hooks.hub, hooks.base_url
    rt.ledger.start_run(run_id, project.id, max_cost, force_reason, lint_errors)
    # team mode: this process only enqueues and follows; `goldenchain worker` processes do the work
    engine.launch(
        project.database_url, executor_id=f"client-{run_id}" if team else None, listen=[] if team else None
    )
    try:
        await engine.register_project_queues(project)
        shot_queue = await DBOS.retrieve_queue_async(engine.SHOT_QUEUE)
        assert shot_queue is not None
        handles: list[tuple[str, Any]] = []
        result: RunResult = RunResult(run_id)
        rows = {r.shot_id: r for r in rt.ledger.shots(project.id)}
        skipped = [sid for sid in wanted if drafts and rows[sid].status == "done"]
        wanted = [sid for sid in wanted if sid not in skipped]
        plans: dict[str, tuple[ShotPlan, str]] = {}  # shot -> (plan, its current workflow id)
        for sid in wanted:
            plan = build_plan(
                project,
                sid,
                run_id=run_id,
                max_cost=max_cost,
                only=only,
                quote_id=quote_id,
                drafts=drafts,
                config=(configs or {}).get(sid),
            )
            plan = plan.with_takes(rows[sid].extra_still_takes, rows[sid].extra_clip_takes)
            plans[sid] = plan, _workflow_id(plan, rows[sid].generation)
        # one status query for every shot's current workflow, not one per shot
        statuses = {st.workflow_id: st for st in await engine.statuses([wf for _, wf in plans.values()])}
        to_start: dict[str, str] = {}
        for sid in wanted:
            plan, current = plans[sid]
            wf, done = await _workflow_id_for(rt, rows[sid], plan, current, statuses.get(current))
            if done:
                handles.append((sid, await DBOS.retrieve_workflow_async(wf)))
            else:
                to_start[sid] = wf
        rt.ledger.set_workflow_ids(project.id, to_start)  # one transaction, then the shots start in order
        for sid, wf in to_start.items():
            with SetWorkflowID(wf):
                handles.append((sid, await shot_queue.enqueue_async(shot_workflow, plans[sid][0])))
        order = {sid: i for i, sid in enumerate(wanted)}
        handles.sort(key=lambda h: order[h[0]])  # results in the shot list's order

        async def report_progress(show: ProgressFn) -> None:
            while True:
                try:
                    show([r for r in rt.ledger.shots(project.id) if r.shot_id in wanted])
                except DatabaseUnavailable as e:  # shown again once the database is back
                    log.warning("reading the shots failed: %s", e)
                await asyncio.sleep(tick)

        ticker = asyncio.create_task(report_progress(on_progress)) if on_progress else None
        waiter = None
        if team and on_waits is not None:
            shot_wfs = {sid: h.workflow_id for sid, h in handles}
            waiter = asyncio.create_task(report_waits(rt, shot_wfs, on_waits))
        try:
            outs = await engine.wait_all([h for _, h in handles])
        finally:
            for t in (ticker, waiter):
                if t is not None:
                    t.cancel()
        if on_progress:
            on_progress([r for r in rt.ledger.shots(project.id) if r.shot_id in wanted])
        for sid in skipped:  # a draft run makes no drafts for a shot in the cut already
            result.shots.append(
                {"shot": sid, "status": "done", "stage": "done", "detail": "done: no drafts made"}
            )
        for (sid, _), out in zip(handles, outs, strict=True):
            if isinstance(out, BaseException):
                result.shots.append({"shot": sid, "status": "failed", "stage": "engine", "detail": repr(out)})
            else:
                result.shots.append(ShotResult.of(out).to_json())
        status = "done" if result.ok else ("stopped" if result.stopped else "failed")
        rt.ledger.finish_run(run_id, status, result.stopped)
        return result
    finally:
        try:
            await rt.settle_creates()  # a create in flight at Ctrl-C gets its answer recorded first
        finally:
            engine.shutdown()
            await rt.aclose()
            RUNTIMES.pop(project.id, None)
            rt.db.dispose()
            if hooks is not None:
                hooks.close()

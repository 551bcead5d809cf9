"""Calibration runs: the library's calibration prompts with fixed seeds through the project's own routes (the
same workflows as ``goldenchain run``), their metrics in the ledger, and the drift against the last
calibration of the same routes."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from goldenchain.api._common import reading, with_ledger
from goldenchain.config import Project, ShotList, ShotSpec
from goldenchain.core.calibration import Drift, compare, prompt_metrics, seed_for
from goldenchain.errors import GoldenchainError, UsageError
from goldenchain.store.calibration import CalibrationRun
from goldenchain.store.ledger import Ledger

__all__ = [
    "CalibrationPlan",
    "CalibrationReport",
    "calibrate",
    "calibration_plan",
    "calibration_report",
    "calibrations",
]

#: the ledger project a calibration's takes are booked under: the project's id and this
LEDGER_SUFFIX = ".calibration"
SCENES = ("portrait", "landscape", "environment", "action", "product")


def calibration_prompts(p: Project) -> list[Any]:
    """``[calibration] prompts``, else every calibration prompt of the library and the first golden prompt of
    each scene type."""
    from goldenchain.prompts.library import load_library

    lib = load_library(p.root)
    if p.config.calibration.prompts:
        return [lib.get(pid) for pid in p.config.calibration.prompts]
    live = [e for e in lib.entries if e.status != "retired"]
    chosen = [e for e in live if e.kind == "calibration"]
    for scene in SCENES:
        first = next(
            (e for e in live if e.kind == "good" and e.status == "golden" and e.scene == scene), None
        )
        if first is not None:
            chosen.append(first)
    if not chosen:
        raise UsageError("the prompt library has no calibration prompts (goldenchain prompts list)")
    return chosen


def routes_of(p: Project) -> str:
    """The routes and models a calibration measures: what its drift is compared across."""
    st, v = p.config.stills, p.config.video
    clip = f"{v.provider}:{v.model}:{v.mode}"
    return clip if v.source == "text" else f"{st.provider}:{st.model} -> {clip}"


def _ledger_project(p: Project, prompts: list[dict[str, Any]]) -> Project:
    """The project a calibration runs as: the project's routes, models, gate and clip check, one take per
    stage (a calibration measures, it does not retry), the near-duplicate check off (the same prompts and seeds
    make the same stills every time), the calibration prompts as its shots."""
    c = p.config
    thresholds = {**c.gate.thresholds, "near_duplicate": -1.0}
    cfg = c.model_copy(
        update={
            "project": c.project.model_copy(update={"name": p.id + LEDGER_SUFFIX}),
            "stills": c.stills.model_copy(update={"max_takes": 1}),
            "video": c.video.model_copy(update={"max_takes": 1}),
            "gate": c.gate.model_copy(update={"thresholds": thresholds}),
            "qc": c.qc.model_copy(update={"on_reject": "reroll"}),
        }
    )
    try:
        shots = ShotList(
            shots=[
                ShotSpec(
                    id=x["shot"], prompt=x["text"], scene=x["scene"], seed=x["seed"], video_prompt=x["video"]
                )
                for x in prompts
            ]
        )
    except ValidationError as e:  # a studio's prompt file with an id or a scene a shot cannot have
        first = e.errors()[0]
        raise UsageError(f"calibration prompt {first['loc']}: {first['msg']}") from None
    return Project(root=p.root, config=cfg, shots=shots, settings=p.settings)


@dataclass(frozen=True)
class CalibrationPlan:
    """A calibration before any spend: its prompts and seeds, its routes and its estimate."""

    run_id: str
    resumed: bool  #: an unfinished calibration of these routes, picked up again (its paid takes are kept)
    routes: str
    stills_only: bool
    prompts: tuple[dict[str, Any], ...]  #: ``prompt``, ``shot``, ``seed``, ``scene``, ``text``, ``video``
    estimate: dict[str, Any]  #: :func:`goldenchain.api.estimate`'s shape, for the calibration's shots
    project: Project = field(repr=False)  #: what runs: the calibration prompts as shots


def calibration_plan(
    p: Project, *, stills_only: bool = False, ledger: Ledger | None = None
) -> CalibrationPlan:
    """What ``goldenchain calibrate`` will run and what it costs; no spend. An unfinished calibration of the
    same routes (a crash, Ctrl-C) is resumed: same shots, same takes, nothing paid twice."""
    from goldenchain.api._reads import estimate
    from goldenchain.catalog import require_specs
    from goldenchain.orchestration.engine import is_team

    require_specs(p.config)
    if is_team(p.database_url):  # the workers run only the project's own shots
        raise UsageError(
            "calibrate runs on one machine, not in team mode: run it where GOLDENCHAIN_DATABASE_URL is unset"
        )
    if stills_only and p.config.video.source == "text":
        raise UsageError('--stills-only does not apply to a text-to-video project ([video] source = "text")')
    routes = routes_of(p)
    old = reading(
        p, lambda led: led.unfinished_calibration(p.id, routes, stills_only) if led else None, ledger
    )
    run_id = old.id if old is not None else uuid.uuid4().hex[:10]
    entries = calibration_prompts(p)
    prompts = [
        {"prompt": e.id, "shot": f"{e.id}-{run_id}", "seed": seed_for(e.id), "scene": e.scene,
         "text": e.prompt, "video": e.video_prompt}
        for e in entries
    ]  # fmt: skip
    if old is not None:  # the prompts it started with, whatever the library says now
        keep = {x["shot"] for x in old.prompts}
        prompts = [x for x in prompts if x["shot"] in keep] or prompts
    cal = _ledger_project(p, prompts)
    est = estimate(cal, ledger=ledger)
    if stills_only:
        est = _stills_only(est)
    return CalibrationPlan(run_id, old is not None, routes, stills_only, tuple(prompts), est, cal)


def _stills_only(est: dict[str, Any]) -> dict[str, Any]:
    rows = {
        k: {**r, "expected_usd": r["still_usd"] if "still" in r["needs"] else 0.0}
        for k, r in est["shots"].items()
    }
    total = round(sum(r["expected_usd"] for r in rows.values()), 4)
    budgets = [{**b, "expected_fits": total <= b["left_usd"] + 1e-9, "worst_case_fits": total <= b["left_usd"] + 1e-9}
               for b in est["budgets"]]  # fmt: skip
    return {**est, "shots": rows, "total_usd": total, "worst_case_usd": total, "budgets": budgets,
            "by_shot": {k: r["expected_usd"] for k, r in rows.items()}}  # fmt: skip


def _refuse_over(plan: CalibrationPlan, max_cost: float | None) -> None:
    need = float(plan.estimate["worst_case_usd"])
    if max_cost is not None and need > max_cost + 1e-9:
        raise GoldenchainError(
            f"the calibration needs ${need:.2f}, more than --max-cost ${max_cost:.2f}; nothing spent"
        )
    for b in plan.estimate["budgets"]:
        if b["cap"] != "--max-cost" and not b["worst_case_fits"]:
            raise GoldenchainError(
                f"the calibration needs ${need:.2f}, the {b['cap']} budget has ${b['left_usd']:.2f} left; "
                "nothing spent"
            )


@dataclass(frozen=True)
class CalibrationReport:
    """One calibration run against the last of the same routes (none: this run is the baseline)."""

    run: CalibrationRun
    previous: str | None  #: the calibration compared with
    metrics: tuple[Drift, ...]
    #: per prompt: ``prompt``, ``shot``, ``seed``, ``status``, ``metrics``, and its ``still`` and ``clip`` (file
    #: paths relative to the project, or None)
    prompts: tuple[dict[str, Any], ...]

    @property
    def flagged(self) -> list[str]:
        return [d.metric for d in self.metrics if d.flagged]

    @property
    def ok(self) -> bool:
        return not self.flagged

    def to_json(self) -> dict[str, Any]:
        r = self.run
        return {
            "calibration": r.id,
            "project": r.project_id,
            "routes": r.routes,
            "stills_only": r.stills_only,
            "baseline": self.previous is None,
            "previous": self.previous,
            "estimate_usd": r.estimate_usd,
            "spent_usd": r.spent_usd,
            "ok": self.ok,
            "flagged": self.flagged,
            "metrics": [d.to_json() for d in self.metrics],
            "prompts": list(self.prompts),
        }


def _report(led: Ledger, run: CalibrationRun, bands: Any) -> CalibrationReport:
    """``run`` against the newest finished calibration of the same routes started before it."""
    before = [
        r for r in led.calibration_runs(run.project_id)
        if r.routes == run.routes and r.status == "done" and r.id != run.id and r.started_at <= run.started_at
    ]  # fmt: skip
    prev = before[-1] if before else None
    got = led.calibration_metrics([run.id] + ([prev.id] if prev else []))
    drifts = compare(got[run.id], got[prev.id] if prev else None, bands)
    shots = {s.shot_id: s for s in led.shots(run.ledger_project)}
    takes = led.takes(run.ledger_project)
    prompts = []
    for x in run.prompts:
        row = shots.get(str(x["shot"]))
        mine = {m: v for pid, m, v, _ in got[run.id] if pid == x["prompt"]}
        files = {}  # the newest still and clip of the prompt, to look at beside the last calibration's
        for t in sorted((t for t in takes if t.shot_id == x["shot"]), key=lambda t: t.id):
            art = led.artifact(t.artifact_sha256) if t.artifact_sha256 else None
            if art is not None and t.stage in ("still", "clip"):
                files[t.stage] = art.path
        prompts.append(
            {"prompt": x["prompt"], "shot": x["shot"], "seed": x["seed"],
             "status": row.status if row else "pending", "metrics": mine,
             "still": files.get("still"), "clip": files.get("clip")}
        )  # fmt: skip
    return CalibrationReport(run, prev.id if prev else None, tuple(drifts), tuple(prompts))


def calibrate(
    p: Project,
    *,
    max_cost: float | None = None,
    stills_only: bool = False,
    plan: CalibrationPlan | None = None,
    on_progress: Callable[[list[Any]], None] | None = None,
) -> CalibrationReport:
    """Run the calibration prompts with their fixed seeds through the project's routes (still, image gate,
    clip, clip check; ``stills_only``: still and gate), record each prompt's metrics in the ledger and compare
    them with the last calibration of the same routes.

    Refused before any spend (:class:`~goldenchain.errors.GoldenchainError`, exit 1) when the estimate is over
    ``max_cost`` or a budget's room. ``plan``: one :func:`calibration_plan` made (and shown) before."""
    from goldenchain.api._runs import Interrupted
    from goldenchain.orchestration.interrupt import until_interrupted
    from goldenchain.orchestration.run import run_project
    from goldenchain.store.lock import run_lock

    if max_cost is not None and max_cost <= 0:
        raise UsageError("--max-cost must be positive")
    plan = plan or calibration_plan(p, stills_only=stills_only)
    _refuse_over(plan, max_cost)
    cal = plan.project
    with_ledger(
        p,
        lambda led: led.start_calibration(
            plan.run_id, p.id, cal.id, plan.routes, plan.stills_only,
            [{k: x[k] for k in ("prompt", "shot", "seed")} for x in plan.prompts],
            float(plan.estimate["worst_case_usd"]),
        ),
    )  # fmt: skip
    with run_lock(p.state_dir, command="goldenchain calibrate"):
        try:
            asyncio.run(
                until_interrupted(
                    run_project(
                        cal,
                        max_cost=max_cost,
                        only="stills" if plan.stills_only else None,
                        on_progress=on_progress,
                    )
                )
            )
        except KeyboardInterrupt:
            raise Interrupted(with_ledger(p, lambda led: led.interrupt(cal.id))) from None

    def finish(led: Ledger) -> CalibrationReport:
        takes = led.take_records(cal.id)
        lat = {t.id: t.latency_s for t in led.takes(cal.id) if t.latency_s is not None}
        rows = []
        for x in plan.prompts:
            rows += prompt_metrics(str(x["prompt"]), [t for t in takes if t.shot == x["shot"]], lat)
        run = led.finish_calibration(plan.run_id, rows)
        return _report(led, run, p.config.calibration)

    return with_ledger(p, finish)


def calibrations(p: Project, *, ledger: Ledger | None = None) -> list[CalibrationRun]:
    """The project's calibration runs, oldest first (none before the first)."""
    return reading(p, lambda led: led.calibration_runs(p.id) if led else [], ledger)


def calibration_report(
    p: Project, run_id: str | None = None, *, ledger: Ledger | None = None
) -> CalibrationReport:
    """A finished calibration (default: the newest) against the one before it of the same routes."""

    def read(led: Ledger | None) -> CalibrationReport:
        done = [r for r in (led.calibration_runs(p.id) if led else []) if r.status == "done"]
        if not done:
            raise UsageError("no calibration yet (goldenchain calibrate)")
        run = done[-1] if run_id is None else next((r for r in done if r.id == run_id), None)
        if run is None or led is None:
            raise UsageError(f"no finished calibration {run_id!r} (goldenchain calibrate --history)")
        return _report(led, run, p.config.calibration)

    return reading(p, read, ledger)

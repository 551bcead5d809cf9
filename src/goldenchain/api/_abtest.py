"""A/B tests of prompt or setting variants over paired seeds, through the same chain and workflows as a run.

A test runs in a ledger project of its own (``<project>.ab.<name>``), so its takes never enter the project's
shots, cut or deliverables; its spend counts against the project's budget and every other budget as a run's
does. Nothing is spent before the estimate is shown and fits ``max_cost`` and every budget.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from goldenchain.api._common import reading, with_ledger
from goldenchain.config import Project, ShotList
from goldenchain.core import abtest as ab
from goldenchain.errors import GoldenchainError, LedgerError, UsageError
from goldenchain.store.abtests import AbResult, Abtest
from goldenchain.store.ledger import Ledger

#: where a pair's variant ended: a verdict either way, or no verdict yet (the pair is left out of the tests)
VERDICTS = ("accepted", "rejected", "failed")
#: a pair shot's statuses where its run ended
ENDED = ("done", "failed", "blocked", "stopped", "needs_review")


@dataclass(frozen=True)
class AbPlan:
    """A test's pair shots and the settings each runs with, as the engine runs them."""

    test: Abtest
    project: Project  #: the test's own ledger project (its shots: every variant of every pair)
    configs: dict[str, Any]  #: pair shot id -> the variant's settings


def _get(p: Project, name: str, led: Ledger | None) -> Abtest:
    test = led.abtest(p.id, name) if led else None
    if test is None:
        raise UsageError(f"no A/B test named {name!r} in project {p.id} (goldenchain abtest list)")
    return test


def _variants(test: Abtest) -> list[ab.Variant]:
    return [ab.Variant(v["name"], v["prompt"], dict(v["settings"])) for v in test.spec["variants"]]


def abtest_new(
    p: Project,
    name: str,
    *,
    shot: str,
    variants: list[str],
    settings: list[str] | None = None,
    pairs: int = 10,
    seed: int | None = None,
) -> dict[str, Any]:
    """Record a test: ``variants`` as ``NAME[=PROMPT]``, ``settings`` as ``NAME:KEY=VALUE``, over ``pairs`` paired
    seeds (from ``seed``, else the shot's). Nothing is spent; the estimate comes back with it."""
    from goldenchain.orchestration.plan import default_seed

    if not ab.NAME.match(name):
        raise UsageError(f"test name {name!r}: letters, digits, _ and - only, at most 40")
    if len(ab.ledger_project(p.id, name)) > 120:
        raise UsageError(f"test name {name!r} is too long for project {p.id}")
    if not 1 <= pairs <= ab.MAX_PAIRS:
        raise UsageError(f"--pairs must be between 1 and {ab.MAX_PAIRS}")
    base = p.shot(shot)
    vs = ab.parse_variants(variants, settings or [])
    start = seed if seed is not None else (base.seed if base.seed is not None else default_seed(base.id))
    spec = {
        "shot": shot,
        "pairs": pairs,
        "seeds": ab.pair_seeds(start, pairs),
        "variants": [v.to_json() for v in vs],
        "ledger_project": ab.ledger_project(p.id, name),
        "salt": secrets.token_hex(16),  # the blind order's secret
    }
    draft = Abtest(0, p.id, name, spec, None, None)
    notes = _lint(
        p, _plan(p, draft, None)
    )  # every variant's shot, settings and models valid before it is kept

    def add(led: Ledger) -> Abtest:
        led.ensure_project(
            p.id, p.config.project.client, str(p.root), [s.model_dump() for s in p.shots.shots]
        )
        try:
            return led.add_abtest(p.id, name, spec)
        except LedgerError as e:
            raise UsageError(str(e)) from None

    test = with_ledger(p, add)
    return {"name": name, "spec": _public(test.spec), "estimate": abtest_estimate(p, name), "lint": notes}


#: lint rules that are the studio's policy, not what a model can do: a test may try what they warn against
POLICY_RULES = frozenset(
    {
        "empty-prompt", "checks-disabled", "camera-horizontal", "camera-vertical", "camera-zoom",
        "camera-rotation", "motion-too-high", "motion-band",
    }
)  # fmt: skip


def _lint(p: Project, plan: AbPlan) -> list[str]:
    """Each variant's lint findings, as notes; an error that is not the studio's policy (a model that cannot
    do what a variant asks: the adapter would refuse it before any spend) refuses the test (exit 2)."""
    from goldenchain.core.rules import PROMPT_RULES
    from goldenchain.linting import lint_project

    policy = POLICY_RULES | {r.id for r in PROMPT_RULES} | {r.id for r in p.config.lint.rules}
    notes = []
    for v in _variants(plan.test):
        shot = next(s for s in plan.project.shots.shots if s.id == ab.pair_shot_id(v.name, 1))
        sub = Project(
            root=p.root, config=plan.configs[shot.id], shots=ShotList(shots=[shot]), settings=p.settings
        )
        for f in lint_project(sub):
            if f.severity == "error" and f.rule not in policy:
                raise UsageError(f"variant {v.name!r} cannot run: {f.rule}: {f.message} ({f.hint})")
            if f.severity != "info":
                notes.append(f"variant {v.name}: {f.severity} {f.rule}: {f.message}")
    return notes


def _public(spec: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in spec.items() if k != "salt"}


def _plan(p: Project, test: Abtest, room: float | None) -> AbPlan:
    spec = test.spec
    base = p.shot(spec["shot"])
    shots, configs = [], {}
    for i, seed in enumerate(spec["seeds"], start=1):
        for v in _variants(test):
            s = ab.variant_shot(base, v, i, seed)
            shots.append(s)
            configs[s.id] = ab.variant_config(
                p.config, v, ledger_project=spec["ledger_project"], project_room=room
            )
    cfg = p.config.model_copy(update={"project": configs[shots[0].id].project})
    sub = Project(root=p.root, config=cfg, shots=ShotList(shots=shots), settings=p.settings)
    return AbPlan(test, sub, configs)


def _room(p: Project, led: Ledger | None) -> tuple[float | None, dict[str, float]]:
    """What the project budget has left after the project's spend and every test's, and each cap's use."""
    if led is None:
        return p.config.budget.project_usd, {"project": 0.0, "client": 0.0, "day": 0.0, "month": 0.0}
    used = led.budget_used(p.id, p.config.project.client)
    for t in led.abtests(p.id):
        used["project"] += led.budget_used(t.spec["ledger_project"], p.config.project.client)["project"]
    cap = p.config.budget.project_usd
    return (None if cap is None else round(cap - used["project"], 4)), used


def abtest_estimate(p: Project, name: str, *, ledger: Ledger | None = None) -> dict[str, Any]:
    """What the test's remaining takes cost (one still and one clip per variant and pair; a pair done is
    free), per variant, and how much room each budget has left."""
    from goldenchain.core.estimate import progress_of

    def read(led: Ledger | None) -> dict[str, Any]:
        test = _get(p, name, led)
        room, used = _room(p, led)
        plan = _plan(p, test, room)
        sub_id = plan.project.id
        assert led is not None
        by_variant, takes = _price(plan, progress_of(led.shots(sub_id), led.takes(sub_id)))
        total = round(sum(by_variant.values()), 4)
        b = p.config.budget
        rooms = {
            "project": room,
            "client": None if b.client_usd is None else round(b.client_usd - used["client"], 4),
            "day": None if b.daily_usd is None else round(b.daily_usd - used["day"], 4),
            "month": None if b.monthly_usd is None else round(b.monthly_usd - used["month"], 4),
        }
        return {
            "name": name,
            "total_usd": total,
            "by_variant": by_variant,
            "pairs_left": takes,
            "budget_left": rooms,
        }

    return dict(reading(p, read, ledger))


def _price(plan: AbPlan, progress: dict[str, Any]) -> tuple[dict[str, float], int]:
    """Each variant's remaining cost (its models' specs: an unknown model is a usage error) and the variant
    takes left."""
    from goldenchain.core.estimate import estimate_remaining

    by_variant: dict[str, float] = {}
    left = 0
    for v in _variants(plan.test):
        shots = [s for s in plan.project.shots.shots if s.id.startswith(v.name + "-p")]
        est = estimate_remaining(plan.configs[shots[0].id], shots, progress)
        by_variant[v.name] = float(est["total_usd"])
        left += sum(1 for r in est["shots"].values() if r["needs"])
    return by_variant, left


def check_budget(est: dict[str, Any], max_cost: float | None) -> None:
    """Refused before any spend (exit 1) when the estimate is above ``max_cost`` or a budget's room."""
    need = float(est["total_usd"])
    if max_cost is not None and need > max_cost + 1e-9:
        raise GoldenchainError(
            f"A/B test {est['name']}: the estimate ${need:.2f} is above --max-cost ${max_cost:.2f}; nothing spent"
        )
    for scope, left in est["budget_left"].items():
        if left is not None and need > left + 1e-9:
            raise GoldenchainError(
                f"A/B test {est['name']}: the estimate ${need:.2f} is above what the {scope} budget has left "
                f"(${max(0.0, left):.2f}); nothing spent"
            )


def abtest_run(
    p: Project,
    name: str,
    *,
    max_cost: float | None = None,
    by_person: bool = False,
    alpha: float = 0.05,
    on_progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Run the test's remaining pairs through the chain (still, image gate, clip, clip check; one take per
    stage), within ``max_cost`` and the budgets, then record each variant's outcome per pair and the report.
    Started by a person (``by_person``, as ``goldenchain abtest run`` is): an A/B test has no quote.
    ``on_progress(finished, total)``: the variant takes that ended, as they end. ``unfinished`` in the answer:
    the variant takes an outage blocked or a budget stopped (no verdict yet; the next run picks them up)."""
    from goldenchain.orchestration.interrupt import until_interrupted
    from goldenchain.orchestration.run import run_project
    from goldenchain.store.lock import run_lock

    if not by_person:
        raise UsageError("an A/B test spends money: a person starts it (goldenchain abtest run)")
    if not 0 < alpha < 1:
        raise UsageError("--alpha must be between 0 and 1")
    if max_cost is not None and max_cost <= 0:
        raise UsageError("--max-cost must be a positive number of dollars")
    est = abtest_estimate(p, name)
    check_budget(est, max_cost)

    def prepare(led: Ledger) -> AbPlan:
        test = _get(p, name, led)
        return _plan(p, test, _room(p, led)[0])

    plan = with_ledger(p, prepare)
    _lint(p, plan)
    if est["pairs_left"]:
        with run_lock(p.state_dir, command=f"goldenchain abtest run {name}"):
            seen: list[int] = []

            def progress(rows: list[Any]) -> None:
                ended = sum(1 for r in rows if r.status in ENDED)
                if on_progress is not None and (not seen or seen[-1] != ended):
                    seen.append(ended)
                    on_progress(ended, len(rows))

            asyncio.run(
                until_interrupted(
                    run_project(plan.project, max_cost=max_cost, configs=plan.configs, on_progress=progress)
                )
            )
    with_ledger(p, lambda led: led.save_abtest_results(plan.test.id, collect(led, plan)))
    out = abtest_report(p, name, alpha=alpha)
    out["estimate"] = est
    results = with_ledger(p, lambda led: led.abtest_results(plan.test.id))
    out["unfinished"] = [r.to_json() for r in results if r.outcome not in VERDICTS]
    return out


def collect(led: Ledger, plan: AbPlan) -> list[AbResult]:
    """Each variant's outcome per pair from the test's shots and takes in the ledger."""
    sub = plan.project.id
    rows = {r.shot_id: r for r in led.shots(sub)}
    takes: dict[str, list[Any]] = {}
    for t in led.takes(sub):
        takes.setdefault(t.shot_id, []).append(t)
    out = []
    for i, seed in enumerate(plan.test.spec["seeds"], start=1):
        for v in _variants(plan.test):
            sid = ab.pair_shot_id(v.name, i)
            row, mine = rows.get(sid), takes.get(sid, [])
            still = next((t for t in mine if t.stage == "still"), None)
            clip = next((t for t in mine if t.stage == "clip"), None)
            cost = round(sum(t.cost_usd or 0.0 for t in mine), 4)
            status = row.status if row is not None else "pending"
            if clip is not None and clip.state == "downloaded" and clip.verdict in ("pass", "warn"):
                outcome = "accepted"
            elif (still is not None and still.verdict == "reject") or (
                clip is not None and clip.verdict == "reject"
            ):
                outcome = "rejected"
            elif status in ("blocked", "stopped", "pending"):
                outcome = status
            else:
                outcome = "failed"
            detail = row.detail if row is not None else None
            out.append(
                AbResult(
                    v.name,
                    i,
                    seed,
                    sid,
                    outcome,
                    detail,
                    still.id if still else None,
                    clip.id if clip else None,
                    cost,
                )
            )
    return out


def abtest_report(
    p: Project,
    name: str,
    *,
    alpha: float = 0.05,
    plot: bool = True,
    save: bool = True,
    ledger: Ledger | None = None,
) -> dict[str, Any]:
    """Per variant: takes, acceptance rate with its Wilson interval, cost per accepted clip, mean blind rating;
    each variant against the first (McNemar exact on the verdicts, sign test on the ratings, Holm with more
    than two); a winner only where a test is significant at ``alpha``. With ``save`` stored in the ledger as
    the test's last report; with ``plot`` written to ``out/abtests/NAME.png`` and ``NAME.json``."""
    from goldenchain.core.abstats import analyse

    if not 0 < alpha < 1:
        raise UsageError("--alpha must be between 0 and 1")

    def go(led: Ledger) -> dict[str, Any]:
        test = _get(p, name, led)
        names = [v.name for v in _variants(test)]
        verdicts: dict[str, dict[int, bool]] = {n: {} for n in names}
        costs: dict[str, dict[int, float]] = {n: {} for n in names}
        for r in led.abtest_results(test.id):
            costs[r.variant][r.pair] = r.cost_usd
            if r.outcome in VERDICTS:
                verdicts[r.variant][r.pair] = r.outcome == "accepted"
        per: dict[str, dict[int, list[int]]] = {n: {} for n in names}
        for rt in led.abtest_ratings(test.id):
            per.setdefault(rt.variant, {}).setdefault(rt.pair, []).append(rt.rating)
        ratings = {v: {i: sum(x) / len(x) for i, x in d.items()} for v, d in per.items()}
        rep = analyse(names, verdicts, costs, ratings, alpha=alpha).to_json()
        rep.update(
            name=name,
            shot=test.spec["shot"],
            planned_pairs=test.spec["pairs"],
            variants_spec=[_public_variant(v) for v in test.spec["variants"]],
        )
        if save:
            led.set_abtest_report(test.id, rep)
        return rep

    rep = with_ledger(p, go, ledger)
    if plot:
        from goldenchain.reports.abtest import write_report

        rep["plot"], rep["path"] = (str(x) for x in write_report(rep, p.out_dir / "abtests"))
    return rep


def _public_variant(v: dict[str, Any]) -> dict[str, Any]:
    return {"name": v["name"], "prompt": v["prompt"], "settings": v["settings"]}


def abtest_list(p: Project, *, ledger: Ledger | None = None) -> list[dict[str, Any]]:
    """Every test of the project: its shot, variants, pairs planned and done, and its last winner."""

    def read(led: Ledger | None) -> list[dict[str, Any]]:
        out = []
        for t in led.abtests(p.id) if led else []:
            done = {r.pair for r in led.abtest_results(t.id) if r.outcome in VERDICTS} if led else set()
            rep = t.report or {}
            out.append(
                {
                    "name": t.name,
                    "shot": t.spec["shot"],
                    "variants": [v["name"] for v in t.spec["variants"]],
                    "pairs": t.spec["pairs"],
                    "pairs_done": len(done),
                    "winner": rep.get("winner"),
                    "summary": rep.get("summary"),
                }
            )
        return out

    return reading(p, read, ledger)


def abtest_pair(
    p: Project, name: str, pair: int, *, who: str, ledger: Ledger | None = None
) -> dict[str, Any]:
    """A pair's clips for a blind rating, in the order this person sees them (never naming the variants):
    ``clips`` as ``{"slot", "sha256", "rating"}`` (the person's own rating, if any), and how many pairs."""
    return abtest_pairs(p, name, who=who, only=pair, ledger=ledger)[0]


def abtest_pairs(
    p: Project, name: str, *, who: str, only: int | None = None, ledger: Ledger | None = None
) -> list[dict[str, Any]]:
    """Every pair of the test (or pair ``only``) as :func:`abtest_pair` gives it, read at once."""

    def read(led: Ledger | None) -> list[dict[str, Any]]:
        test = _get(p, name, led)
        assert led is not None
        return _blind(led, test, who, [only] if only is not None else range(1, test.spec["pairs"] + 1))

    return reading(p, read, ledger)


def _blind(led: Ledger, test: Abtest, who: str, pairs: Iterable[int]) -> list[dict[str, Any]]:
    res = {(r.pair, r.variant): r for r in led.abtest_results(test.id)}
    names = [v["name"] for v in test.spec["variants"]]
    mine = {(r.pair, r.variant): r.rating for r in led.abtest_ratings(test.id) if r.who == who}
    clip_ids = {r.clip_take_id for r in res.values() if r.clip_take_id}
    sha = {t.id: t.artifact_sha256 for t in led.takes(test.spec["ledger_project"]) if t.id in clip_ids}
    out = []
    for pair in pairs:
        clips = []
        for slot, v in enumerate(ab.blind_order(test.spec["salt"], who, pair, names), start=1):
            r = res.get((pair, v))
            clip = sha.get(r.clip_take_id) if r is not None and r.clip_take_id else None
            clips.append({"slot": slot, "sha256": clip, "rating": mine.get((pair, v))})
        ready = all(c["sha256"] for c in clips)
        out.append(
            {"name": test.name, "pair": pair, "pairs": test.spec["pairs"], "clips": clips, "ready": ready}
        )
    return out


def abtest_rate(
    p: Project, name: str, pair: int, ratings: dict[int, int], *, who: str, ledger: Ledger | None = None
) -> dict[str, Any]:
    """A person's blind ratings (1-5) of a pair's clips by their slot on that person's page."""

    def go(led: Ledger) -> dict[str, Any]:
        test = _get(p, name, led)
        names = [v["name"] for v in test.spec["variants"]]
        if not 1 <= pair <= test.spec["pairs"]:
            raise UsageError(f"pair {pair} is not in test {name} (1-{test.spec['pairs']})")
        if not _blind(led, test, who, [pair])[0]["ready"]:
            raise UsageError(f"pair {pair} of test {name} has no clip of every variant to rate")
        order = ab.blind_order(test.spec["salt"], who, pair, names)
        if not ratings or any(s not in range(1, len(order) + 1) for s in ratings):
            raise UsageError(f"rate the clips by their slot, 1-{len(order)}")
        if any(r not in range(1, 6) for r in ratings.values()):
            raise UsageError("a rating is a whole number from 1 to 5")
        for slot, rating in ratings.items():
            led.rate_abtest(test.id, pair, order[slot - 1], rating, who)
        return _blind(led, test, who, [pair])[0]

    return with_ledger(p, go, ledger)

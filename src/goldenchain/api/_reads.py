"""What the API reads and checks, free of charge: status, takes, failures, costs, estimate, lint, gate, qc."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from goldenchain.api._common import reading
from goldenchain.config import Project
from goldenchain.core.checks import CheckReport
from goldenchain.core.rules import Finding
from goldenchain.core.takes import Take
from goldenchain.errors import UsageError
from goldenchain.store.ledger import Ledger


@dataclass(frozen=True)
class ShotInfo:
    """One shot: where it stands, why, and what a person can do; its takes, their verdicts and its spend."""

    id: str
    status: str
    stage: str
    detail: str | None
    next: str
    still_take_id: int | None
    clip_take_id: int | None
    takes: dict[str, int] = field(
        default_factory=dict
    )  #: takes per stage (``draft`` only where there are any)
    verdicts: tuple[str, ...] = ()  #: ``still1:pass``, ``clip2:rejected in review``, ...
    spend_usd: float = 0.0
    waiting_on: str | None = None  #: team mode: the queue or worker an unfinished shot waits on
    #: which draft the final still comes from (``{"take", "take_id", "how"}``, see ``goldenchain.core.drafts``)
    draft: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {**self.__dict__, "takes": dict(self.takes), "verdicts": list(self.verdicts)}


def _team_waits(p: Project, led: Ledger, rows: dict[str, Any]) -> dict[str, str]:
    from goldenchain.orchestration.engine import is_team, system_database_url
    from goldenchain.orchestration.waits import read_waits_offline

    if not is_team(p.database_url):
        return {}
    wfs = {sid: r.workflow_id for sid, r in rows.items() if r.workflow_id}
    return read_waits_offline(system_database_url(p.database_url), led.db, wfs)


def _take_counts(takes: list[Any]) -> dict[str, int]:
    """Takes per stage: still and clip always, draft where the shot has drafts (``run --draft``)."""
    counts = {stage: sum(1 for t in takes if t.stage == stage) for stage in ("still", "clip", "draft")}
    if not counts["draft"]:
        del counts["draft"]
    return counts


def status(p: Project, *, ledger: Ledger | None = None) -> list[ShotInfo]:
    """Every shot of the list, in its order, run or not."""
    from goldenchain.core.drafts import draft_source
    from goldenchain.core.shotstate import next_step
    from goldenchain.reports.costs import summarize

    def read(led: Ledger | None) -> list[ShotInfo]:
        rows = {r.shot_id: r for r in led.shots(p.id)} if led else {}
        takes = led.takes(p.id) if led else []
        spend = summarize(led.spend(p.id))["by_shot"] if led else {}
        waits = _team_waits(p, led, rows) if led else {}
        out = []
        for s in p.shots.shots:
            r = rows.get(s.id)
            st = r.status if r else "pending"
            tk = [t for t in takes if t.shot_id == s.id]
            out.append(
                ShotInfo(
                    s.id,
                    st,
                    r.stage if r else "planned",
                    r.detail if r else None,
                    next_step(st, s.id, r.detail if r else None),
                    r.still_take_id if r else None,
                    r.clip_take_id if r else None,
                    _take_counts(tk),
                    tuple(
                        f"{t.stage}{t.take_no}:"
                        + (f"{t.review} in review" if t.review else (t.verdict or t.state))
                        for t in tk
                    ),
                    float(spend.get(s.id, 0.0)),
                    waits.get(s.id),
                    draft_source(tk, r.still_take_id if r else None),
                )
            )
        return out

    return reading(p, read, ledger)


def takes(p: Project, shot: str | None = None, *, ledger: Ledger | None = None) -> list[Take]:
    """Every take of the project (or of one shot), in the shot list's order: stills first, then clips."""
    return reading(p, lambda led: led.take_records(p.id, shot) if led else [], ledger)


def take(p: Project, take_id: int, *, ledger: Ledger | None = None) -> Take:
    found = reading(p, lambda led: led.take_records(p.id, take_id=take_id) if led else [], ledger)
    if not found:
        raise UsageError(f"unknown take {take_id}")
    return found[0]


def failures(
    p: Project,
    reason: str | None = None,
    *,
    model: str | None = None,
    feature: str | None = None,
    since: str | None = None,
    ledger: Ledger | None = None,
) -> list[dict[str, Any]]:
    """The failure archive: every failed or rejected take with its reason class and the provider's words,
    filtered by reason class, model (part of its id), a word of the prompt, and the day it was made."""
    from goldenchain.reports.failures import failure_rows
    from goldenchain.reports.patterns import filter_rows

    def read(led: Ledger | None) -> list[dict[str, Any]]:
        if led is None:
            return []
        shots = {r.shot_id: r.spec for r in led.shots(p.id)}
        rows = failure_rows(led.takes(p.id))
        for r in rows:  # a clip take's request holds the motion prompt; the shot's still prompt is asked too
            r["shot_prompt"] = shots.get(r["shot"], {}).get("prompt")
        return filter_rows(rows, reason=reason, model=model, feature=feature, since=since)

    return reading(p, read, ledger)


@dataclass(frozen=True)
class FailurePatterns:
    """Failure rates by prompt word and setting, and the lint rules the worst of them suggest."""

    patterns: tuple[Any, ...]
    proposed_rules: tuple[dict[str, str], ...]

    def to_json(self) -> dict[str, Any]:
        return {"patterns": [x.to_json() for x in self.patterns], "proposed_rules": list(self.proposed_rules)}


def failure_patterns(p: Project, *, ledger: Ledger | None = None) -> FailurePatterns:
    from goldenchain.reports.failures import failure_rows
    from goldenchain.reports.patterns import patterns, proposed_rule

    def read(led: Ledger | None) -> FailurePatterns:
        takes = led.takes(p.id) if led else []
        shots = {r.shot_id: r.spec for r in led.shots(p.id)} if led else {}
        # a check's rejection is told apart by the check that rejected it (qc_reject:flicker, ...)
        rejected = {
            r.id: next((c.name for c in r.checks if c.verdict == "reject"), None)
            for r in (led.take_records(p.id) if led else [])
        }
        how = {}
        for r in failure_rows(takes):
            check = rejected.get(r["take_id"]) if r["reason"] in ("gate_reject", "qc_reject") else None
            how[r["take_id"]] = f"{r['reason']}:{check}" if check else r["reason"]
        found = patterns(takes, shots, how)
        rules = [r for r in (proposed_rule(x) for x in found) if r]
        return FailurePatterns(tuple(found), tuple(rules))

    return reading(p, read, ledger)


def costs(p: Project, *, ledger: Ledger | None = None) -> dict[str, Any]:
    """The ledger's money: spend and credits by provider, model, shot and day; burn rate; waste; cost per
    accepted clip; cost against the client's fee (``fee``); and the figures outside their band (``alerts``)."""
    from goldenchain.reports.alerts import fee_view, project_alerts
    from goldenchain.reports.costs import burn, summarize

    def read(led: Ledger | None) -> dict[str, Any]:
        spend = led.spend(p.id) if led else []
        s = summarize(spend, led.takes(p.id) if led else [])
        s["burn"] = burn(s, spend, p.config.plan)
        shots = led.shots(p.id) if led else []
        delivered = sum(float(r.spec.get("duration") or 0) for r in shots if r.status == "done")
        s["fee"] = fee_view(p, s, delivered)
        s["alerts"] = [a.to_json() for a in project_alerts(p, s)]
        return s

    return reading(p, read, ledger)


def post_alerts(p: Project, summary: dict[str, Any]) -> str | None:
    """Post the figures of ``summary`` (from :func:`costs` or a run's report) that are outside their band to
    the project's alert webhook, if it has one; a one-line reason when that failed."""
    from goldenchain.reports.alerts import project_alerts, send_alerts

    return send_alerts(p, project_alerts(p, summary))


def estimate(
    p: Project,
    *,
    shots: list[str] | None = None,
    max_cost: float | None = None,
    ledger: Ledger | None = None,
    drafts: bool = False,
) -> dict[str, Any]:
    """What the remaining work costs (expected, worst case, credits, budgets), for all shots or ``shots``; the
    drafts apart (``draft_usd``). ``drafts``: what a draft run (``run --draft``) would cost."""
    from goldenchain.core.estimate import estimate_remaining, progress_of

    chosen = chosen_shots(p, shots)
    if drafts:
        from goldenchain.catalog import require_draft_model

        require_draft_model(p.config)

    def read(led: Ledger | None) -> dict[str, Any]:
        if led is None:
            return estimate_remaining(p.config, chosen, {}, max_cost=max_cost, drafts=drafts)
        progress = progress_of(led.shots(p.id), led.takes(p.id))
        used = led.budget_used(p.id, p.config.project.client)
        return estimate_remaining(p.config, chosen, progress, used=used, max_cost=max_cost, drafts=drafts)

    return dict(reading(p, read, ledger))


def chosen_shots(p: Project, ids: list[str] | None) -> list[Any]:
    if ids is None:
        return list(p.shots.shots)
    if not ids:
        raise UsageError("name at least one shot")
    return [p.shot(s) for s in ids]  # unknown ids are usage errors


def lint(p: Project) -> list[Finding]:
    """Prompt rules, camera/motion policy and model capabilities, before any spend."""
    from goldenchain.linting import lint_project

    return lint_project(p)


def gate(
    paths: list[str | Path], *, profile: str = "kling-i2v", aspect: str | None = None
) -> list[CheckReport]:
    """The image gate on files, one report per file (``gate --json``'s objects); an unreadable file gets
    verdict ``error`` with a message. A file that looks like an earlier one of ``paths`` is a near-duplicate."""
    from goldenchain.gates.image import check_images
    from goldenchain.gates.profiles import PROFILES

    if profile not in PROFILES:
        raise UsageError(f"unknown profile {profile!r} (known: {', '.join(sorted(PROFILES))})")
    # one pass: each still is decoded once (its pHash comes from the same decode) and compared with those
    # before it; CAMBI measures the stills in groups
    results = check_images([Path(p) for p in paths], profile=profile, aspect=aspect)
    return [
        CheckReport(str(path), r.verdict, r.seconds, r.checks, r.message)
        for path, (r, _) in zip(paths, results, strict=True)
    ]


def qc(
    path: str | Path,
    *,
    still: str | Path | None = None,
    duration: float | None = None,
    size: tuple[int, int] | None = None,
    fps: float | None = None,
) -> CheckReport:
    """The clip check on a file (``qc --json``'s object); an unreadable file gets verdict ``error``."""
    from goldenchain.gates.clip import check_clip

    r = check_clip(Path(path), still=Path(still) if still else None, duration=duration, size=size, fps=fps)
    return CheckReport(str(path), r.verdict, r.seconds, r.checks, r.message)

"""goldenchain's public Python API: what the CLI, the review app and the MCP server do, for scripts.

Spending needs a person's yes: :func:`quote` prices the remaining work of the shots asked for; a person approves
it (``goldenchain approve QUOTE``, or a standing policy: ``GOLDENCHAIN_AUTO_APPROVE_USD_PER_DAY`` in the
environment or ``.env``); :func:`run` then spends at most the quoted amount, only on the quoted shots, and only
while the quote stays approved (a revoke stops the run before its next paid call). A changed plan needs a new
quote. Errors are the documented tree of :mod:`goldenchain.errors`.

::

    from goldenchain import api

    p = api.open_project("myshoot")
    q = api.quote(p, shots=["s01", "s02"])
    # ... a person runs: goldenchain approve <q.id>
    report = api.run(p, q.id)
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from goldenchain.config import Project, load_project
from goldenchain.core.keys import canonical_hash
from goldenchain.core.rules import Finding
from goldenchain.errors import (
    GoldenchainError,
    LedgerError,
    UsageError,
)
from goldenchain.store.db import Database
from goldenchain.store.ledger import Ledger, Take
from goldenchain.store.quotes import Quote

__all__ = [
    "GoldenchainError",
    "Quote",
    "RunReport",
    "ShotInfo",
    "TakeInfo",
    "UsageError",
    "approve",
    "approve_take",
    "costs",
    "estimate",
    "failures",
    "gate",
    "lint",
    "open_project",
    "qc",
    "quote",
    "reject_take",
    "reroll",
    "revoke",
    "run",
    "status",
    "takes",
    "use_take",
]

QUOTE_TTL_S = 24 * 3600.0


@dataclass(frozen=True)
class TakeInfo:
    """One take, the one shape every surface shows."""

    id: int
    shot: str
    stage: str
    take: int
    provider: str
    model: str
    state: str
    verdict: str | None
    review: str | None
    review_note: str | None
    failure_class: str | None
    reason: str | None
    cost_usd: float | None
    seed: int | None
    provider_task_id: str | None
    sha256: str | None

    @classmethod
    def of(cls, t: Take) -> TakeInfo:
        return cls(
            t.id, t.shot_id, t.stage, t.take_no, t.provider, t.model, t.state, t.verdict, t.review,
            t.review_note, t.failure_class, t.failure_reason, t.cost_usd, t.seed, t.provider_task_id,
            t.artifact_sha256,
        )  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class ShotInfo:
    id: str
    status: str
    stage: str
    detail: str | None
    next: str
    still_take_id: int | None
    clip_take_id: int | None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class RunReport:
    ok: bool
    quote: str
    spent_usd: float
    shots: tuple[dict[str, Any], ...]
    final: str | None

    def to_json(self) -> dict[str, Any]:
        return {**self.__dict__, "shots": list(self.shots)}


def open_project(path: str | Path = ".") -> Project:
    """Load and validate a project (raises :class:`~goldenchain.errors.ConfigError` with file, field, line)."""
    return load_project(path)


def _ledger(p: Project) -> Ledger:
    return Ledger(Database(p.database_url))


def _with_ledger(p: Project, fn: Any) -> Any:
    led = _ledger(p)
    try:
        return fn(led)
    finally:
        led.db.dispose()


def lint(p: Project) -> list[Finding]:
    from goldenchain.linting import lint_project

    return lint_project(p)


def estimate(p: Project, *, shots: list[str] | None = None, max_cost: float | None = None) -> dict[str, Any]:
    """What the remaining work costs (expected, worst case, credits, budgets), for all shots or ``shots``."""
    from goldenchain.core.estimate import estimate_remaining, progress_of

    chosen = _shots(p, shots)

    def read(led: Ledger) -> dict[str, Any]:
        progress = progress_of(led.shots(p.id), led.takes(p.id))
        used = led.budget_used(p.id, p.config.project.client)
        return estimate_remaining(p.config, chosen, progress, used=used, max_cost=max_cost)

    return dict(_with_ledger(p, read))


def _shots(p: Project, ids: list[str] | None) -> list[Any]:
    if ids is None:
        return list(p.shots.shots)
    if not ids:
        raise UsageError("name at least one shot")
    return [p.shot(s) for s in ids]  # unknown ids are usage errors


def plan_hash(p: Project, shot_ids: list[str]) -> str:
    """What a quote covers: the settings and the quoted shots as written now."""
    c = p.config
    return canonical_hash(
        {
            "stills": c.stills.model_dump(),
            "video": c.video.model_dump(),
            "gate": c.gate.model_dump(),
            "qc": c.qc.model_dump(),
            "prices": dict(c.prices),
            "shots": [p.shot(s).model_dump() for s in sorted(shot_ids)],
        }
    )


def quote(p: Project, *, shots: list[str] | None = None, ttl_s: float = QUOTE_TTL_S) -> Quote:
    """Price the remaining work of ``shots`` (default: all) at its worst case, and record the quote for a
    person to approve. A standing policy may approve it at once (``GOLDENCHAIN_AUTO_APPROVE_USD_PER_DAY``)."""
    est = estimate(p, shots=shots)
    ids = list(est["shots"])
    amount = float(est["worst_case_usd"])
    if amount <= 0:
        raise UsageError("nothing left to pay for in these shots")

    def add(led: Ledger) -> Quote:
        q = led.add_quote(p.id, amount, ids, plan_hash(p, ids), ttl_s)
        limit = p.settings.get("GOLDENCHAIN_AUTO_APPROVE_USD_PER_DAY")
        if limit:
            day_start = time.time() - time.time() % 86400
            if led.approved_today(p.id, day_start) + amount <= float(limit):
                q = led.decide_quote(q.id, "approved", "policy: auto-approve under $" + limit + " a day")
        return q

    return _with_ledger(p, add)


def approve(p: Project, quote_id: str, *, who: str = "cli") -> Quote:
    """A person's yes to a quote."""
    return _decide(p, quote_id, "approved", who)


def revoke(p: Project, quote_id: str, *, who: str = "cli") -> Quote:
    """A person's no: a run under this quote stops before its next paid call."""
    return _decide(p, quote_id, "revoked", who)


def _decide(p: Project, quote_id: str, status: str, who: str) -> Quote:
    def go(led: Ledger) -> Quote:
        try:
            return led.decide_quote(quote_id, status, who)
        except LedgerError as e:
            raise UsageError(str(e)) from None

    return _with_ledger(p, go)


def check_quote(p: Project, quote_id: str) -> Quote:
    """The quote a run may spend under: approved, current, and for the plan as it is now."""

    def read(led: Ledger) -> Quote:
        try:
            return led.quote(quote_id)
        except LedgerError as e:
            raise UsageError(str(e)) from None

    q: Quote = _with_ledger(p, read)
    if q.project_id != p.id:
        raise UsageError(f"quote {quote_id} is for project {q.project_id}, not {p.id}")
    if q.status != "approved":
        raise UsageError(
            f"quote {quote_id} is {q.status}: a person must approve it (goldenchain approve {quote_id})"
        )
    if not q.usable():
        raise UsageError(f"quote {quote_id} has expired; ask for a new one")
    if plan_hash(p, list(q.shots)) != q.plan_hash:
        raise UsageError(f"the plan changed since quote {quote_id}: ask for a new quote")
    return q


def run(p: Project, quote_id: str) -> RunReport:
    """Run the quoted shots under their approved quote: at most its amount, and only while it stays approved.
    Deliverables are written as by ``goldenchain run``."""
    from goldenchain.orchestration.run import run_project
    from goldenchain.reports.deliver import build_deliverables
    from goldenchain.store.lock import run_lock

    q = check_quote(p, quote_id)
    with run_lock(p.state_dir, command=f"goldenchain api run {quote_id}"):
        result = asyncio.run(
            run_project(p, max_cost=q.amount_usd, shot_ids=list(q.shots), quote_id=q.id, force_reason=None)
        )
        led = _ledger(p)
        try:
            report = build_deliverables(p, led)
            spent = led.quote_spent([result.run_id])
        finally:
            led.db.dispose()
    final = report.get("final")
    return RunReport(
        ok=bool(result.ok),
        quote=q.id,
        spent_usd=round(spent, 4),
        shots=tuple(result.shots),
        final=str(p.out_dir / final["path"]) if final else None,
    )


def status(p: Project) -> list[ShotInfo]:
    from goldenchain.core.shotstate import next_step

    def read(led: Ledger) -> list[ShotInfo]:
        rows = {r.shot_id: r for r in led.shots(p.id)}
        out = []
        for s in p.shots.shots:
            r = rows.get(s.id)
            st = r.status if r else "pending"
            out.append(
                ShotInfo(
                    s.id,
                    st,
                    r.stage if r else "planned",
                    r.detail if r else None,
                    next_step(st, s.id, r.detail if r else None),
                    r.still_take_id if r else None,
                    r.clip_take_id if r else None,
                )
            )
        return out

    return _with_ledger(p, read)


def takes(p: Project, shot: str | None = None) -> list[TakeInfo]:
    return _with_ledger(p, lambda led: [TakeInfo.of(t) for t in led.takes(p.id, shot)])


def failures(p: Project, reason: str | None = None) -> list[dict[str, Any]]:
    from goldenchain.reports.failures import failure_rows

    return _with_ledger(p, lambda led: failure_rows(led.takes(p.id), reason))


def costs(p: Project) -> dict[str, Any]:
    from goldenchain.reports.costs import burn, summarize

    def read(led: Ledger) -> dict[str, Any]:
        spend = led.spend(p.id)
        s = summarize(spend, led.takes(p.id))
        s["burn"] = burn(s, spend, p.config.plan)
        return s

    return _with_ledger(p, read)


def _review(p: Project, fn: Any) -> TakeInfo:
    def go(led: Ledger) -> TakeInfo:
        try:
            return TakeInfo.of(fn(led))
        except LedgerError as e:
            raise UsageError(str(e)) from None

    return _with_ledger(p, go)


def approve_take(p: Project, take_id: int, *, who: str = "api") -> TakeInfo:
    return _review(p, lambda led: led.review_take(take_id, "approved", None, who=who))


def reject_take(
    p: Project, take_id: int, *, reason: str | None = None, note: str | None = None, who: str = "api"
) -> TakeInfo:
    from goldenchain.reports.failures import REVIEW_REASONS

    if reason is not None and reason not in REVIEW_REASONS:
        raise UsageError(f"unknown reason {reason!r} (one of {', '.join(REVIEW_REASONS)})")
    text = ": ".join(x for x in (reason, note) if x) or None
    return _review(p, lambda led: led.review_take(take_id, "rejected", text, who=who, reason=reason))


def use_take(p: Project, take_id: int, *, who: str = "api") -> TakeInfo:
    return _review(p, lambda led: led.choose_take(take_id, who=who))


def reroll(p: Project, shot: str, stage: str, *, who: str = "api") -> None:
    """One more take of ``stage``, made (and paid for, under a quote) by the next run."""
    if stage not in ("still", "clip"):
        raise UsageError("stage must be still or clip")
    p.shot(shot)

    def go(led: Ledger) -> None:
        led.ensure_project(
            p.id, p.config.project.client, str(p.root), [s.model_dump() for s in p.shots.shots]
        )
        led.reroll(p.id, shot, stage, who=who)

    _with_ledger(p, go)


def gate(paths: list[str | Path], *, profile: str = "kling-i2v") -> list[dict[str, Any]]:
    """The image gate on files: one ``gate --json`` object per file."""
    from goldenchain.gates.image import check_image

    out = []
    for path in paths:
        if not Path(path).is_file():
            raise UsageError(f"{path}: no such file")
        out.append(check_image(str(path), profile=profile).to_json())
    return out


def qc(path: str | Path, **expect: Any) -> dict[str, Any]:
    """The clip check on a file: one ``qc --json`` object."""
    from goldenchain.gates.clip import check_clip

    if not Path(path).is_file():
        raise UsageError(f"{path}: no such file")
    return dict(check_clip(str(path), **expect).to_json())

"""Paid runs and the yes they need: quotes a person approves, or a person's own run at a terminal."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from goldenchain.api._common import with_ledger
from goldenchain.api._reads import chosen_shots, estimate, lint
from goldenchain.config import Project
from goldenchain.core.keys import canonical_hash
from goldenchain.errors import GoldenchainError, LedgerError, UsageError
from goldenchain.store.ledger import Ledger
from goldenchain.store.quotes import Quote

QUOTE_TTL_S = 24 * 3600.0


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

    return with_ledger(p, add)


def decide_quote(p: Project, quote_id: str, status: str, *, who: str, ledger: Ledger | None = None) -> Quote:
    """A person's ``approved`` (yes) or ``revoked`` (no: a run under it stops before its next paid call)."""

    def go(led: Ledger) -> Quote:
        try:
            return led.decide_quote(quote_id, status, who)
        except LedgerError as e:
            raise UsageError(str(e)) from None

    return with_ledger(p, go, ledger)


def approve(p: Project, quote_id: str, *, who: str = "cli", ledger: Ledger | None = None) -> Quote:
    """A person's yes to a quote."""
    return decide_quote(p, quote_id, "approved", who=who, ledger=ledger)


def revoke(p: Project, quote_id: str, *, who: str = "cli", ledger: Ledger | None = None) -> Quote:
    """A person's no: a run under this quote stops before its next paid call."""
    return decide_quote(p, quote_id, "revoked", who=who, ledger=ledger)


def quotes(p: Project, *, ledger: Ledger | None = None) -> list[Quote]:
    return with_ledger(p, lambda led: led.quotes(p.id), ledger)


def check_quote(p: Project, quote_id: str) -> Quote:
    """The quote a run may spend under: approved, current, and for the plan as it is now."""

    def read(led: Ledger) -> Quote:
        try:
            return led.quote(quote_id)
        except LedgerError as e:
            raise UsageError(str(e)) from None

    q = with_ledger(p, read)
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


def check_cap(p: Project, max_cost: float, shots: list[str] | None, drafts: bool = False) -> None:
    """A cap below the least the remaining work needs: refused before anything is spent, with what would fit
    (a :class:`~goldenchain.errors.GoldenchainError`, exit 1)."""
    from goldenchain.core.estimate import what_fits

    est = estimate(p, max_cost=max_cost, drafts=drafts)
    if shots:
        est["shots"] = {k: v for k, v in est["shots"].items() if k in shots}
    need = round(sum(r["expected_usd"] for r in est["shots"].values()), 4)
    if need <= max_cost + 1e-9:
        return
    fits = what_fits(est, max_cost)
    hint = f"--shots {','.join(fits)} fits" if fits else "no single shot fits"
    raise GoldenchainError(
        f"--max-cost ${max_cost:.2f} is below the ${need:.2f} the remaining work needs at least; nothing spent. "
        f"{hint}{'' if drafts else _cheaper_mode(p, need)}"
    )


def _cheaper_mode(p: Project, need: float) -> str:
    from goldenchain.core.estimate import estimate_remaining

    if p.config.video.mode != "pro":
        return ""
    cfg = p.config.model_copy(update={"video": p.config.video.model_copy(update={"mode": "std"})})
    try:
        std = estimate_remaining(cfg, p.shots.shots, {})["total_usd"]
    except Exception:
        return ""
    if std < need:
        return f'; [video] mode = "std" would need ${std:.2f} (not the golden setting)'
    return ""


@dataclass(frozen=True)
class RunPlan:
    """A run that passed every check before spending: its shots, its cap, and the yes it runs under."""

    quote: str | None
    max_cost: float | None
    only: str | None
    shots: tuple[str, ...] | None
    force_reason: str | None
    lint_errors: tuple[dict[str, Any], ...]
    drafts: bool = False  #: ``run --draft``: drafts only, for a person to choose


def plan_run(
    p: Project,
    quote_id: str | None = None,
    *,
    by_person: bool = False,
    max_cost: float | None = None,
    only: str | None = None,
    shots: list[str] | None = None,
    force_reason: str | None = None,
    drafts: bool = False,
) -> RunPlan:
    """Every check a paid run needs, before anything is spent.

    A run spends under a quote a person approved (``quote_id``: its shots, at most its amount), or is started
    by a person at a terminal (``by_person=True``, as ``goldenchain run`` does; ``max_cost`` is then their cap,
    if any). Scripts and agents pass a quote. Models without a spec, lint errors (unless ``force_reason``, which
    the ledger records) and a cap below what the work needs at least are refused. ``drafts``: a draft run
    (``run --draft``), refused where the route has no draft model."""
    from goldenchain.catalog import require_draft_model, require_specs

    if only not in (None, "stills", "clips"):
        raise UsageError("--only takes 'stills' or 'clips'")
    require_specs(p.config)  # a model without a spec cannot be priced or checked: refused even with --force
    if drafts:
        if only is not None or quote_id is not None:
            raise UsageError("--draft makes drafts only: leave out --only and --quote")
        require_draft_model(p.config)
    if shots is not None:
        chosen_shots(p, shots)
    errors = [f for f in lint(p) if f.severity == "error" and (not shots or f.shot in shots)]
    if errors and not force_reason:
        first = errors[0]
        raise UsageError(
            f"{len(errors)} lint error(s), nothing spent; first: {first.shot} {first.rule}: {first.message} "
            "(see goldenchain lint; override with --force REASON)"
        )
    if quote_id is not None:
        if max_cost is not None or shots is not None:
            raise UsageError("--quote sets the shots and the cap; leave out --max-cost and --shots")
        q = check_quote(p, quote_id)
        max_cost, shots = q.amount_usd, list(q.shots)
    elif not by_person:
        raise UsageError("a paid run needs a quote a person approved (quote, then goldenchain approve QUOTE)")
    if max_cost is not None:
        check_cap(p, max_cost, shots, drafts)
    return RunPlan(
        quote_id,
        max_cost,
        only,
        tuple(shots) if shots is not None else None,
        force_reason if errors else None,
        tuple(f.to_json() for f in errors),
        drafts,
    )


class Interrupted(KeyboardInterrupt):
    """Ctrl-C stopped a run: ``shots`` shots were left where they were; paid tasks in flight are kept and
    collected by the next run."""

    def __init__(self, shots: int) -> None:
        super().__init__(shots)
        self.shots = shots


@dataclass(frozen=True)
class RunReport:
    """What a run did: ``ok`` when every shot it ran is done and every delivered file meets the spec."""

    ok: bool
    quote: str | None
    spent_usd: float  #: this run's spend
    shots: tuple[dict[str, Any], ...]  #: per shot: ``shot``, ``status``, ``stage``, ``detail``
    final: str | None  #: the final cut's path
    final_duration: float | None = None
    stopped: str | None = None  #: why the run stopped (a budget, a revoked quote), if it did
    total_usd: float = 0.0  #: the project's spend so far
    report: str | None = None  #: report.html's path
    delivery_failures: tuple[str, ...] = ()  #: one line per delivered file that misses the spec
    alerts: tuple[str, ...] = ()  #: the figures outside their band after the run
    alert_post_error: str | None = None  #: why posting the alerts to the webhook failed

    def to_json(self) -> dict[str, Any]:
        return {
            **self.__dict__,
            "shots": list(self.shots),
            "delivery_failures": list(self.delivery_failures),
            "alerts": list(self.alerts),
        }


def fetch_artifacts(p: Project, ledger: Ledger) -> int:
    """Every stored result of the project on this machine, fetched from the shared artifact copy where it is
    missing here (team mode without a shared disk); how many were fetched."""
    from goldenchain.orchestration.runtime import artifact_store

    store = artifact_store(p)
    if store.remote is None:
        return 0
    n = 0
    for t in ledger.takes(p.id):
        art = ledger.artifact(t.artifact_sha256) if t.artifact_sha256 else None
        if art is not None and not (p.root / art.path).is_file():
            store.local(p.root / art.path)
            n += 1
    return n


def run_plan(
    p: Project,
    plan: RunPlan,
    *,
    on_progress: Callable[[list[Any]], None] | None = None,
    on_waits: Callable[[dict[str, str]], None] | None = None,
) -> RunReport:
    """Run a checked plan under the project's run lock, then write the deliverables (clips to the client's
    spec, ``final.mp4``, ``report.json``, ``report.html``) and post the alerts a figure outside its band raises.
    ``on_progress`` gets the shots' rows as they move; ``on_waits`` (team mode) what each waits on."""
    from goldenchain.orchestration.interrupt import until_interrupted
    from goldenchain.orchestration.run import run_project
    from goldenchain.store.lock import run_lock

    command = (
        "goldenchain run"
        + (f" --quote {plan.quote}" if plan.quote else "")
        + (" --draft" if plan.drafts else "")
    )
    with run_lock(p.state_dir, command=command):
        try:
            result = asyncio.run(
                until_interrupted(
                    run_project(
                        p,
                        max_cost=plan.max_cost,
                        only=plan.only,
                        shot_ids=list(plan.shots) if plan.shots is not None else None,
                        on_progress=on_progress,
                        on_waits=on_waits,
                        force_reason=plan.force_reason,
                        lint_errors=list(plan.lint_errors) or None,
                        quote_id=plan.quote,
                        drafts=plan.drafts,
                    )
                )
            )
        except KeyboardInterrupt:
            raise Interrupted(with_ledger(p, lambda led: led.interrupt(p.id))) from None

        return deliver_run(p, result, only="stills" if plan.drafts else plan.only, quote=plan.quote)


def deliver_run(p: Project, result: Any, *, only: str | None = None, quote: str | None = None) -> RunReport:
    """After a run (``result``: its ``run_id``, ``ok``, ``shots`` and ``stopped``): the deliverables (clips to
    the client's spec, ``final.mp4`` unless ``only`` was stills, ``report.json``, ``report.html``), each file's
    delivery check, and the alerts a figure outside its band raises (posted to the webhook, if any)."""
    from goldenchain.reports.alerts import project_alerts, send_alerts
    from goldenchain.reports.deliver import build_deliverables

    def deliver(led: Ledger) -> tuple[dict[str, Any], float]:
        fetch_artifacts(p, led)  # made on other machines: from the shared copy, if any
        return build_deliverables(p, led, assemble=only != "stills"), led.quote_spent([result.run_id])

    report, spent = with_ledger(p, deliver)
    bad = tuple(str(c["reason"]) for c in report.get("delivery_check", []) if not c["ok"])
    final = report.get("final")
    alerts = project_alerts(p, report["costs"])
    return RunReport(
        ok=bool(result.ok) and not bad,
        quote=quote,
        spent_usd=round(spent, 4),
        shots=tuple(result.shots),
        final=str(p.out_dir / final["path"]) if final else None,
        final_duration=final["duration"] if final else None,
        stopped=result.stopped,
        total_usd=float(report["costs"]["total_usd"]),
        report=str(p.out_dir / "report.html"),
        delivery_failures=bad,
        alerts=tuple(a.message for a in alerts),
        alert_post_error=send_alerts(p, alerts),
    )


def run(
    p: Project,
    quote_id: str | None = None,
    *,
    by_person: bool = False,
    max_cost: float | None = None,
    only: str | None = None,
    shots: list[str] | None = None,
    force_reason: str | None = None,
    on_progress: Callable[[list[Any]], None] | None = None,
    on_waits: Callable[[dict[str, str]], None] | None = None,
) -> RunReport:
    """Run the quoted shots under their approved quote: at most its amount, and only while it stays approved
    (see :func:`plan_run` for a person's own run). Deliverables are written as by ``goldenchain run``."""
    plan = plan_run(
        p, quote_id, by_person=by_person, max_cost=max_cost, only=only, shots=shots, force_reason=force_reason
    )
    return run_plan(p, plan, on_progress=on_progress, on_waits=on_waits)

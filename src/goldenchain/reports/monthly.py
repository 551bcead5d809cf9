"""A client's monthly summary: every project of the client that paid for takes in the month, from the ledger's
spend rows; what was delivered, what it cost by provider, model and kind, the waste, cost against each project's
fee and the plan's price, and daily spend as a plot. Written as ``summary-<client>-<YYYY-MM>.json`` and
``.html`` (one self-contained page: the plot is an inline SVG, no script, nothing fetched)."""

from __future__ import annotations

import calendar
import hashlib
import json
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from goldenchain.errors import UsageError
from goldenchain.reports.costs import accepted, waste_reason
from goldenchain.store.months import MonthView

__all__ = [
    "SCHEMA",
    "ProjectFacts",
    "month_summary",
    "parse_month",
    "project_facts",
    "summary_stem",
    "write_summary",
]

#: the JSON file's ``schema``: grows only by new keys; a changed or removed key gets a new number
SCHEMA = "goldenchain.monthly/1"
WASTE_REASONS = ("rejected_by_check", "rejected_in_review", "failed")
_MONTH = re.compile(r"^([0-9]{4})-([0-9]{2})$")


def parse_month(text: str | None, now: datetime | None = None) -> str:
    """``YYYY-MM`` (month 01-12), or the current UTC month when not given."""
    if text is None:
        return (now or datetime.now(UTC)).strftime("%Y-%m")
    m = _MONTH.match(text.strip())
    if not m or not 1 <= int(m.group(2)) <= 12 or int(m.group(1)) < 1:
        raise UsageError(f"--month must be a month as YYYY-MM (01 to 12), not {text!r}")
    return m.group(0)


def summary_stem(client: str, month: str) -> str:
    """``summary-<client>-<YYYY-MM>``; a client name that is not safe in a file name is reduced to letters,
    digits, ``.``, ``_`` and ``-``, with a short hash of the real name so that two such clients never share
    a file."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", client).strip("-.")
    if slug != client or not slug:
        slug = f"{slug or 'client'}-{hashlib.sha256(client.encode()).hexdigest()[:8]}"
    return f"summary-{slug}-{month}"


@dataclass(frozen=True)
class ProjectFacts:
    """What a project's file says about money (None where the file says nothing or cannot be read)."""

    fee_usd: float | None = None
    plan_usd_per_month: float | None = None
    kling_tier: str | None = None
    kling_monthly_credits: float | None = None
    client_budget_usd: float | None = None
    project_budget_usd: float | None = None
    note: str | None = None  # why the file could not be read


def project_facts(roots: dict[str, str], loaded: Any = None) -> dict[str, ProjectFacts]:
    """Each project's fee, plan and client budget from its project file (at the root the ledger recorded);
    ``loaded`` is a project already open (its file is not read twice)."""
    from goldenchain.config import load_project
    from goldenchain.reports.alerts import plan_usd_per_month

    out: dict[str, ProjectFacts] = {}
    for pid, root in roots.items():
        try:
            p = loaded if loaded is not None and loaded.id == pid else load_project(root)
        except Exception as e:  # a project moved or deleted since: its money still counts, its fee is unknown
            out[pid] = ProjectFacts(note=f"project file not readable at {root}: {' '.join(str(e).split())}")
            continue
        plan = p.config.plan
        out[pid] = ProjectFacts(
            fee_usd=p.config.project.fee_usd,
            plan_usd_per_month=plan_usd_per_month(plan),
            kling_tier=plan.kling_tier,
            kling_monthly_credits=plan.monthly_credits(),
            client_budget_usd=p.config.budget.client_usd,
            project_budget_usd=p.config.budget.project_usd,
        )
    return out


def _r(v: float, n: int = 4) -> float:
    return round(float(v), n)


def _ratio(a: float, b: float | None) -> float | None:
    return round(a / b, 4) if b else None


def _sorted(d: dict[str, float], n: int = 4) -> dict[str, float]:
    return {k: round(v, n) for k, v in sorted(d.items())}


def month_summary(
    view: MonthView, facts: dict[str, ProjectFacts], *, generated_at: str | None = None
) -> dict[str, Any]:
    """The client's month as a JSON-ready dict (see :data:`SCHEMA`). Money is the committed spend of takes
    paid for in the month; open reservations are shown apart."""
    takes = view.takes
    committed = [t for t in takes if t.spend_state == "committed"]
    total = sum(t.usd for t in committed)
    by_provider: dict[str, float] = defaultdict(float)
    by_model: dict[str, float] = defaultdict(float)
    by_kind: dict[str, float] = defaultdict(float)
    credits: dict[str, float] = defaultdict(float)
    per_day: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    per_project: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for t in committed:
        by_provider[t.provider] += t.usd
        by_model[f"{t.provider}:{t.model}"] += t.usd
        by_kind[t.stage] += t.usd
        per_day[t.day][t.provider] += t.usd
        per_project[t.project_id][t.provider] += t.usd
        if t.credits:
            credits[t.provider] += t.credits
    waste: dict[str, dict[str, float]] = {r: {"takes": 0, "usd": 0.0} for r in WASTE_REASONS}
    for t in takes:
        why = waste_reason(t.review, t.state, t.verdict)
        if why is not None:  # a failed take the provider did not bill counts with $0
            waste[why]["takes"] += 1
            waste[why]["usd"] += t.usd if t.spend_state == "committed" else 0.0
    waste_usd = sum(w["usd"] for w in waste.values())
    # one accepted clip per shot at most (as `costs` counts it)
    accepted_clips = {
        (t.project_id, t.shot_id)
        for t in takes
        if t.stage == "clip" and t.spend_state == "committed" and accepted(t.review, t.state, t.verdict)
    }
    delivered = view.delivered
    seconds = sum(d.seconds for d in delivered)

    projects: list[dict[str, Any]] = []
    for pid in sorted({t.project_id for t in takes}):
        f = facts.get(pid, ProjectFacts())
        spent = sum(per_project[pid].values())
        mine = [d for d in delivered if d.project_id == pid]
        to_date = view.to_date_usd.get(pid, 0.0)
        projects.append(
            {
                "project": pid,
                "spend_usd": _r(spent),
                "by_provider": _sorted(per_project[pid]),
                "takes": sum(1 for t in takes if t.project_id == pid),
                "accepted_clips": sum(1 for p, _ in accepted_clips if p == pid),
                "shots_delivered": len(mine),
                "delivered_seconds": _r(sum(d.seconds for d in mine), 3),
                "fee_usd": f.fee_usd,
                "cost_share_of_fee": _ratio(spent, f.fee_usd),
                "to_date_usd": _r(to_date),
                "to_date_share_of_fee": _ratio(to_date, f.fee_usd),
                "plan_usd_per_month": f.plan_usd_per_month,
                "note": f.note,
            }
        )
    with_fee = [p for p in projects if p["fee_usd"]]
    fees = sum(float(p["fee_usd"]) for p in with_fee)
    fee_spend = sum(float(p["spend_usd"]) for p in with_fee)

    plans: dict[tuple[Any, ...], dict[str, Any]] = {}
    for p in projects:
        f = facts.get(p["project"], ProjectFacts())
        if f.plan_usd_per_month is None:
            continue
        key = (f.kling_tier, f.plan_usd_per_month, f.kling_monthly_credits)
        entry = plans.setdefault(
            key,
            {
                "kling_tier": f.kling_tier,
                "plan_usd_per_month": f.plan_usd_per_month,
                "kling_monthly_credits": f.kling_monthly_credits,
                "projects": [],
                "month_usd": 0.0,
                "kling_credits": 0.0,
            },
        )
        entry["projects"].append(p["project"])
        entry["month_usd"] += p["spend_usd"]
        entry["kling_credits"] += sum(
            t.credits or 0.0 for t in committed if t.project_id == p["project"] and t.provider == "kling"
        )
    for entry in plans.values():
        entry["month_usd"] = _r(entry["month_usd"])
        entry["kling_credits"] = _r(entry["kling_credits"], 3)
        entry["share_of_plan"] = _ratio(entry["month_usd"], entry["plan_usd_per_month"])

    year, mon = (int(x) for x in view.month.split("-"))
    days = [f"{view.month}-{d:02d}" for d in range(1, calendar.monthrange(year, mon)[1] + 1)]
    # the line on the plot: the month's fees, else the client's budget, else the projects' own budgets
    mine_facts = [f for pid, f in facts.items() if pid in per_project]
    client_caps = [f.client_budget_usd for f in mine_facts if f.client_budget_usd]
    project_caps = [f.project_budget_usd for f in mine_facts if f.project_budget_usd]
    line: dict[str, Any] | None = None
    if fees:
        line = {"kind": "fees", "usd": _r(fees, 2)}
    elif client_caps:
        line = {"kind": "client budget", "usd": _r(min(client_caps), 2)}
    elif project_caps:
        line = {"kind": "project budgets", "usd": _r(sum(project_caps), 2)}
    return {
        "schema": SCHEMA,
        "client": view.client,
        "month": view.month,
        "generated_at": generated_at or datetime.now(UTC).isoformat(timespec="seconds"),
        "currency": "USD",
        "projects": projects,
        "totals": {
            "spend_usd": _r(total),
            "reserved_usd": _r(sum(t.usd for t in takes if t.spend_state == "reserved")),
            "takes": len(takes),
            "paid_takes": len(committed),
            "accepted_clips": len(accepted_clips),
            "shots_delivered": len(delivered),
            "delivered_seconds": _r(seconds, 3),
            "cost_per_accepted_clip": _ratio(total, len(accepted_clips)),
            "usd_per_delivered_second": _ratio(total, seconds),
        },
        "by_provider": _sorted(by_provider),
        "by_model": _sorted(by_model),
        "by_kind": _sorted(by_kind),
        "credits": _sorted(credits, 3),
        "by_day_provider": {d: _sorted(ps) for d, ps in sorted(per_day.items())},
        "waste": {
            "usd": _r(waste_usd),
            "share": _ratio(waste_usd, total) or 0.0,
            **{k: {"takes": int(v["takes"]), "usd": _r(v["usd"])} for k, v in waste.items()},
        },
        "fees": {
            "fees_usd": _r(fees, 2),
            "spend_usd": _r(fee_spend),
            "cost_share_of_fees": _ratio(fee_spend, fees),
            "projects_without_fee": [p["project"] for p in projects if not p["fee_usd"]],
        },
        "plans": list(plans.values()),
        "plot": {"first_day": days[0], "last_day": days[-1], "line": line},
    }


def write_summary(summary: dict[str, Any], out: Path) -> tuple[Path, Path]:
    """``summary-<client>-<YYYY-MM>.json`` and ``.html`` in ``out``; returns their paths."""
    from markupsafe import Markup

    from goldenchain.reports.html import environment
    from goldenchain.reports.plots import spend_svg

    out.mkdir(parents=True, exist_ok=True)
    stem = summary_stem(summary["client"], summary["month"])
    line = summary["plot"]["line"]
    first, last = (int(summary["plot"][k][-2:]) for k in ("first_day", "last_day"))
    days = [f"{summary['month']}-{d:02d}" for d in range(first, last + 1)]
    svg = spend_svg(summary["by_day_provider"], days, (line["usd"], line["kind"]) if line else None)
    json_path, html_path = out / f"{stem}.json", out / f"{stem}.html"
    json_path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    page = environment().get_template("summary.html.j2").render(s=summary, plot=Markup(svg))
    html_path.write_text(page, encoding="utf-8")
    return html_path, json_path

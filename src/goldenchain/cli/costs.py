"""``goldenchain costs``: the ledger's spend, burn rate, plots, break-even and reconciliation."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from goldenchain import api as gc_api
from goldenchain.cli._groups import DefaultGroup
from goldenchain.config import load_project
from goldenchain.errors import UsageError

console = Console()


@click.group("costs", cls=DefaultGroup, default="show")
def costs_group() -> None:
    """The ledger: spend and credits by provider, shot and day; burn rate; break-even; reconciliation."""


@costs_group.command("show")
@click.argument("project", required=False, default=".", type=click.Path(file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout instead of a table.")
@click.option(
    "--plot",
    type=click.Path(dir_okay=False),
    default=None,
    help="PNG: daily spend by provider, cumulative vs budget.",
)
@click.option("--check", is_flag=True, help="Exit 1 when a figure is outside its alert band (for cron).")
def show_cmd(project: str, as_json: bool, plot: str | None, check: bool) -> int:
    """Spend by provider, model, shot and day; burn rate; waste; cost per accepted clip; cost against the
    client's fee; alerts when a figure leaves its band."""
    p = load_project(project)
    summary = gc_api.costs(p)
    alerts = summary["alerts"]
    failed_post = gc_api.post_alerts(p, summary)
    rc = 1 if check and alerts else 0
    if plot:
        from goldenchain.reports.plots import plot_spend

        plot_spend(summary, Path(plot), budget=p.config.budget.project_usd)
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return rc
    if not summary["by_day"] and not summary["reserved_usd"]:
        console.print(f"no spend yet in {p.id}: goldenchain estimate says what a run would cost")
        return rc
    t = Table(
        title=f"spend for {p.id}: ${summary['total_usd']:.2f} (reserved ${summary['reserved_usd']:.2f})"
    )
    for col in ("provider", "USD", "credits"):
        t.add_column(col, justify="left" if col == "provider" else "right")
    for prov, usd in summary["by_provider"].items():
        t.add_row(prov, f"${usd:.2f}", str(summary["credits"].get(prov, "")))
    console.print(t)
    k = Table(title="by kind (drafts apart from the final stills and clips)")
    k.add_column("kind")
    k.add_column("USD", justify="right")
    for kind, usd in summary["by_kind"].items():
        k.add_row(kind, f"${usd:.2f}")
    console.print(k)
    d = Table(title="by day")
    d.add_column("day")
    d.add_column("USD", justify="right")
    for day, usd in summary["by_day"].items():
        d.add_row(day, f"${usd:.2f}")
    console.print(d)
    b = summary["burn"]
    n = b.get("days_of_data", 0)
    line = (
        f"burn rate ({n} day{'s' if n != 1 else ''} of data): ${b['usd_per_day_7d']:.2f}/day, "
        f"{b['kling_credits_per_day_7d']} Kling credits/day"
    )
    if "kling_credits_left" in b:
        left = b["days_until_credits_run_out"]
        to_empty = b.get("forecast_note") or ("no spend" if left is None else f"{left:.1f} days to empty")
        line += f"; {b['kling_credits_left']} credits left this cycle ({to_empty})"
    console.print(line)
    waste = summary.get("waste_usd", 0.0)
    cpc = summary.get("cost_per_accepted_clip")
    console.print(
        f"waste on rejected or failed takes: ${waste:.2f} ({summary.get('waste_share', 0) * 100:.0f} %); "
        f"cost per accepted clip: {'—' if cpc is None else f'${cpc:.2f}'}"
    )
    fee = summary["fee"]
    if fee["fee_usd"]:
        console.print(
            f"client's fee ${fee['fee_usd']:,.2f}: infrastructure is {fee['cost_share_of_fee']:.1%} of it"
        )
    if fee["usd_per_delivered_second"] is not None:
        console.print(
            f"${fee['usd_per_delivered_second']:.2f} per delivered second ({fee['delivered_seconds']:g} s)"
        )
    if "plan_usd_per_month" in fee:
        console.print(
            f"this month ${fee['month_usd']:.2f} against the plan's ${fee['plan_usd_per_month']:.2f}"
        )
    for a in alerts:
        console.print(f"[yellow]alert:[/yellow] {a['message']}")
    if failed_post:
        console.print(f"[yellow]{failed_post}[/yellow]")
    return rc


@costs_group.command("prices")
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout instead of a table.")
def prices_cmd(as_json: bool) -> int:
    """Every model's price with its source and date (override any in goldenchain.toml [prices])."""
    from goldenchain.cli.providers import price_short
    from goldenchain.core.models import active_catalog
    from goldenchain.core.pricing import KLING_TIERS, catalog

    models = active_catalog()
    if as_json:
        click.echo(
            json.dumps(
                {
                    "prices": [e.__dict__ for e in catalog(models)],
                    "models": [
                        {"route": m.route, "kind": m.kind, "model": m.model, "key": m.key, **m.price_json()}
                        for m in models
                    ],
                    "kling_tiers": [t.__dict__ for t in KLING_TIERS.values()],
                },
                indent=2,
            )
        )
        return 0
    sources: list[str] = []
    seen: set[str] = set()
    click.echo(f"{'model (override key in [prices])':<56} {'price':>10}  src")
    for m in models:
        if m.key in seen:  # Kling's text-to-video bills like its image-to-video
            continue
        seen.add(m.key)
        src = f"{m.price.source} ({m.price.date})"
        if src not in sources:
            sources.append(src)
        key = m.key if len(m.key) <= 56 else m.key[:55] + "…"
        click.echo(f"{key:<56} {price_short(m):>10}  [{sources.index(src) + 1}]")
    click.echo("one clip: ROUTE:MODEL:MODE:SECONDS, e.g. kling:kling-v1-5:pro:5 (all: --json)")
    import textwrap

    for i, src in enumerate(sources, 1):
        click.echo(textwrap.fill(f"[{i}] {src}", 80, subsequent_indent="     "))
    click.echo("")
    click.echo("Kling account tiers (add yours in goldenchain.toml [plan.tiers]):")
    for k in KLING_TIERS.values():
        mc = "pack (until empty)" if k.monthly_credits is None else f"{k.monthly_credits:g}/month"
        prio = "priority" if k.priority else "no priority"
        click.echo(f"  {k.name}: {mc}, {prio}, ${k.usd_per_credit:g}/credit ({k.date})")
    return 0


@costs_group.command("breakeven")
@click.argument("project", required=False, default=".", type=click.Path(file_okay=False))
@click.option(
    "--api-usd-per-image", type=float, default=None, help="API price per still; default: the ledger's own"
)
@click.option(
    "--gpu-usd-per-hour",
    type=float,
    default=None,
    help="Your GPU's price per hour, e.g. 2.0; default: the project's [prices] gpu_usd_per_hour.",
)
@click.option(
    "--images-per-hour",
    type=float,
    default=None,
    help="What that GPU renders per hour; default: the ledger's local stills (their measured GPU seconds).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout instead of a table.")
def breakeven_cmd(
    project: str,
    api_usd_per_image: float | None,
    gpu_usd_per_hour: float | None,
    images_per_hour: float | None,
    as_json: bool,
) -> int:
    """When a GPU of your own pays: the ledger's real price per still on the API routes and your real volume
    (stills per busy hour) against the GPU's price per hour, and, where the local routes made stills, the
    GPU's real speed from their measured seconds. A GPU costs by the hour whether busy or not; the API per
    image."""
    from goldenchain.core.models import GPU_RATE_KEY
    from goldenchain.core.money import breakeven, local_speed, still_volume

    for v in (api_usd_per_image, gpu_usd_per_hour, images_per_hour):
        if v is not None and v <= 0:
            raise UsageError("prices and throughput must be positive")
    real: dict[str, Any] = {}
    local: dict[str, Any] = {}
    gpu_from = "flag"
    if Path(project, "goldenchain.toml").is_file():
        p = load_project(project)
        if gpu_usd_per_hour is None and GPU_RATE_KEY in p.config.prices:
            gpu_usd_per_hour, gpu_from = p.config.prices[GPU_RATE_KEY], "project"
        ledger = gc_api.open_ledger(p)
        if ledger is not None:
            stills = [t for t in ledger.takes(p.id) if t.stage == "still" and t.state == "downloaded"]
            ledger.db.dispose()
            api = [t for t in stills if t.unit != "gpu_seconds"]
            real = still_volume([(t.created_at, t.cost_usd or 0.0) for t in api])
            local = local_speed(
                [(t.billed_units or 0.0, t.cost_usd or 0.0) for t in stills if t.unit == "gpu_seconds"]
            )
    elif project != ".":
        load_project(project)  # a path that is not a project: the usual one-line error
    if gpu_usd_per_hour is None:  # the rate the ledger bills local takes at: the catalog's
        from goldenchain.core.models import active_catalog

        rates = [s.price.usd for s in active_catalog() if s.price.basis == "gpu_hour"]
        if not rates:
            raise UsageError("no GPU price: give --gpu-usd-per-hour (or set [prices] gpu_usd_per_hour)")
        gpu_usd_per_hour, gpu_from = rates[0], "catalog"
    api_price = api_usd_per_image if api_usd_per_image is not None else real.get("usd_per_image")
    if not api_price:
        raise UsageError(
            "no still has been paid for on an API route in this project yet: give --api-usd-per-image"
        )
    speed = images_per_hour if images_per_hour is not None else local.get("images_per_hour")
    volume_needed = gpu_usd_per_hour / api_price
    out: dict[str, Any] = {
        "api_usd_per_image": round(api_price, 5),
        "api_price_from": "ledger" if api_usd_per_image is None else "flag",
        "gpu_usd_per_hour": gpu_usd_per_hour,
        "gpu_price_from": gpu_from,
        "breakeven_images_per_hour": round(volume_needed, 2),
        **{k: v for k, v in real.items() if k != "usd_per_image"},
        **{f"local_{k}": v for k, v in local.items()},
    }
    if speed is not None:
        out.update(breakeven(api_price, gpu_usd_per_hour, speed).to_json())
        out["gpu_speed_from"] = "flag" if images_per_hour is not None else "ledger"
    busy = real.get("busiest_hour_images")
    if busy is not None:
        out["local_pays_now"] = busy >= volume_needed
    if as_json:
        click.echo(json.dumps(out, indent=2))
        return 0
    lines = [
        f"API: ${api_price:.4f} per still ({out['api_price_from']}); "
        f"GPU: ${gpu_usd_per_hour:.2f} per hour ({gpu_from}).",
        f"A GPU pays once you keep it busy with more than {volume_needed:.1f} stills an hour.",
    ]
    if busy is not None:
        verdict = "a GPU would pay" if out["local_pays_now"] else "the API is cheaper"
        lines.append(
            f"Your ledger: {real['stills']} API stills over {real['active_hours']} busy hour(s), "
            f"{busy} in the busiest: {verdict} at that volume."
        )
    if local:
        lines.append(
            f"Your GPU: {local['stills']} local stills, {local['gpu_seconds_per_image']:.1f} GPU-s each "
            f"({local['images_per_hour']:.0f} an hour busy), ${local['usd_per_image']:.4f} each in the ledger."
        )
    if speed is not None:
        lines.append(
            f"At {speed:g} stills an hour the GPU costs ${out['gpu_usd_per_image']:.4f} each: "
            f"{'the GPU' if out['cheaper'] == 'gpu' else 'the API'} is cheaper per still when kept busy."
        )
    console.print("\n".join(lines))
    return 0


@costs_group.command("monthly")
@click.argument("project", required=False, default=".", type=click.Path(file_okay=False))
@click.option(
    "--month", default=None, metavar="YYYY-MM", help="The month to summarise (default: this one, UTC)."
)
@click.option(
    "--client", default=None, help="Only this client (default: every client with spend in the month)."
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Where to write summary-<client>-<YYYY-MM>.html and .json (default: the project's out/).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summaries as a JSON array on stdout too.")
def monthly_cmd(
    project: str, month: str | None, client: str | None, out_dir: str | None, as_json: bool
) -> int:
    """Each client's month across every project the ledger knows for it: delivered shots and seconds, spend by
    provider, model and kind, waste, cost per accepted clip and per delivered second, cost against each
    project's fee and the plan's price, daily spend plotted; as HTML and JSON."""
    from goldenchain.reports.monthly import month_summary, parse_month, project_facts, write_summary

    wanted = parse_month(month)
    p = load_project(project)
    ledger = gc_api.open_ledger(p)
    if ledger is None:
        return _nothing(f"no ledger yet in {p.id}: nothing to summarise for {wanted}", as_json)
    try:
        known = ledger.clients()
        if client is not None and client not in known:
            raise UsageError(
                f"unknown client {client!r}: the ledger knows {', '.join(map(repr, known)) or 'none'}"
            )
        views = [ledger.month(c, wanted) for c in ([client] if client is not None else known)]
    finally:
        ledger.db.dispose()
    views = [v for v in views if v.takes]
    if not views:
        who = f"client {client!r}" if client is not None else "any client"
        return _nothing(f"no spend for {who} in {wanted}: nothing to summarise", as_json)
    out = Path(out_dir) if out_dir else p.out_dir
    summaries = []
    for v in views:
        s = month_summary(v, project_facts(v.projects, loaded=p))
        html_path, _ = write_summary(s, out)
        summaries.append(s)
        t = s["totals"]
        line = (
            f"{s['client']} {wanted}: ${t['spend_usd']:.2f} over {len(s['projects'])} project(s), "
            f"{t['shots_delivered']} shot(s) delivered -> {html_path} (and .json)"
        )
        click.echo(line, err=as_json)
    if as_json:
        click.echo(json.dumps(summaries, indent=2))
    return 0


def _nothing(message: str, as_json: bool) -> int:
    """An empty month is not an error: one line (on stderr under --json, whose stdout is an empty array)."""
    click.echo(message, err=as_json)
    if as_json:
        click.echo("[]")
    return 0


@costs_group.command("reconcile")
@click.argument("project", required=False, default=".", type=click.Path(file_okay=False))
@click.option(
    "--csv",
    "csv_path",
    required=True,
    type=click.Path(dir_okay=False, exists=True),
    help="Provider export with a task id column and an amount column.",
)
@click.option("--provider", default="kling", show_default=True, help="Whose export this is.")
@click.option("--id-column", default="task_id", show_default=True, help="The export's task id column.")
@click.option("--amount-column", default="credits", show_default=True, help="The export's charge column.")
@click.option(
    "--unit",
    type=click.Choice(["credits", "usd"]),
    default="credits",
    show_default=True,
    help="What the charge column counts.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout instead of a table.")
def reconcile_cmd(
    project: str, csv_path: str, provider: str, id_column: str, amount_column: str, unit: str, as_json: bool
) -> int:
    """Compare a provider's export (or Kling account costs saved as CSV) with the ledger; list differences."""
    from goldenchain.core.money import reconcile

    p = load_project(project)
    ledger = gc_api.open_ledger(p)
    ours: dict[str, float] = {}
    if ledger:
        for tk in ledger.takes(p.id):
            if tk.provider == provider and tk.provider_task_id and tk.state == "downloaded":
                ours[tk.provider_task_id] = float(
                    (tk.billed_units if unit == "credits" else tk.cost_usd) or 0.0
                )
        ledger.db.dispose()
    theirs: dict[str, float] = {}
    with open(csv_path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if (
            not reader.fieldnames
            or id_column not in reader.fieldnames
            or amount_column not in reader.fieldnames
        ):
            raise UsageError(
                f"{csv_path}: needs columns {id_column!r} and {amount_column!r} (has {reader.fieldnames})"
            )
        for i, row in enumerate(reader, 2):
            try:
                theirs[row[id_column]] = theirs.get(row[id_column], 0.0) + float(row[amount_column])
            except ValueError:
                raise UsageError(
                    f"{csv_path}:{i}: {amount_column} is not a number: {row[amount_column]!r}"
                ) from None
    diffs = reconcile(ours, theirs)
    if as_json:
        click.echo(json.dumps([d.to_json() for d in diffs], indent=2))
    else:
        t = Table(
            title=f"{provider}: {len(ours)} tasks in the ledger, {len(theirs)} in the export, {len(diffs)} differences"
        )
        for col in ("task", "difference", "ledger", "provider"):
            t.add_column(col)
        for d in diffs:
            t.add_row(
                d.task_id,
                d.kind,
                "" if d.ledger is None else f"{d.ledger:g}",
                "" if d.provider is None else f"{d.provider:g}",
            )
        console.print(t)
    return 1 if diffs else 0


@costs_group.command("account")
@click.argument("project", required=False, default=".", type=click.Path(file_okay=False))
@click.option(
    "--days", type=click.IntRange(1, 365), default=30, show_default=True, help="How far back to compare."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout instead of a table.")
def account_cmd(project: str, days: int, as_json: bool) -> int:
    """Import Kling's account resource packs and compare their used units with the ledger's Kling credits."""
    import asyncio
    import time

    from goldenchain.providers.kling.account import KlingAccount

    p = load_project(project)
    s = p.settings
    acct = KlingAccount(
        s.require("KLING_ACCESS_KEY", "Kling account"),
        s.require("KLING_SECRET_KEY", "Kling account"),
        base_url=s.get("KLING_BASE_URL") or "https://api-singapore.klingai.com",
    )
    end = int(time.time() * 1000)

    async def fetch() -> list[Any]:
        try:
            return await acct.resource_packs(end - days * 86_400_000, end)
        finally:
            await acct.aclose()

    packs = asyncio.run(fetch())
    ledger = gc_api.open_ledger(p)
    ours = 0.0
    if ledger:
        starts = [pk.effective_ms for pk in packs if pk.effective_ms]
        since = time.strftime("%Y-%m-%d", time.gmtime(min(starts) / 1000)) if starts else "0000-00-00"
        ours = sum(
            r.credits or 0.0
            for r in ledger.spend(p.id)
            if r.provider == "kling" and r.state == "committed" and r.day >= since
        )
        ledger.db.dispose()
    used = sum(pk.used for pk in packs)
    out = {
        "packs": [{**pk.__dict__, "used": pk.used} for pk in packs],
        "account_used_units": round(used, 3),
        "ledger_kling_credits": round(ours, 3),
        "difference": round(used - ours, 3),
    }
    if as_json:
        click.echo(json.dumps(out, indent=2))
        return 0
    t = Table(title="Kling resource packs")
    for col in ("pack", "status", "total", "remaining", "used"):
        t.add_column(col)
    for pk in packs:
        t.add_row(pk.name, pk.status, f"{pk.total:g}", f"{pk.remaining:g}", f"{pk.used:g}")
    console.print(t)
    console.print(
        f"account used {used:g} units; this project's ledger committed {ours:g} credits "
        f"(difference {used - ours:g}: other projects or tools on the same account, or a discrepancy to check)"
    )
    return 0


COMMANDS = [costs_group]

"""``goldenchain abtest new|estimate|run|report|list``: A/B tests of prompt or setting variants (over goldenchain.api)."""

from __future__ import annotations

import json
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from goldenchain import api

console = Console()
_project_opt = click.option(
    "--project", "project", default=".", type=click.Path(file_okay=False), help="The project (default: here)."
)
_json_opt = click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout instead of text.")
_alpha_opt = click.option(
    "--alpha",
    type=float,
    default=0.05,
    show_default=True,
    help="Significance level of the paired tests (Holm-corrected with more than two variants).",
)


def _estimate_line(est: dict[str, Any]) -> str:
    parts = ", ".join(f"{v} ${x:.2f}" for v, x in est["by_variant"].items())
    return f"estimate: ${est['total_usd']:.2f} for {est['pairs_left']} variant takes left ({parts})"


@click.group("abtest")
def abtest_group() -> None:
    """A/B tests: K variants of one shot (prompts or settings) over the same paired seeds, through the real
    chain (still, image gate, clip, clip check; one take per stage), then per variant the acceptance rate with
    a Wilson interval and the cost per accepted clip, and a winner only when a paired test is significant.

    \b
    goldenchain abtest new light --shot s01 --variant a --variant b="... soft window light ..." --pairs 10
    goldenchain abtest new cam --shot s01 --variant low --variant high \\
        --setting low:camera.horizontal=2 --setting high:camera.horizontal=8
    goldenchain abtest run light --max-cost 20     # the estimate first; refused above the cap or a budget
    goldenchain abtest report light [--json]       # also out/abtests/light.png and light.json
    goldenchain review                             # blind ratings of each pair's clips: /abtests
    """


@abtest_group.command("new")
@click.argument("name")
@click.option("--shot", required=True, help="The shot whose variants are compared (its prompt and settings).")
@click.option(
    "--variant",
    "variants",
    multiple=True,
    metavar="NAME[=PROMPT]",
    help="A variant: its name and prompt (the shot's own prompt when '=PROMPT' is left out). Two or more; "
    "the first is the baseline the others are compared with.",
)
@click.option(
    "--setting",
    "settings",
    multiple=True,
    metavar="NAME:KEY=VALUE",
    help="A variant's setting: motion, camera.zoom (horizontal, vertical, rotation), duration, video_prompt, "
    "negative_prompt, or stills.KEY / video.KEY such as video.mode=std or stills.model=... (not the routes).",
)
@click.option("--pairs", type=click.IntRange(1, 500), default=10, show_default=True, help="Paired seeds.")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=None, help="The first pair's seed.")
@_project_opt
@_json_opt
def new_cmd(
    name: str,
    shot: str,
    variants: tuple[str, ...],
    settings: tuple[str, ...],
    pairs: int,
    seed: int | None,
    project: str,
    as_json: bool,
) -> int:
    """Record an A/B test NAME (nothing is spent) and show what running it would cost."""
    p = api.open_project(project)
    out = api.abtest_new(
        p, name, shot=shot, variants=list(variants), settings=list(settings), pairs=pairs, seed=seed
    )
    if as_json:
        click.echo(json.dumps(out, indent=2))
        return 0
    click.echo(f"A/B test {name}: shot {shot}, {len(variants)} variants, {pairs} paired seeds")
    click.echo(_estimate_line(out["estimate"]))
    for note in out["lint"]:
        click.echo(f"lint: {note} (tested as asked)")
    click.echo(f"next: goldenchain abtest run {name} --max-cost USD")
    return 0


@abtest_group.command("estimate")
@click.argument("name")
@_project_opt
@_json_opt
def estimate_cmd(name: str, project: str, as_json: bool) -> int:
    """What the test's remaining takes cost, per variant, and each budget's room. No spend."""
    est = api.abtest_estimate(api.open_project(project), name)
    click.echo(json.dumps(est, indent=2) if as_json else _estimate_line(est))
    return 0


@abtest_group.command("run")
@click.argument("name")
@click.option(
    "--max-cost", type=float, default=None, help="Refuse (exit 1, nothing spent) above this estimate."
)
@_alpha_opt
@_project_opt
@_json_opt
def run_cmd(name: str, max_cost: float | None, alpha: float, project: str, as_json: bool) -> int:
    """Run the test's remaining pairs (the estimate first, refused above --max-cost or a budget), then report."""
    p = api.open_project(project)
    est = api.abtest_estimate(p, name)
    if not as_json:
        click.echo(_estimate_line(est))

    def progress(ended: int, total: int) -> None:
        if not as_json:
            click.echo(f"{ended} of {total} variant takes finished", err=True)

    rep = api.abtest_run(p, name, max_cost=max_cost, by_person=True, alpha=alpha, on_progress=progress)
    _show(rep, as_json)
    left = rep["unfinished"]
    if left:  # an outage or a budget: no verdict for these yet, and the run says so (exit 1)
        first = left[0]
        click.echo(
            f"goldenchain: {len(left)} variant takes without a verdict ({first['variant']} pair {first['pair']}: "
            f"{first['outcome']}: {first['detail']}); goldenchain abtest run {name} picks them up",
            err=True,
        )
        return 1
    return 0


@abtest_group.command("report")
@click.argument("name")
@_alpha_opt
@_project_opt
@_json_opt
def report_cmd(name: str, alpha: float, project: str, as_json: bool) -> int:
    """Per variant: takes, acceptance rate (Wilson interval), cost per accepted clip, mean blind rating; the
    paired tests against the first variant; the winner, or how many more pairs look needed."""
    _show(api.abtest_report(api.open_project(project), name, alpha=alpha), as_json)
    return 0


@abtest_group.command("list")
@_project_opt
@_json_opt
def list_cmd(project: str, as_json: bool) -> int:
    """The project's A/B tests."""
    rows = api.abtest_list(api.open_project(project))
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return 0
    t = Table(title="A/B tests")
    for col in ("name", "shot", "variants", "pairs", "result"):
        t.add_column(col)
    for r in rows:
        t.add_row(
            r["name"],
            r["shot"],
            ", ".join(r["variants"]),
            f"{r['pairs_done']}/{r['pairs']}",
            r["summary"] or "not run yet",
        )
    console.print(t)
    return 0


def _show(rep: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(rep, indent=2))
        return
    t = Table(
        title=f"A/B test {rep['name']} (shot {rep['shot']}, {rep['pairs']} of {rep['planned_pairs']} pairs)"
    )
    for col in ("variant", "takes", "accepted", "rate (Wilson)", "spent", "per accepted clip", "rating"):
        t.add_column(col)
    for v in rep["variants"]:
        rate = "—" if v["rate"] is None else f"{v['rate']:.0%} ({v['low']:.0%}–{v['high']:.0%})"
        per = "—" if v["cost_per_accepted"] is None else f"${v['cost_per_accepted']:.2f}"
        rating = "—" if v["mean_rating"] is None else f"{v['mean_rating']:.2f} ({v['ratings']})"
        t.add_row(v["name"], str(v["takes"]), str(v["accepted"]), rate, f"${v['cost_usd']:.2f}", per, rating)
    console.print(t)
    for c in rep["comparisons"]:
        line = (
            f"{c['other']} vs {c['base']}: {c['pairs']} pairs, accepted with {c['base']} only {c['only_base']}, "
            f"with {c['other']} only {c['only_other']}, McNemar exact p={c['p_verdicts']:.4g}"
        )
        if c["p_ratings"] is not None:
            line += f"; ratings on {c['rated_pairs']} pairs, sign test p={c['p_ratings']:.4g}"
        click.echo(line)
    click.echo(rep["summary"])
    if rep.get("plot"):
        click.echo(f"plot: {rep['plot']}")


COMMANDS = [abtest_group]

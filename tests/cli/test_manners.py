"""The CLI's manners: help on every option, real ports, words for nothing to show, next steps after init,
parse errors that name the line and column, forecasts that say what they stand on, tables within 80 columns."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.request
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import click

from goldenchain.cli import cli
from goldenchain.reports.costs import MIN_FORECAST_DAYS, burn
from tests.integration.helpers import make_project, run_cli


def _walk(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    out = []
    for name, cmd in sorted(group.commands.items()):
        out.append((prefix + name, cmd))
        if isinstance(cmd, click.Group):
            out += _walk(cmd, prefix + name + " ")
    return out


def test_every_command_and_option_has_help() -> None:
    missing = [
        f"{path} {'/'.join(p.opts)}"
        for path, cmd in _walk(cli)
        for p in cmd.params
        if isinstance(p, click.Option) and not p.hidden and not p.help
    ]
    assert missing == []
    assert [path for path, cmd in _walk(cli) if not cmd.help] == []


def test_init_says_what_to_do_next(tmp_path: Path) -> None:
    r = run_cli(["init", str(tmp_path / "shoot")], {})
    assert r.returncode == 0
    nxt = r.stdout.split("next:", 1)[1].strip().splitlines()[:4]
    assert len(nxt) == 4 and [ln.split("#")[0].split()[1] for ln in nxt[1:]] == ["doctor", "estimate", "run"]


def test_nothing_to_show_is_said_in_words(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shoot", shots=1)
    r = run_cli(["failures", str(project)], {})
    assert r.returncode == 0 and r.stdout.strip() == "no failed or rejected takes in shoot"


def test_a_yaml_error_names_its_line_and_column(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shoot", shots=2)
    lines = (project / "shots.yaml").read_text().splitlines()
    at = next(i for i, ln in enumerate(lines) if "scene: environment" in ln)
    lines[at] = lines[at].replace("scene: environment", "scene: [environment")
    (project / "shots.yaml").write_text("\n".join(lines) + "\n")
    r = run_cli(["lint", str(project)], {})
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    # the parser notices on the next line; the message says where the unclosed list began too
    assert f"shots.yaml:{at + 2}: not valid YAML" in r.stderr and "column" in r.stderr
    assert f"began on line {at + 1}" in r.stderr


def test_review_on_port_0_prints_the_real_port(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shoot", shots=1)
    proc = subprocess.Popen(
        [sys.executable, "-m", "goldenchain", "review", str(project), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)/", first)
        assert m and int(m.group(1)) > 0, first
        with urllib.request.urlopen(f"http://127.0.0.1:{m.group(1)}/", timeout=30) as resp:
            assert resp.status == 200
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _plan() -> SimpleNamespace:
    return SimpleNamespace(monthly_credits=lambda: 3000.0, kling_tier="studio", cycle_start_day=1)


def _spend(days: list[str]) -> tuple[dict[str, object], list[SimpleNamespace]]:
    rows = [SimpleNamespace(state="committed", provider="kling", credits=35.0, day=d, usd=4.9) for d in days]
    return {"by_day": {d: 4.9 for d in days}}, rows


def test_a_forecast_says_what_it_stands_on_and_waits_for_enough_days() -> None:
    summary, rows = _spend(["2026-11-30"])
    one = burn(summary, rows, _plan(), today=date(2026, 11, 30))  # type: ignore[arg-type]
    assert one["days_of_data"] == 1 and one["days_until_credits_run_out"] is None
    assert one["forecast_note"] == f"no forecast: 1 day of data, {MIN_FORECAST_DAYS} needed"
    assert one["usd_per_day_7d"] == 4.9  # one day's spend is one day's rate, not a seventh of it
    summary, rows = _spend(["2026-11-26", "2026-11-28", "2026-11-30"])
    five = burn(summary, rows, _plan(), today=date(2026, 11, 30))  # type: ignore[arg-type]
    assert five["days_of_data"] == 5 and "forecast_note" not in five
    assert (
        five["days_until_credits_run_out"] == round((3000 - 105) / (105 / 5), 6)
        or abs(five["days_until_credits_run_out"] - (3000 - 105) / (105 / 5)) < 1e-6
    )


def test_status_and_failures_fit_80_columns(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shoot", shots=3)
    for cmd in (["status", str(project)], ["doctor", str(project)]):
        r = run_cli(cmd, {"COLUMNS": "80"})
        wide = [ln for ln in r.stdout.splitlines() if len(ln) > 80]
        assert wide == [], (cmd, wide)


def test_wide_shows_every_column(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shoot", shots=2)
    narrow = run_cli(["status", str(project)], {"COLUMNS": "80"})
    wide = run_cli(["status", str(project), "--wide"], {"COLUMNS": "80"})
    assert narrow.returncode == wide.returncode == 0
    assert "verdicts" not in narrow.stdout and "verdicts" in wide.stdout
    assert max(len(ln) for ln in narrow.stdout.splitlines()) <= 80


def test_costs_with_no_spend_says_so(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shoot", shots=1)
    r = run_cli(["costs", str(project)], {})
    assert (
        r.returncode == 0
        and r.stdout.strip() == "no spend yet in shoot: goldenchain estimate says what a run would cost"
    )

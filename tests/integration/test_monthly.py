"""`goldenchain costs monthly` on a real ledger: three projects of two clients run against the emulator into one
ledger, one of them a month earlier (the ledger's clock set back for that run), with a clip the clip check
rejects and a clip a person rejects. Every figure is checked against the ledger's own rows, the JSON keeps its
shape, and the HTML parses with the client's name escaped."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from goldenchain.emulator import Emulator
from goldenchain.emulator.scenarios import Fault
from goldenchain.store.db import Database
from goldenchain.store.ledger import Ledger
from tests.integration.helpers import make_project, run_cli

EVIL = "<script>alert(1)</script>"

TOP_KEYS = {
    "schema", "client", "month", "generated_at", "currency", "projects", "totals", "by_provider", "by_model",
    "by_kind", "credits", "by_day_provider", "waste", "fees", "plans", "plot",
}  # fmt: skip
PROJECT_KEYS = {
    "project", "spend_usd", "by_provider", "takes", "accepted_clips", "shots_delivered", "delivered_seconds",
    "fee_usd", "cost_share_of_fee", "to_date_usd", "to_date_share_of_fee", "plan_usd_per_month", "note",
}  # fmt: skip
TOTAL_KEYS = {
    "spend_usd", "reserved_usd", "takes", "paid_takes", "accepted_clips", "shots_delivered",
    "delivered_seconds", "cost_per_accepted_clip", "usd_per_delivered_second",
}  # fmt: skip


def _run_on(day: str, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The real CLI, with the ledger's clock (the day each paid call is booked on) set to ``day``."""
    code = (
        "import sys, goldenchain.store.takes as t; t.today = lambda: sys.argv[1]; "
        "from goldenchain.cli import main; main(sys.argv[2:])"
    )
    return subprocess.run(
        [sys.executable, "-c", code, day, *args],
        env={**os.environ, "COLUMNS": "200", **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _project(root: Path, client: str, *, shots: int, fee: float | None) -> Path:
    p = make_project(root, shots=shots)
    cfg = p / "goldenchain.toml"
    head = f"client = {json.dumps(client)}" + (f"\nfee_usd = {fee}" if fee else "")
    cfg.write_text(cfg.read_text().replace('client = "example-client"', head))
    return p


class _Doc(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)
        self._in_title = tag == "title"

    def handle_endtag(self, tag: str) -> None:
        self._in_title = False

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._in_title:
            self.title += data


def _ledger_month(db: Path, client: str, month: str) -> dict[str, Any]:
    """The figures straight from the ledger's rows, in SQL of the test's own."""
    c = sqlite3.connect(db)
    try:
        where = "s.client = ? AND s.day LIKE ?"
        args = (client, month + "-%")
        paid = f"FROM gc_spend s JOIN gc_takes t ON t.id = s.take_id WHERE {where} AND s.state = 'committed'"
        out: dict[str, Any] = {
            "total": c.execute(f"SELECT COALESCE(SUM(s.usd), 0) {paid}", args).fetchone()[0],
            "by_provider": dict(c.execute(f"SELECT s.provider, SUM(s.usd) {paid} GROUP BY s.provider", args)),
            "by_kind": dict(c.execute(f"SELECT t.stage, SUM(s.usd) {paid} GROUP BY t.stage", args)),
            "by_project": dict(c.execute(f"SELECT s.project_id, SUM(s.usd) {paid} GROUP BY 1", args)),
            "kling_credits": c.execute(
                f"SELECT SUM(s.credits) {paid} AND s.provider = 'kling'", args
            ).fetchone()[0],
            "check_rejects": c.execute(
                f"SELECT COUNT(*), COALESCE(SUM(s.usd), 0) {paid} AND t.verdict = 'reject' AND t.review IS NULL",
                args,
            ).fetchone(),
            "review_rejects": c.execute(
                f"SELECT COUNT(*), COALESCE(SUM(s.usd), 0) {paid} AND t.review = 'rejected'", args
            ).fetchone(),
            "accepted": c.execute(
                f"SELECT COUNT(DISTINCT t.project_id || '/' || t.shot_id) {paid} AND t.stage = 'clip' AND "
                "(t.review = 'approved' OR (t.review IS NULL AND t.verdict IN ('pass', 'warn')))",
                args,
            ).fetchone()[0],
            "delivered": c.execute(
                "SELECT COUNT(*) FROM gc_shots h JOIN gc_spend s ON s.take_id = h.clip_take_id "
                f"WHERE h.status = 'done' AND {where}",
                args,
            ).fetchone()[0],
        }
    finally:
        c.close()
    return out


def _close(a: float | None, b: float) -> bool:
    return a is not None and abs(a - b) < 1e-3


def _check_against_ledger(s: dict[str, Any], led: dict[str, Any]) -> None:
    t = s["totals"]
    assert _close(t["spend_usd"], led["total"]) and led["total"] > 0
    assert s["by_provider"].keys() == led["by_provider"].keys()
    assert all(_close(s["by_provider"][k], v) for k, v in led["by_provider"].items())
    assert s["by_kind"].keys() == led["by_kind"].keys() == {"still", "clip"}
    assert all(_close(s["by_kind"][k], v) for k, v in led["by_kind"].items())
    assert {p["project"]: p["spend_usd"] for p in s["projects"]}.keys() == led["by_project"].keys()
    assert all(_close(p["spend_usd"], led["by_project"][p["project"]]) for p in s["projects"])
    assert _close(s["credits"].get("kling"), led["kling_credits"])
    n, usd = led["check_rejects"]
    assert s["waste"]["rejected_by_check"] == {"takes": n, "usd": pytest.approx(usd, abs=1e-4)}
    n, usd = led["review_rejects"]
    assert s["waste"]["rejected_in_review"] == {"takes": n, "usd": pytest.approx(usd, abs=1e-4)}
    assert t["accepted_clips"] == led["accepted"] and t["shots_delivered"] == led["delivered"]
    assert t["delivered_seconds"] == 5.0 * led["delivered"]  # every example shot is 5 s
    assert _close(t["cost_per_accepted_clip"], led["total"] / led["accepted"])
    assert _close(t["usd_per_delivered_second"], led["total"] / (5.0 * led["delivered"]))
    assert sum(s["by_day_provider"][d][p] for d in s["by_day_provider"] for p in s["by_day_provider"][d]) == (
        pytest.approx(led["total"], abs=1e-3)
    )
    assert all(d.startswith(s["month"]) for d in s["by_day_provider"])
    # the shape scripts rely on
    assert set(s) == TOP_KEYS and s["schema"] == "goldenchain.monthly/1"
    assert all(set(p) == PROJECT_KEYS for p in s["projects"]) and set(t) == TOTAL_KEYS


def _check_html(path: Path, client: str) -> _Doc:
    doc = _Doc()
    text = path.read_text(encoding="utf-8")
    doc.feed(text)
    doc.close()
    assert "script" not in doc.tags  # a client named <script> stays text
    assert client in doc.title and client in "".join(doc.text)
    assert "svg" in doc.tags and "img" not in doc.tags  # the plot is inline: nothing to fetch
    refs = [v for k, v in doc.attrs if k in ("src", "href", "xlink:href") and v]
    assert all(v.startswith("#") for v in refs), refs
    assert not any(k.startswith("on") for k, _ in doc.attrs)
    return doc


@pytest.mark.timeout(900)  # some twenty CLI runs: minutes on a loaded machine
def test_monthly_summaries_of_two_clients_over_two_months(tmp_path: Path) -> None:
    db = tmp_path / "ledger.db"
    a1 = _project(tmp_path / "spring", "acme", shots=2, fee=3.0)
    a2 = _project(tmp_path / "summer", "acme", shots=1, fee=2.0)
    b = _project(tmp_path / "winter", EVIL, shots=1, fee=None)
    before = (datetime.now(UTC).replace(day=1) - timedelta(days=1)).replace(day=15).strftime("%Y-%m-%d")
    freeze = Fault(provider="kling", op="task", nth=1, kind="freeze")  # a billed clip the clip check rejects
    with Emulator(host="127.0.0.1", port=0, scenario="clean", latency=0.2, faults=[freeze]) as emu:
        env = {**emu.env(), "GOLDENCHAIN_DATABASE_URL": f"sqlite:///{db}"}
        ran = _run_on(before, ["run", str(a1), "--quiet"], env)
        assert ran.returncode in (0, 1), ran.stdout + ran.stderr
        for p in (a2, b):
            ran = run_cli(["run", str(p), "--quiet"], env)
            assert ran.returncode == 0, ran.stdout + ran.stderr
        # a person rejects summer's clip in review; the next run pays for another
        led = Ledger(Database(f"sqlite:///{db}"))
        try:
            clip = next(t for t in led.takes("summer") if t.stage == "clip")
            led.review_take(clip.id, "rejected", "warmer light, please", who="tester")
        finally:
            led.db.dispose()
        ran = run_cli(["run", str(a2), "--quiet"], env)
        assert ran.returncode == 0, ran.stdout + ran.stderr

        c = sqlite3.connect(db)
        days = dict(c.execute("SELECT project_id, MAX(day) FROM gc_spend GROUP BY project_id"))
        c.close()
        last, this = before[:7], days["summer"][:7]
        assert days["spring"][:7] == last != this == days["winter"][:7]

        out = tmp_path / "summaries"
        got = run_cli(["costs", "monthly", str(a2), "--month", last, "--out", str(out), "--json"], env)
        assert got.returncode == 0, got.stderr
        (s,) = json.loads(got.stdout)  # the other client spent nothing that month
        assert s["client"] == "acme" and s["month"] == last
        led_last = _ledger_month(db, "acme", last)
        _check_against_ledger(s, led_last)
        assert (
            s["waste"]["rejected_by_check"]["takes"] == 1 and s["waste"]["rejected_in_review"]["takes"] == 0
        )
        (spring,) = s["projects"]
        assert spring["fee_usd"] == 3.0 and _close(spring["cost_share_of_fee"], led_last["total"] / 3.0)
        assert s["fees"]["fees_usd"] == 3.0 and s["plot"]["line"] == {"kind": "fees", "usd": 3.0}
        assert json.loads((out / f"summary-acme-{last}.json").read_text()) == s
        _check_html(out / f"summary-acme-{last}.html", "acme")

        got = run_cli(["costs", "monthly", str(b), "--month", this, "--out", str(out), "--json"], env)
        assert got.returncode == 0, got.stderr
        by_client = {x["client"]: x for x in json.loads(got.stdout)}
        assert by_client.keys() == {"acme", EVIL}
        acme, evil = by_client["acme"], by_client[EVIL]
        led_acme = _ledger_month(db, "acme", this)
        _check_against_ledger(acme, led_acme)
        _check_against_ledger(evil, _ledger_month(db, EVIL, this))
        assert (
            acme["waste"]["rejected_in_review"]["takes"] == 1
            and acme["waste"]["rejected_by_check"]["takes"] == 0
        )
        assert acme["waste"]["rejected_in_review"]["usd"] == pytest.approx(clip.cost_usd, abs=1e-4)
        (summer,) = acme["projects"]  # spring spent nothing this month
        assert _close(summer["cost_share_of_fee"], led_acme["total"] / 2.0)
        assert _close(acme["fees"]["cost_share_of_fees"], led_acme["total"] / 2.0)
        assert evil["fees"] == {
            "fees_usd": 0.0, "spend_usd": 0.0, "cost_share_of_fees": None, "projects_without_fee": ["winter"]
        }  # fmt: skip
        assert evil["plot"]["line"] == {"kind": "project budgets", "usd": 25.0}  # the example's [budget]
        (plan,) = evil["plans"]  # the example's own Kling tier: 3000 credits at $0.14
        assert plan["plan_usd_per_month"] == 420.0 and _close(
            plan["share_of_plan"], evil["totals"]["spend_usd"] / 420
        )
        files = sorted(f.name for f in out.iterdir())
        evil_html = next(out / f for f in files if f.endswith(f"-{this}.html") and "acme" not in f)
        assert evil_html.name.startswith("summary-script-alert-1-script-") and "<" not in evil_html.name
        doc = _check_html(evil_html, EVIL)
        assert json.loads(evil_html.with_suffix(".json").read_text())["client"] == EVIL
        assert "<script>" not in evil_html.read_text() and "&lt;script&gt;" in evil_html.read_text()
        assert any("rejected by a person" in t for t in doc.text)

        # one client only; an empty month; bad input
        one = run_cli(
            ["costs", "monthly", str(b), "--month", this, "--client", "acme", "--out", str(out)], env
        )
        assert (
            one.returncode == 0 and one.stdout.count("\n") == 1 and one.stdout.startswith(f"acme {this}: $")
        )
        empty = run_cli(["costs", "monthly", str(b), "--month", "2001-01", "--out", str(tmp_path / "e")], env)
        assert (
            empty.returncode == 0
            and empty.stdout == "no spend for any client in 2001-01: nothing to summarise\n"
        )
        assert not (tmp_path / "e").exists()
        quiet = run_cli(["costs", "monthly", str(b), "--month", "2001-01", "--client", "acme", "--json"], env)
        assert quiet.returncode == 0 and json.loads(quiet.stdout) == [] and "client 'acme'" in quiet.stderr
        for bad, says in (
            (["--month", "2026-13"], "2026-13"),
            (["--client", "nobody"], "unknown client 'nobody'"),
        ):
            r = run_cli(["costs", "monthly", str(b), *bad], env)
            assert r.returncode == 2 and r.stdout == "" and says in r.stderr, r.stderr
            assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr

"""The monthly summary's pure parts: the month, the file names, how takes are counted, and the page's escaping
of every string that comes from the ledger."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from goldenchain.errors import UsageError
from goldenchain.reports.monthly import ProjectFacts, month_summary, parse_month, summary_stem, write_summary
from goldenchain.store.months import DeliveredShot, MonthTake, MonthView

XSS = '"><img src=x onerror=alert(1)>'


@pytest.mark.parametrize(
    "bad", ["2026-13", "2026-00", "2026-1", "26-01", "2026/01", "", "0000-05", "2026-01-01"]
)
def test_a_month_that_is_not_yyyy_mm_is_refused(bad: str) -> None:
    with pytest.raises(UsageError, match="YYYY-MM"):
        parse_month(bad)


def test_months() -> None:
    assert parse_month("2026-02") == "2026-02" and parse_month(" 2026-12 ") == "2026-12"
    assert parse_month(None, datetime(2026, 3, 31, 23, 59, tzinfo=UTC)) == "2026-03"


def test_file_names_are_safe_and_never_shared() -> None:
    assert summary_stem("acme", "2026-11") == "summary-acme-2026-11"
    odd = [summary_stem(c, "2026-11") for c in ("<script>", "script", "a/b", "a b", "a:b", "../..", "")]
    assert len(set(odd)) == len(odd)
    assert all(re.fullmatch(r"summary-[A-Za-z0-9_.-]+-2026-11", s) and ".." not in s for s in odd)


def _take(tid: int, **kw: object) -> MonthTake:
    base: dict[str, object] = {
        "project_id": "p1", "shot_id": "s01", "take_id": tid, "stage": "clip", "provider": "kling",
        "model": "kling-v1-5", "state": "downloaded", "verdict": "pass", "review": None,
        "spend_state": "committed", "usd": 0.49, "credits": 3.5, "day": "2028-02-03",
    }  # fmt: skip
    base.update(kw)
    return MonthTake(**base)  # type: ignore[arg-type]


def test_counting() -> None:
    takes = [
        _take(1, stage="still", provider="fal", model="flux", usd=0.03, credits=None, day="2028-02-01"),
        _take(2, verdict="reject", usd=0.49),  # the clip check rejected it: paid for, wasted
        _take(3, review="rejected", usd=0.49, day="2028-02-29"),  # a person rejected a passing clip
        _take(4, review="approved", verdict="reject", usd=0.49),  # a person's yes beats the check's no
        _take(5, state="failed", verdict=None, spend_state="released", usd=0.49),  # not billed
        _take(6, state="submitted", verdict=None, spend_state="reserved", usd=0.7),  # still open
        _take(7, shot_id="s02", project_id="p2", usd=0.98, credits=7.0),
    ]
    view = MonthView(
        "acme",
        "2028-02",
        {"p1": "/x", "p2": "/y"},
        takes,
        [DeliveredShot("p1", "s01", 5.0), DeliveredShot("p2", "s02", 10.0)],
        {"p1": 3.0, "p2": 0.98},
    )
    facts = {"p1": ProjectFacts(fee_usd=10.0), "p2": ProjectFacts(note="project file not readable")}
    s = month_summary(view, facts, generated_at="t")
    paid = 0.03 + 0.49 * 3 + 0.98
    t = s["totals"]
    assert t["spend_usd"] == pytest.approx(paid) and t["reserved_usd"] == pytest.approx(0.7)
    assert (t["takes"], t["paid_takes"]) == (7, 5)
    assert t["accepted_clips"] == 2  # p1/s01 (approved) and p2/s02; one per shot
    assert t["delivered_seconds"] == 15.0 and t["usd_per_delivered_second"] == pytest.approx(
        paid / 15, abs=1e-4
    )
    w = s["waste"]
    assert w["rejected_by_check"] == {"takes": 1, "usd": 0.49}
    assert w["rejected_in_review"] == {"takes": 1, "usd": 0.49}
    assert w["failed"] == {"takes": 1, "usd": 0.0}
    assert s["by_kind"] == {"clip": pytest.approx(paid - 0.03), "still": 0.03}
    assert s["credits"] == {"kling": 17.5}
    p1, p2 = s["projects"]
    assert p1["cost_share_of_fee"] == pytest.approx((paid - 0.98) / 10.0, abs=1e-4)
    assert p1["to_date_share_of_fee"] == 0.3 and p2["fee_usd"] is None and p2["note"]
    assert s["fees"]["projects_without_fee"] == ["p2"] and s["plot"]["line"] == {"kind": "fees", "usd": 10.0}
    assert s["plot"]["first_day"] == "2028-02-01" and s["plot"]["last_day"] == "2028-02-29"  # a leap year


def test_every_ledger_string_is_escaped(tmp_path: Path) -> None:
    takes = [_take(1, project_id=XSS, provider=XSS, model=XSS, stage=XSS)]
    s = month_summary(
        MonthView(XSS, "2026-11", {XSS: "/nowhere"}, takes, [], {}), {XSS: ProjectFacts(note=XSS)}
    )
    html_path, json_path = write_summary(s, tmp_path)
    page = html_path.read_text()
    assert "<img" not in page and "onerror=alert" not in page.replace("onerror=alert(1)&gt;", "")
    assert page.count("&#34;&gt;&lt;img src=x onerror=alert(1)&gt;") >= 5
    assert "<svg" in page and "<script" not in page
    assert html_path.parent == json_path.parent == tmp_path and "<" not in html_path.name

"""The review app in a real browser (Debian's Chromium driven by Playwright) against ``goldenchain review`` run
as its own process over a project with real takes: every page renders under the app's strict CSP without a
console error; approve, reject (reason and note), re-roll (confirmed) and "use this take" change the ledger, by
mouse and by keyboard; the next run makes exactly the take asked for and the open page shows it live."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from goldenchain.emulator import Emulator
from goldenchain.reports.failures import REVIEW_REASONS
from tests.browser.conftest import Browsing, clean_env, goldenchain, read_ledger, snapshot
from tests.integration.helpers import accepted_creates

pytestmark = pytest.mark.browser

SHOTS = ["s01", "s02"]


def _open(b: Browsing, path: str = "/") -> Any:
    resp = b.page.goto(path)
    assert resp is not None and resp.status == 200, resp and resp.status
    return resp


def _take(b: Browsing, take_id: int) -> Any:
    box = b.page.locator(f'[data-testid="take"][data-take="{take_id}"]')
    assert box.count() == 1, f"take {take_id} on the page"
    return box


@contextlib.contextmanager
def _posts(b: Browsing, action: str, lands: str) -> Iterator[None]:
    """What the block does (a click, a key) posts a form to ``action``; the app answers 303 and the browser
    loads ``lands`` (a new document, even where the address stays the same)."""
    posted = b.page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith(action))
    with b.page.expect_navigation(url=b.app.url + lands), posted as info:
        yield
    assert info.value.status == 303, info.value.status


def _click_and_land(b: Browsing, button: Any, action: str, lands: str) -> None:
    with _posts(b, action, lands):
        button.click()


def _decoded(b: Browsing, images: Any, min_width: int = 1) -> None:
    for i in range(images.count()):
        img = images.nth(i)
        img.scroll_into_view_if_needed()
        b.page.wait_for_function("e => e.complete && e.naturalWidth > 0", arg=img.element_handle())
        assert img.evaluate("e => e.naturalWidth") >= min_width


def test_every_page_loads_without_console_errors(reading: Browsing) -> None:
    b, page = reading, reading.page
    with page.expect_response(lambda r: r.url.endswith("/events")) as live:
        resp = _open(b)
    assert live.value.status == 200 and live.value.headers["content-type"].startswith("text/event-stream")
    assert "script-src 'self'" in resp.headers["content-security-policy"]
    assert resp.headers["x-frame-options"] == "DENY"
    # the grid: one card per shot, its poster decoded, the header's figures
    cards = page.get_by_test_id("shot-card")
    assert [cards.nth(i).get_attribute("data-shot") for i in range(cards.count())] == SHOTS
    _decoded(b, cards.locator("img"), min_width=1024)
    assert page.get_by_test_id("progress").inner_text() == "2 of 2"
    assert page.get_by_test_id("spent").inner_text().startswith("$")
    assert [cards.nth(i).get_by_test_id("badge").inner_text() for i in range(2)] == ["needs review"] * 2
    assert page.locator(".card").first.evaluate("e => getComputedStyle(e).borderTopLeftRadius") == "8px"
    page.locator("details.chart summary").click()  # the spend chart, drawn by the server
    _decoded(b, page.locator("details.chart img"), min_width=200)
    page.locator("details.chart summary").click()
    page.evaluate("window.scrollTo(0, 0)")
    b.screenshot("grid", down_to="footer")  # docs/img/review.png is one of these

    counts = {"all": 2, "review": 2, "failed": 0, "rejected": 0, "done": 2}
    for flt, n in counts.items():
        page.get_by_test_id(f"filter-{flt}").click()
        page.wait_for_url(f"{b.app.url}/?filter={flt}")
        assert page.get_by_test_id("shot-card").count() == n, flt
        assert page.get_by_test_id(f"filter-{flt}").locator("small").inner_text() == str(n)
        assert page.get_by_text("No shots match this filter.").is_visible() == (n == 0)
    page.get_by_test_id("filter-all").click()
    page.wait_for_url(f"{b.app.url}/?filter=all")

    # a shot page: every take, the stills decoded, the clips playable
    page.get_by_test_id("shot-card").first.click()
    page.wait_for_url(b.app.url + "/shots/s01")
    assert page.locator("h1").inner_text().startswith("s01")
    assert page.get_by_test_id("take").count() == 2 and page.get_by_test_id("in-cut").count() == 2
    _decoded(b, page.get_by_test_id("takes-still").locator("img"), min_width=1024)
    page.wait_for_function(
        "() => [...document.querySelectorAll('video')].length > 0"
        " && [...document.querySelectorAll('video')].every(v => v.readyState >= 2 && !v.error)"
    )
    assert page.locator("video").first.evaluate("v => Math.round(v.duration)") == 5
    assert page.get_by_test_id("use").first.is_disabled()  # the takes in the cut cannot be chosen again
    assert page.get_by_test_id("history").inner_text().count("No review yet.") == 1
    b.screenshot("shot")
    page.locator('a[rel="next"]').click()
    page.wait_for_url(b.app.url + "/shots/s02")

    page.get_by_role("link", name="failures").click()
    page.wait_for_url(b.app.url + "/failures")
    assert "Nothing failed or was rejected." in page.get_by_test_id("failures").inner_text()
    b.screenshot("failures")
    page.get_by_role("link", name="quotes").click()
    page.wait_for_url(b.app.url + "/quotes")
    assert "No quotes yet" in page.get_by_test_id("quotes").inner_text()

    api = page.goto("/api/shots")
    assert api is not None and api.status == 200
    assert [s["id"] for s in api.json()] == SHOTS
    final = b.context.request.get("/out/final.mp4")
    assert (
        final.status == 200 and final.headers["content-type"] == "video/mp4" and final.body()[4:8] == b"ftyp"
    )
    b.watch.assert_clean()


def test_approve_by_click(browsing: Browsing) -> None:
    b = browsing
    still = read_ledger(b.app.project).take("s02", "still")
    assert still.review is None
    _open(b, "/shots/s02")
    _click_and_land(
        b, _take(b, still.id).get_by_test_id("approve"), f"/takes/{still.id}/approve", "/shots/s02"
    )
    after = read_ledger(b.app.project)
    assert after.take("s02", "still").review == "approved"
    assert [(e.shot_id, e.take_id, e.action, e.who) for e in after.events] == [
        ("s02", still.id, "approved", "local")
    ]
    assert after.shots["s02"].status == "done"  # approving a passed take changes nothing else
    assert _take(b, still.id).get_by_test_id("review").inner_text() == "approved"
    assert "approved" in b.page.get_by_test_id("history").inner_text()


def test_reject_with_a_reason_and_a_note(browsing: Browsing) -> None:
    b = browsing
    clip = read_ledger(b.app.project).take("s01", "clip")
    note = 'the horse melts at 3 s <b>x</b> & "more" <img src=x onerror=alert(2)>'
    reason = "warp"
    assert reason in REVIEW_REASONS
    _open(b, "/shots/s01")
    box = _take(b, clip.id)
    box.get_by_test_id("reason").select_option(reason)
    box.get_by_test_id("note").fill(note)
    _click_and_land(b, box.get_by_test_id("reject"), f"/takes/{clip.id}/reject", "/shots/s01")
    after = read_ledger(b.app.project)
    t = after.take("s01", "clip")
    assert (t.review, t.review_note) == ("rejected", f"{reason}: {note}")
    shot = after.shots["s01"]
    assert (shot.status, shot.stage, shot.clip_take_id) == ("needs_retake", "clip", None)
    assert shot.detail == f"clip take 1 rejected in review: {reason}: {note}"
    assert [(e.action, e.reason, e.who) for e in after.events] == [("rejected", reason, "local")]
    # the note comes back as text, on the shot page and in the failure archive
    page = b.page
    assert page.get_by_test_id("detail").text_content() == shot.detail
    assert page.get_by_test_id("badge").first.inner_text() == "rejected"
    page.get_by_role("link", name="failures").click()
    page.wait_for_url(b.app.url + "/failures")
    row = page.get_by_test_id("failures").locator("tr.item")
    assert row.count() == 1
    cells = [row.locator("td").nth(i).text_content() for i in range(5)]
    assert cells == ["s01", "clip 1", "kling", "human", f"{reason}: {note}"]
    assert (
        page.locator("img[src='x']").count() == 0
        and page.get_by_test_id("failures").locator("b").count() == 0
    )
    _open(b, "/?filter=rejected")
    assert b.page.get_by_test_id("shot-card").count() == 1


def test_reroll_needs_its_confirmation_and_the_next_run_makes_one_clip_shown_live(
    browsing: Browsing, emulator: Emulator, gc_home: Any
) -> None:
    b, page = browsing, browsing.page
    before = read_ledger(b.app.project)
    clip1 = before.take("s01", "clip")
    _open(b, "/shots/s01")
    form = page.get_by_test_id("reroll-clip")
    untouched = snapshot(b.app.project)
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url) if r.method == "POST" else None)
    # not confirmed: the browser does not send it (a click waits for any navigation it starts)
    form.get_by_role("button").click()
    assert form.get_by_test_id("confirm-clip").evaluate("e => e.validity.valueMissing")
    assert seen == [] and snapshot(b.app.project) == untouched
    form.get_by_test_id("confirm-clip").check()
    _click_and_land(b, form.get_by_role("button"), "/shots/s01/reroll", "/shots/s01")
    after = read_ledger(b.app.project)
    shot = after.shots["s01"]
    assert (shot.status, shot.stage, shot.extra_clip_takes, shot.clip_take_id) == (
        "needs_retake",
        "clip",
        1,
        None,
    )
    assert after.take("s01", "clip").review == "rejected"
    assert [(e.action, e.take_id, e.note) for e in after.events] == [("reroll", clip1.id, "clip")]
    assert {k: v.status for k, v in after.shots.items()} == {"s01": "needs_retake", "s02": "done"}
    assert page.get_by_test_id("in-cut").count() == 1  # the still stays; the clip left the cut

    creates = accepted_creates(emulator.requests)
    kling = emulator.count(provider="kling", accepted_creates=True)
    navigations: list[str] = []
    page.on("framenavigated", lambda f: navigations.append(f.url) if f == page.main_frame else None)
    r = goldenchain(["run", str(b.app.project), "--quiet"], clean_env(gc_home, emulator.env()))
    assert r.returncode == 0, r.stdout + r.stderr
    new = accepted_creates(emulator.requests) - creates
    assert sum(new.values()) == 1, new  # exactly one paid create: the re-rolled clip, nothing else
    assert emulator.count(provider="kling", accepted_creates=True) == kling + 1
    done = read_ledger(b.app.project)
    clip2 = done.take("s01", "clip", 2)
    assert clip2.state == "downloaded" and done.shots["s01"].clip_take_id == clip2.id
    assert clip2.idempotency_key in new  # sent to Kling as our own external id
    assert all(s.status == "done" for s in done.shots.values())

    # the open page learnt it by server-sent events and swapped its content in, without a reload
    page.locator(f'[data-take="{clip2.id}"] [data-testid="in-cut"]').wait_for(timeout=30_000)
    assert navigations == [] and page.locator("body").get_attribute("data-refreshed")
    b.screenshot("after-run")

    # a person prefers the first clip after all: "use this take"
    box = _take(b, clip1.id)
    _click_and_land(b, box.get_by_test_id("use"), f"/takes/{clip1.id}/choose", "/shots/s01")
    chosen = read_ledger(b.app.project)
    assert chosen.shots["s01"].clip_take_id == clip1.id and chosen.take("s01", "clip").review == "approved"
    assert [e.action for e in chosen.events][-1] == "chosen"
    assert _take(b, clip1.id).get_by_test_id("in-cut").count() == 1
    assert _take(b, clip2.id).get_by_test_id("in-cut").count() == 0

    # the two clips side by side: Space plays both from the start and pauses both; seeking one seeks the other
    videos = "[...document.querySelectorAll('video[data-sync]')]"
    page.wait_for_function(f"() => {videos}.length === 2 && {videos}.every(v => v.readyState >= 2)")
    page.keyboard.press(" ")
    page.wait_for_function(f"() => {videos}.every(v => !v.paused && v.currentTime > 0)")
    page.keyboard.press(" ")
    page.wait_for_function(f"() => {videos}.every(v => v.paused)")
    # the elements seeked now (a live update may have drawn the takes again meanwhile): loaded and paused
    page.wait_for_function(
        f"() => {videos}.length === 2 && {videos}.every(v => v.paused && v.readyState >= 2)"
    )
    page.evaluate(f"() => {{ {videos}[0].currentTime = 2.5 }}")
    synced = f"() => {videos}.every(v => Math.abs(v.currentTime - 2.5) < 0.06)"
    page.wait_for_function(synced, timeout=60_000)  # a loaded machine decodes slowly


def test_keyboard_shortcuts(browsing: Browsing) -> None:
    b, page = browsing, browsing.page
    led = read_ledger(b.app.project)
    still, clip = led.take("s01", "still"), led.take("s01", "clip")
    _open(b)
    page.keyboard.press("j")
    first = page.get_by_test_id("shot-card").first
    assert "cursor" in (first.get_attribute("class") or "")
    page.keyboard.press("Enter")
    page.wait_for_url(b.app.url + "/shots/s01")

    page.keyboard.press("j")  # the first take (the still)
    with _posts(b, f"/takes/{still.id}/approve", "/shots/s01"):
        page.keyboard.press("a")
    assert read_ledger(b.app.project).take("s01", "still").review == "approved"

    page.keyboard.press("j")
    page.keyboard.press("j")  # the clip
    page.keyboard.press("r")  # reject: the reason list takes the focus, typing goes to the form
    focused = page.evaluate("document.activeElement.getAttribute('data-testid')")
    assert focused == "reason"
    assert page.evaluate("document.activeElement.closest('[data-take]').dataset.take") == str(clip.id)
    _take(b, clip.id).get_by_test_id("reason").select_option("motion")
    page.keyboard.press("Tab")
    page.keyboard.type("too fast")
    with _posts(b, f"/takes/{clip.id}/reject", "/shots/s01"):
        page.keyboard.press("Enter")
    t = read_ledger(b.app.project).take("s01", "clip")
    assert (t.review, t.review_note) == ("rejected", "motion: too fast")

    page.keyboard.press("n")
    page.wait_for_url(b.app.url + "/shots/s02")
    page.keyboard.press("p")
    page.wait_for_url(b.app.url + "/shots/s01")
    events = read_ledger(b.app.project).events
    assert [(e.action, e.take_id) for e in events] == [("approved", still.id), ("rejected", clip.id)]


def test_the_report_opens_from_the_header(reading: Browsing) -> None:
    b, page = reading, reading.page
    _open(b)
    page.get_by_role("link", name="report").click()  # the run's report, under its own CSP
    page.wait_for_url(b.app.url + "/out/report.html")
    page.wait_for_load_state("load")
    assert "s01" in page.locator("body").inner_text()
    decoded = page.evaluate("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
    assert decoded and page.locator("img").count() >= 3  # the spend chart and one thumbnail per shot
    b.watch.assert_clean()

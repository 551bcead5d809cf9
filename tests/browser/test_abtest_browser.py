"""Blind ratings of an A/B test's pairs in a real browser: the test's page with its plot, a pair's two clips side
by side without a word of which variant made which, a rating per clip saved (CSRF and Origin checked as every
write of the app) and booked to the right variant in the ledger, and the report's ratings after it."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from goldenchain import api
from goldenchain.emulator import Emulator
from tests.browser.conftest import Browsing, clean_env, goldenchain

pytestmark = pytest.mark.browser

# words that name the variants: none may appear on a pair's page
WARM, COOL = "zanzibarwarm", "quillcool"
PROMPT = (
    "Medium shot of a potter shaping a bowl at a wheel, {} window light, calm studio, neutral wall, 35mm lens"
)


@pytest.fixture
def project(base_project: Path, tmp_path: Path, gc_home: Path) -> Iterator[Path]:
    """A copy of the run project with an A/B test of two prompts over two pairs, run to the end (on an emulator
    of its own: each copy asks for its takes under the same ids, which one provider would not make twice)."""
    root = Path(shutil.copytree(base_project, tmp_path / "shoot", symlinks=True))
    with Emulator(host="127.0.0.1", port=0, scenario="clean", latency=0.1) as emu:
        _run_test(root, clean_env(gc_home, emu.env()))
    yield root


def _run_test(root: Path, env: dict[str, str]) -> None:
    new = [
        "abtest", "new", "light", "--project", str(root), "--shot", "s01", "--pairs", "2",
        "--variant", f"{WARM}={PROMPT.format('warm ' + WARM)}", "--variant", f"{COOL}={PROMPT.format(COOL)}",
    ]  # fmt: skip
    r = goldenchain(new, env)
    assert r.returncode == 0, r.stdout + r.stderr
    r = goldenchain(["abtest", "run", "light", "--project", str(root)], env, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr


def _variant_of_slot(project: Path, pair: int, who: str) -> dict[int, str]:
    """Which variant each slot of the pair's page shows this person, from the ledger (the page never says)."""
    p = api.open_project(project)
    view = api.abtest_pair(p, "light", pair, who=who)
    led = api.open_ledger(p)
    assert led is not None
    try:
        test = led.abtest(p.id, "light")
        assert test is not None
        clips = {r.clip_take_id: r.variant for r in led.abtest_results(test.id) if r.pair == pair}
        sha = {t.artifact_sha256: clips[t.id] for t in led.takes(f"{p.id}.ab.light") if t.id in clips}
    finally:
        led.db.dispose()
    return {c["slot"]: sha[c["sha256"]] for c in view["clips"]}


def test_a_pair_is_rated_blind_and_booked_to_its_variant(browsing: Browsing) -> None:
    b, page = browsing, browsing.page
    resp = page.goto("/abtests")
    assert resp is not None and resp.status == 200
    page.get_by_test_id("abtest-link").click()
    page.wait_for_url("**/abtests/light")
    assert "no difference yet" in page.get_by_test_id("abtest-summary").inner_text()
    plot = page.get_by_test_id("abtest-plot")
    page.wait_for_function("e => e.complete && e.naturalWidth > 0", arg=plot.element_handle())
    assert plot.evaluate("e => e.naturalWidth") >= 400
    assert page.get_by_test_id("pair-link").count() == 2
    page.get_by_test_id("pair-link").first.click()
    page.wait_for_url("**/abtests/light/pairs/1")

    # two clips side by side, each a video the browser decodes; nothing on the page names a variant
    clips = page.get_by_test_id("blind-clip")
    assert clips.count() == 2
    videos = page.locator('[data-testid="blind-clip"] video')
    for i in range(2):
        videos.nth(i).evaluate("v => v.load()")
        page.wait_for_function(
            "v => v.readyState >= 1 && v.videoWidth > 0", arg=videos.nth(i).element_handle()
        )
    html = page.content().lower()
    for word in (WARM, COOL, "variant " + WARM, "warm window"):
        assert word not in html, word
    boxes = [clips.nth(i).bounding_box() for i in range(2)]
    assert boxes[0] is not None and boxes[1] is not None
    assert abs(boxes[0]["y"] - boxes[1]["y"]) < 5 and boxes[1]["x"] > boxes[0]["x"]  # side by side
    b.screenshot("pair")

    page.get_by_test_id("rate-1-2").check()
    page.get_by_test_id("rate-2-5").check()
    with page.expect_navigation(url=b.app.url + "/abtests/light/pairs/2"):
        page.get_by_test_id("save-ratings").click()

    slots = _variant_of_slot(b.app.project, 1, "local")
    p = api.open_project(b.app.project)
    led = api.open_ledger(p)
    assert led is not None
    try:
        test = led.abtest(p.id, "light")
        assert test is not None
        got = {(r.pair, r.variant, r.rating, r.who) for r in led.abtest_ratings(test.id)}
    finally:
        led.db.dispose()
    assert got == {(1, slots[1], 2, "local"), (1, slots[2], 5, "local")}

    # back on pair 1: the person's own ratings, in the same order
    page.goto("/abtests/light/pairs/1")
    assert [page.get_by_test_id("your-rating").nth(i).inner_text() for i in range(2)] == [
        "your rating 2",
        "your rating 5",
    ]
    rep = api.abtest_report(p, "light", plot=False, save=False)
    means = {v["name"]: v["mean_rating"] for v in rep["variants"]}
    assert means == {slots[1]: 2.0, slots[2]: 5.0}
    assert rep["comparisons"][0]["rated_pairs"] == 1


def test_a_rating_without_the_token_or_from_another_origin_is_refused(browsing: Browsing) -> None:
    b = browsing
    origin = b.app.url
    with httpx.Client(base_url=origin, timeout=30) as c:
        page = c.get("/abtests/light/pairs/1")
        assert page.status_code == 200
        assert 'data-testid="rate-form"' in page.text, page.text
        m = re.search(r'name="csrf" (?:value|content)="([0-9a-f]+)"', page.text)
        assert m is not None
        token = m.group(1)
        url = "/abtests/light/pairs/1/rate"
        form = {"slot1": "4", "slot2": "3"}
        assert c.post(url, data=form, headers={"origin": origin}).status_code == 403
        foreign = {"origin": "http://evil.example"}
        assert c.post(url, data={**form, "csrf": token}, headers=foreign).status_code == 403
        bad = c.post(
            url, data={"slot1": "9", "csrf": token}, headers={"origin": origin, "accept": "application/json"}
        )
        assert bad.status_code == 400 and "1 to 5" in bad.json()["error"]
        ok = c.post(
            url, data={**form, "csrf": token}, headers={"origin": origin, "accept": "application/json"}
        )
        assert ok.status_code == 200 and ok.json() == {"pair": 1, "rated": [4, 3]}
    b.page.goto("/abtests/light")  # the page the fixture saves, and a check that it renders after the write

"""A client's monthly summary in a real browser (Debian's Chromium driven by Playwright), served by the review
app under the report's Content-Security-Policy: the inline plot draws, nothing is fetched, nothing is refused
(a refused style or image would be a console error, which fails the test)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.conftest import Browsing, clean_env, goldenchain

pytestmark = pytest.mark.browser


def test_a_monthly_summary_opens_under_the_reports_policy(browsing: Browsing, gc_home: Path) -> None:
    b, page = browsing, browsing.page
    made = goldenchain(["costs", "monthly", str(b.app.project)], clean_env(gc_home))
    assert made.returncode == 0, made.stderr
    (html,) = sorted((b.app.project / "out").glob("summary-example-client-*.html"))
    fetched: list[str] = []
    page.on("request", lambda r: fetched.append(r.url))
    resp = page.goto(f"/out/{html.name}")
    assert resp is not None and resp.status == 200
    assert "default-src 'none'" in resp.headers["content-security-policy"]
    assert [u for u in fetched if not u.endswith("/favicon.ico")] == [resp.url]  # the page alone
    box = page.locator("figure.plot svg").bounding_box()
    assert box is not None and box["width"] > 600 and box["height"] > 200
    assert page.evaluate("document.scripts.length") == 0
    assert page.locator("h1").text_content().startswith("example-client")
    spent = page.locator(".kpi b").first.text_content()
    assert spent is not None and spent.startswith("$") and float(spent[1:]) > 0
    b.watch.assert_clean()
    b.screenshot(full_page=False)

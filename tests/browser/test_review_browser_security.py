"""The review app's defences, seen from a real browser (Debian's Chromium driven by Playwright) against
``goldenchain review`` in its own process: XSS payloads in a prompt, a note or an edited prompt stay text; a
form on another origin that posts to the app is refused even with a leaked CSRF token; a rebound Host name gets
nothing. Any alert() dialog fails the test (the fixture's watcher)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import yaml

from goldenchain.config import load_project
from goldenchain.store.db import Database
from goldenchain.store.ledger import Ledger
from tests.browser.conftest import (
    REBIND_HOST,
    TOKEN,
    XSS,
    XSS_PROMPT,
    XSS_SHOT,
    Browsing,
    clean_env,
    goldenchain,
    read_ledger,
    snapshot,
)

pytestmark = pytest.mark.browser


def _open(b: Browsing, path: str = "/") -> Any:
    resp = b.page.goto(path)
    assert resp is not None and resp.status == 200, resp and resp.status
    return resp


def _no_payload_markup(b: Browsing) -> None:
    page = b.page
    assert page.locator("img[src='x'], img[onerror], [onerror]").count() == 0
    # every script on the page is the app's own file: none inline, none from a payload
    assert page.evaluate("[...document.scripts].map(s => s.getAttribute('src'))") == ["/static/app.js"]


def test_xss_payloads_in_a_prompt_stay_text(reading: Browsing) -> None:
    b, page = reading, reading.page
    _open(b)
    card = page.locator(f'[data-testid="shot-card"][data-shot="{XSS_SHOT}"]')
    assert card.get_by_test_id("prompt").text_content() == XSS_PROMPT
    _no_payload_markup(b)

    _open(b, f"/shots/{XSS_SHOT}")
    assert page.get_by_test_id("prompt").text_content() == XSS_PROMPT
    assert page.get_by_test_id("prompt-text").input_value() == XSS_PROMPT  # a </textarea> does not close it
    assert page.get_by_test_id("prompt-form").locator("textarea").count() == 1
    assert all(p in page.get_by_test_id("prompt").text_content() for p in XSS)
    _no_payload_markup(b)
    # an inline script runs while the page parses and an image's onerror fires before the load event that
    # goto waited for: a payload that ran would have opened its dialog by now
    b.watch.assert_clean()


def test_an_edited_prompt_with_payloads_is_saved_and_shown_as_text(browsing: Browsing) -> None:
    b, page = browsing, browsing.page
    text = f"Wide shot of a harbour at dawn {XSS[1]} calm water {XSS[2]} 35mm lens"
    _open(b, "/shots/s01")
    form = page.get_by_test_id("prompt-form")
    form.get_by_test_id("prompt-text").fill(text)
    form.locator('input[name="rerun"]').uncheck()  # only the text: no new still on the next run
    with page.expect_response(lambda r: r.url.endswith("/shots/s01/prompt")) as info:
        form.get_by_role("button", name="save prompt").click()
    assert info.value.status == 303
    page.wait_for_url(b.app.url + "/shots/s01")
    shots = yaml.safe_load((b.app.project / "shots.yaml").read_text())["shots"]
    assert next(s for s in shots if s["id"] == "s01")["prompt"] == text
    led = read_ledger(b.app.project)
    assert [(e.action, e.note) for e in led.events] == [("prompt", f"prompt: {text}")]
    assert led.shots["s01"].status == "done"  # not re-run: nothing asked of the next run
    assert page.get_by_test_id("prompt").text_content() == text
    assert page.get_by_test_id("prompt-text").input_value() == text
    assert text in page.get_by_test_id("history").inner_text()
    _no_payload_markup(b)
    _open(b)
    assert page.locator('[data-shot="s01"] [data-testid="prompt"]').text_content() == text
    _no_payload_markup(b)


class _Evil(BaseHTTPRequestHandler):
    page = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/html; charset=utf-8")
        self.send_header("content-length", str(len(self.page)))
        self.end_headers()
        self.wfile.write(self.page)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def evil_site() -> Iterator[tuple[str, type[_Evil]]]:
    """A second loopback server on another port: the same site as the app (its cookies are sent), another
    origin."""
    handler = type("Evil", (_Evil,), {"page": b""})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()
        t.join(timeout=5)


@pytest.mark.parametrize("with_token", [False, True], ids=["no-token", "leaked-token"])
def test_a_cross_origin_form_is_refused(
    browsing: Browsing, evil_site: tuple[str, type[_Evil]], with_token: bool
) -> None:
    b = browsing
    _open(b)  # the victim has a session with the app (its cookie goes with a same-site POST)
    token = b.page.locator('meta[name="csrf"]').get_attribute("content") if with_token else ""
    assert token or not with_token
    target = f"{b.app.url}/shots/s01/reroll"
    evil_url, handler = evil_site
    fields = {"csrf": token, "stage": "clip", "confirm": "yes", "next": "/"}
    inputs = "".join(f'<input type="hidden" name="{k}" value="{v}">' for k, v in fields.items())
    handler.page = (
        "<!doctype html><title>win a prize</title>"
        f'<form method="post" action="{target}">{inputs}</form>'
        "<script>document.forms[0].submit()</script>"
    ).encode()
    before = snapshot(b.app.project)
    b.watch.expect_console_error(r"status of 403")
    with b.page.expect_response(lambda r: r.url == target) as info:
        b.page.goto(evil_url)
    resp = info.value
    assert resp.request.method == "POST"
    assert resp.request.headers.get("origin") == evil_url  # the browser said where it came from
    assert resp.status == 403
    b.page.wait_for_load_state("load")
    assert "cross-origin write refused" in b.page.locator("body").inner_text()
    assert snapshot(b.app.project) == before
    assert read_ledger(b.app.project).events == []


def _raw(port: int, request: str) -> tuple[int, str]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(request.encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.decode("latin-1").partition("\r\n\r\n")
    return int(head.split(" ", 2)[1]), body


def test_a_rebound_host_name_is_refused(reading: Browsing) -> None:
    b = reading
    port = b.app.port
    before = snapshot(b.app.project)
    status, body = _raw(port, f"GET / HTTP/1.1\r\nHost: {REBIND_HOST}:{port}\r\nConnection: close\r\n\r\n")
    assert status == 400 and "unknown Host" in body and "s01" not in body
    status, body = _raw(
        port, "GET /api/shots HTTP/1.1\r\nHost: attacker.example\r\nConnection: close\r\n\r\n"
    )
    assert status == 400 and "prompt" not in body
    form = "csrf=x&stage=clip&confirm=yes"
    status, _ = _raw(
        port,
        f"POST /shots/s01/reroll HTTP/1.1\r\nHost: {REBIND_HOST}:{port}\r\n"
        f"Origin: http://{REBIND_HOST}:{port}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(form)}\r\nConnection: close\r\n\r\n{form}",
    )
    assert status == 400
    # the control: the same raw request with the app's own Host is answered
    status, body = _raw(
        port, f"GET /api/shots HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    assert status == 200 and [s["id"] for s in json.loads(body)] == ["s01", "s02"]

    # the browser itself, on a name that resolves to the app's address (as after a DNS rebinding)
    b.watch.expect_console_error(r"status of 400")
    b.watch.expect_console_error(r"Cross-Origin-Opener-Policy header has been ignored")  # http, not loopback
    resp = b.page.goto(f"http://{REBIND_HOST}:{port}/")
    assert resp is not None and resp.status == 400
    assert b.page.locator("body").inner_text().strip() == "unknown Host"
    assert snapshot(b.app.project) == before


def test_a_token_app_lets_in_only_the_login_link_and_names_the_reviewer(
    browsing_with_token: Browsing,
) -> None:
    b, page = browsing_with_token, browsing_with_token.page
    name, secret = TOKEN
    link = b.app.login_link
    assert link is not None and link.startswith(f"{b.app.url}/login?code=") and secret not in link
    b.watch.expect_console_error(r"status of 401")
    b.watch.expect_console_error(r"status of 403")
    resp = page.goto("/")
    assert resp is not None and resp.status == 401
    assert "a review token is needed" in page.locator("body").inner_text()

    resp = page.goto(link)  # sets the auth cookie and lands on the grid
    assert resp is not None and resp.status == 200 and page.url == b.app.url + "/"
    assert f"signed in as {name}" in page.locator("header").inner_text()
    auth = next(c for c in b.context.cookies() if c["name"] == "gc_auth")
    assert auth["httpOnly"] and auth["sameSite"] == "Strict"
    assert "gc_auth" not in page.evaluate("document.cookie")  # no script can read it
    assert secret not in page.content()

    still = read_ledger(b.app.project).take("s01", "still")
    page.goto("/shots/s01")
    box = page.locator(f'[data-testid="take"][data-take="{still.id}"]')
    with page.expect_navigation(url=b.app.url + "/shots/s01"):
        box.get_by_test_id("approve").click()
    assert [(e.action, e.take_id, e.who) for e in read_ledger(b.app.project).events] == [
        ("approved", still.id, name)
    ]
    assert name in page.get_by_test_id("history").inner_text()

    # the link works once; a browser without the cookie is still refused; the token itself works as a header
    other = b.context.browser.new_context(base_url=b.app.url)
    try:
        p2 = other.new_page()
        again = p2.goto(link)
        assert again is not None and again.status == 403
        refused = p2.goto("/shots/s01")
        assert refused is not None and refused.status == 401
        api = other.request.get("/api/shots", headers={"authorization": f"Bearer {secret}"})
        assert api.status == 200 and [s["id"] for s in api.json()] == ["s01", "s02"]
        wrong = other.request.get("/api/shots", headers={"authorization": "Bearer " + "x" * 32})
        assert wrong.status == 401
    finally:
        other.close()


def _quote_status(b: Browsing, quote_id: str) -> tuple[str, str | None]:
    p = load_project(b.app.project)
    db = Database(p.database_url)
    try:
        q = Ledger(db).quote(quote_id)
        return q.status, q.decided_by
    finally:
        db.dispose()


def test_a_person_approves_and_revokes_a_quote_and_a_forged_approval_is_refused(
    browsing: Browsing, evil_site: tuple[str, type[_Evil]], gc_home: Any
) -> None:
    b, page = browsing, browsing.page
    _open(b, "/shots/s01")  # a person asks for a new clip; a script prices it
    form = page.get_by_test_id("reroll-clip")
    form.get_by_test_id("confirm-clip").check()
    with page.expect_navigation(url=b.app.url + "/shots/s01"):
        form.get_by_role("button").click()
    r = goldenchain(["quote", str(b.app.project), "--shots", "s01", "--json"], clean_env(gc_home))
    assert r.returncode == 0, r.stderr
    q = json.loads(r.stdout)
    assert q["status"] == "pending" and q["shots"] == ["s01"] and q["amount_usd"] > 0
    qid = q["quote"]

    # an agent's page on another origin clicks "approve" for the person: refused
    _open(b, "/quotes")
    token = page.locator('meta[name="csrf"]').get_attribute("content")
    target = f"{b.app.url}/quotes/{qid}/approve"
    evil_url, handler = evil_site
    handler.page = (
        f'<!doctype html><form method="post" action="{target}"><input type="hidden" name="csrf" value="{token}">'
        "</form><script>document.forms[0].submit()</script>"
    ).encode()
    b.watch.expect_console_error(r"status of 403")
    with page.expect_response(lambda r: r.url == target) as info:
        page.goto(evil_url)
    assert info.value.status == 403
    assert _quote_status(b, qid) == ("pending", None)

    _open(b, "/quotes")
    row = page.locator(f'tr[data-quote="{qid}"]')
    assert "pending" in row.inner_text()
    with page.expect_navigation(url=b.app.url + "/quotes"):
        row.get_by_test_id("approve-quote").click()
    assert _quote_status(b, qid) == ("approved", "local")
    assert "approved" in row.inner_text() and "by local" in row.inner_text()
    assert row.get_by_test_id("approve-quote").count() == 0
    with page.expect_navigation(url=b.app.url + "/quotes"):
        row.get_by_test_id("revoke-quote").click()
    assert _quote_status(b, qid) == ("revoked", "local")
    assert (
        row.get_by_test_id("revoke-quote").count() == 0 and row.get_by_test_id("approve-quote").count() == 0
    )

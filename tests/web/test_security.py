"""The review app's guard, over a real ledger: escaping, CSRF, Origin and Host checks, headers, tokens."""

from __future__ import annotations

import asyncio
import contextlib
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from goldenchain.config import load_project
from goldenchain.reports.deliver import render_html
from goldenchain.store.db import Database
from goldenchain.store.ledger import Ledger
from goldenchain.web.app import create_app
from goldenchain.web.security import CSP, Guard, parse_tokens
from tests.integration.helpers import make_project

XSS = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>']
ORIGIN = "http://127.0.0.1:8765"


def _project(tmp_path: Path) -> Path:
    root = make_project(tmp_path / "shoot", shots=2)
    shots = (root / "shots.yaml").read_text()
    shots = re.sub(r'prompt: "Medium shot of a lighthouse[^"]*"', f"prompt: '{XSS[0]} lighthouse'", shots)
    shots = re.sub(r'prompt: "Wide shot[^"]*"', "prompt: '" + XSS[1].replace("'", "''") + " valley'", shots)
    (root / "shots.yaml").write_text(shots)
    return root


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


@contextlib.asynccontextmanager
async def _session(app: Any, host: str = "127.0.0.1:8765") -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{host}") as c:
        page = await c.get("/")
        assert page.status_code == 200, page.text
        m = re.search(r'name="csrf" (?:value|content)="([0-9a-f]{64})"', page.text)
        assert m, "every form carries a CSRF token"
        yield c, m.group(1)


def test_prompts_and_notes_are_escaped_in_the_page_and_the_report(tmp_path: Path) -> None:
    project = load_project(_project(tmp_path))
    app = create_app(project)

    async def go() -> str:
        async with _session(app) as (c, _):
            return (await c.get("/")).text

    page = _run(go())
    for payload in XSS:
        assert payload not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, flags=re.S | re.I)
    assert scripts == [(' src="/static/app.js" defer', "")]  # no inline script at all (the CSP forbids it)
    assert not re.search(r"<[a-z]+\b[^>]*\son[a-z]+\s*=", page, flags=re.I)  # no event-handler attributes
    html = render_html(
        {
            "project": XSS[0],
            "client": XSS[1],
            "costs": {"credits": {}, "burn": {}, "by_provider": {}, "by_shot": {}},
            "delivery": {
                "codec": "h264",
                "width": 1920,
                "height": 1080,
                "fps": 24,
                "crf": 18,
                "naming": XSS[1],
            },
            "delivery_check": [],
            "shots_done": 0,
            "shots_total": 1,
            "shots": [
                {
                    "id": "s01",
                    "prompt": XSS[0],
                    "status": "failed",
                    "detail": XSS[1],
                    "takes": [
                        {
                            "stage": "clip",
                            "take": 1,
                            "seed": None,
                            "provider": "kling",
                            "model": "m",
                            "state": "downloaded",
                            "verdict": "reject",
                            "failure_class": "human",
                            "reason": XSS[0],
                            "checks": [],
                            "cost_usd": 0.5,
                        }
                    ],
                }
            ],
        }
    )
    for payload in XSS:
        assert payload not in html


def test_every_answer_carries_the_security_headers(tmp_path: Path) -> None:
    app = create_app(load_project(_project(tmp_path)))

    async def go() -> list[httpx.Response]:
        async with _session(app) as (c, _):
            return [await c.get(p) for p in ("/", "/api/shots", "/static/app.css", "/media/" + "0" * 64)]

    for r in _run(go()):
        assert r.headers["content-security-policy"] == CSP
        assert "'unsafe-inline'" not in CSP and "frame-ancestors 'none'" in CSP
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["x-content-type-options"] == "nosniff"


def _writes(app: Any, token: str | None, headers: dict[str, str], host: str = "127.0.0.1:8765") -> int:
    async def go() -> int:
        async with _session(app, host=host) as (c, csrf):
            data = {"csrf": csrf if token is None else token, "confirm": "yes"}
            r = await c.post("/shots/s01/reroll?stage=clip", data=data, headers=headers)
            return r.status_code

    return int(_run(go()))


def _events(root: Path) -> list[Any]:
    db = Database(load_project(root).database_url)
    try:
        return Ledger(db).review_events(load_project(root).id)
    finally:
        db.dispose()


def test_a_write_needs_the_csrf_token_and_a_same_origin(tmp_path: Path) -> None:
    root = _project(tmp_path)
    app = create_app(load_project(root))
    # a cross-site auto-submitting form: the browser sends the other site's Origin and no valid token
    assert _writes(app, "", {"origin": "https://attacker.example"}) == 403
    assert _writes(app, None, {"origin": "https://attacker.example"}) == 403  # even with a stolen token
    assert _writes(app, None, {"origin": "null"}) == 403  # sandboxed iframe / data: URL
    assert _writes(app, None, {}) == 403  # no Origin, no Referer
    assert _writes(app, "0" * 64, {"origin": ORIGIN}) == 403  # same origin, forged token
    assert _writes(app, "", {"origin": ORIGIN}) == 403  # same origin, no token
    assert _events(root) == []  # nothing refused reached the ledger
    assert _writes(app, None, {"origin": ORIGIN}) == 303  # the page's own form
    assert _writes(app, None, {"referer": ORIGIN + "/"}) == 303  # Referer when a browser drops Origin
    ev = _events(root)
    assert [(e.action, e.who, e.shot_id) for e in ev] == [("reroll", "local", "s01")] * 2
    assert ev[0].at is not None


def test_a_token_from_another_session_is_refused(tmp_path: Path) -> None:
    app = create_app(load_project(_project(tmp_path)))

    async def go() -> int:
        async with _session(app) as (_a, token_a), _session(app) as (b, _):
            r = await b.post(
                "/shots/s01/reroll", data={"csrf": token_a, "confirm": "yes"}, headers={"origin": ORIGIN}
            )
            return r.status_code

    assert _run(go()) == 403


def test_an_unknown_host_is_refused(tmp_path: Path) -> None:
    app = create_app(load_project(_project(tmp_path)))

    async def go() -> list[int]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as c:
            return [
                (await c.get(f"http://{h}/")).status_code
                for h in ("attacker.example", "attacker.example:8765", "localhost:8765", "[::1]:8765")
            ]

    assert _run(go()) == [400, 400, 200, 200]


def test_a_non_loopback_bind_needs_a_token(tmp_path: Path) -> None:
    from goldenchain.errors import UsageError

    with pytest.raises(UsageError, match="GOLDENCHAIN_REVIEW_TOKEN"):
        Guard(bind_host="0.0.0.0")
    with pytest.raises(UsageError, match="16 characters"):
        parse_tokens("ann:short")
    secret = "s3cret-token-0123456789"
    guard = Guard(bind_host="192.0.2.10", tokens=parse_tokens(f"ann:{secret}"))
    root = _project(tmp_path)
    app = create_app(load_project(root), guard=guard)
    host = "192.0.2.10:8765"

    async def go() -> dict[str, Any]:
        out: dict[str, Any] = {}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{host}") as c:
            out["anon"] = (await c.get("/")).status_code
            out["wrong"] = (await c.get("/", headers={"authorization": "Bearer nope"})).status_code
            out["bearer"] = (
                await c.get("/api/shots", headers={"authorization": f"Bearer {secret}"})
            ).status_code
            code = guard.login_link_code(secret)
            login = await c.get(f"/login?code={code}")
            out["login"] = login.status_code
            page = await c.get("/")  # the cookie the link set
            out["cookie"] = page.status_code
            out["secret_in_page"] = secret in page.text or secret in str(page.headers)
            csrf = re.search(r'name="csrf" (?:value|content)="([0-9a-f]{64})"', page.text)
            assert csrf
            w = await c.post(
                "/shots/s02/reroll?stage=still",
                data={"csrf": csrf.group(1), "confirm": "yes"},
                headers={"origin": f"http://{host}"},
            )
            out["write"] = w.status_code
            c.cookies.clear()
            out["reused"] = (await c.get(f"/login?code={code}")).status_code
        return out

    out = _run(go())
    assert out == {
        "anon": 401,
        "wrong": 401,
        "bearer": 200,
        "login": 303,
        "cookie": 200,
        "secret_in_page": False,
        "write": 303,
        "reused": 403,
    }
    ev = _events(root)
    assert [(e.action, e.who, e.shot_id, e.note) for e in ev] == [("reroll", "ann", "s02", "still")]


def test_the_cli_refuses_a_public_bind_without_a_token(tmp_path: Path) -> None:
    root = _project(tmp_path)
    env = {k: v for k, v in __import__("os").environ.items() if k != "GOLDENCHAIN_REVIEW_TOKEN"}
    r = subprocess.run(
        [sys.executable, "-m", "goldenchain", "review", str(root), "--host", "0.0.0.0", "--port", "0"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "GOLDENCHAIN_REVIEW_TOKEN" in r.stderr
    assert "Traceback" not in r.stderr


def test_a_person_approves_a_quote_in_the_review_app(tmp_path: Path) -> None:
    root = _project(tmp_path)
    db = Database(load_project(root).database_url)
    try:
        q = Ledger(db).add_quote("shoot", 1.5, ["s01"], "h", 3600)
    finally:
        db.dispose()
    app = create_app(load_project(root))

    async def go() -> tuple[int, int, str]:
        async with _session(app) as (c, csrf):
            forged = await c.post(
                f"/quotes/{q.id}/approve", data={"csrf": csrf}, headers={"origin": "http://x.example"}
            )
            ok = await c.post(f"/quotes/{q.id}/approve", data={"csrf": csrf}, headers={"origin": ORIGIN})
            page = (await c.get("/quotes")).text
            return forged.status_code, ok.status_code, page

    forged, ok, page = _run(go())
    assert forged == 403 and ok == 303  # an agent's forged click is refused; the person's is taken
    assert q.id in page and "approved" in page and "by local" in page


def test_deliverables_are_served_from_out_and_nothing_outside_it(tmp_path: Path) -> None:
    root = _project(tmp_path)
    (root / "out" / "thumbs").mkdir(parents=True)
    (root / "out" / "thumbs" / "s01.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (root / "secret.json").write_text('{"FAL_KEY": "x"}')
    app = create_app(load_project(root))

    async def go() -> list[int]:
        async with _session(app) as (c, _):
            paths = [
                "/out/thumbs/s01.jpg",
                "/out/../secret.json",
                "/out/%2e%2e/secret.json",
                "/out/thumbs/../../goldenchain.toml",
            ]
            return [(await c.get(p)).status_code for p in paths]

    assert _run(go()) == [200, 404, 404, 404]

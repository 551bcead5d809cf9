"""The review app's guard: who may talk to it, and which writes it believes.

* **Host allow-list** (DNS rebinding): a request whose ``Host`` is not one the server was started for gets 400.
* **Access token** for any bind but loopback: every request carries ``Authorization: Bearer <token>`` or the
  ``gc_auth`` cookie that a one-time login link sets. Tokens come from settings or ``GOLDENCHAIN_REVIEW_TOKEN``
  (``name:secret`` pairs, comma-separated; a bare secret is named ``token``). Loopback needs none.
* **CSRF**: every write (any method but GET/HEAD/OPTIONS) carries a token bound to the browser's ``gc_session``
  cookie (HMAC with a per-server key), in the ``csrf`` form field or the ``X-CSRF-Token`` header, **and** an
  ``Origin`` (or, failing that, ``Referer``) on the allow-list.
* **Headers** on every answer: a strict Content-Security-Policy (no inline script or style), frame denial,
  ``nosniff``, ``same-origin`` referrers, ``no-store`` on pages.

The guard never writes a token into a page, a log or an error message.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import secrets
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlsplit

from goldenchain.errors import UsageError

__all__ = ["CSP", "Guard", "is_loopback", "parse_tokens"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SESSION_COOKIE, AUTH_COOKIE, CSRF_FIELD, CSRF_HEADER = "gc_session", "gc_auth", "csrf", "x-csrf-token"
MAX_FORM_BYTES = 64 * 1024


def is_loopback(host: str) -> bool:
    h = host.strip("[]")
    if h == "localhost":
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


def parse_tokens(raw: str | None) -> dict[str, str]:
    """``name:secret,other:secret2`` (or one bare secret, named ``token``) -> {secret: name}."""
    out: dict[str, str] = {}
    for part in (raw or "").split(","):
        part = part.strip()
        if not part:
            continue
        name, sep, secret = part.partition(":")
        if not sep:
            name, secret = "token", part
        if len(secret) < 16:
            raise UsageError("a review token must be at least 16 characters long")
        if not name.replace("-", "").replace("_", "").isalnum():
            raise UsageError("a review token's name may hold only letters, digits, '-' and '_'")
        out[secret] = name
    return out


def _host_only(value: str) -> str:
    value = value.strip().lower()
    if value.startswith("["):
        return value[: value.index("]") + 1] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


@dataclass
class Guard:
    """What one server instance allows. ``tokens`` maps a secret to its name; empty means loopback-only."""

    bind_host: str = "127.0.0.1"
    tokens: dict[str, str] = field(default_factory=dict)
    extra_hosts: Iterable[str] = ()
    key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    _login_codes: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not is_loopback(self.bind_host) and not self.tokens:
            raise UsageError(
                f"--host {self.bind_host} is not loopback: set GOLDENCHAIN_REVIEW_TOKEN (or [review] tokens) "
                "so that every request needs a token"
            )
        hosts = {"127.0.0.1", "localhost", "[::1]"}
        b = self.bind_host.lower()
        if b not in ("0.0.0.0", "::", ""):
            hosts.add(f"[{b}]" if ":" in b and not b.startswith("[") else b)
        hosts.update(_host_only(h) for h in self.extra_hosts)
        self.allowed_hosts = frozenset(hosts)

    # --- identities -------------------------------------------------------------------------------------

    @property
    def needs_token(self) -> bool:
        return bool(self.tokens)

    def login_link_code(self, secret: str) -> str:
        """A one-time code that, visited once at ``/login?code=``, sets the auth cookie for ``secret``."""
        code = secrets.token_urlsafe(24)
        self._login_codes[code] = secret
        return code

    def redeem(self, code: str) -> str | None:
        return self._login_codes.pop(code, None)

    def _cookie_for(self, secret: str) -> str:
        name = self.tokens[secret]
        mac = hmac.new(self.key, b"auth\0" + secret.encode(), hashlib.sha256).hexdigest()
        return f"{name}.{mac}"

    def who(self, headers: dict[str, str], cookies: dict[str, str]) -> str | None:
        """The name of the caller, ``local`` on a loopback server without tokens, None when refused."""
        if not self.tokens:
            return "local"
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            given = auth[7:].strip()
            for secret, name in self.tokens.items():
                if hmac.compare_digest(given.encode(), secret.encode()):
                    return name
            return None
        cookie = cookies.get(AUTH_COOKIE, "")
        for secret, name in self.tokens.items():
            if hmac.compare_digest(cookie.encode(), self._cookie_for(secret).encode()):
                return name
        return None

    # --- CSRF -------------------------------------------------------------------------------------------

    def csrf_token(self, session: str) -> str:
        return hmac.new(self.key, b"csrf\0" + session.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, session: str | None, token: str | None) -> bool:
        if not session or not token:
            return False
        return hmac.compare_digest(self.csrf_token(session).encode(), token.encode())

    def origin_ok(self, headers: dict[str, str]) -> bool:
        src = headers.get("origin") or headers.get("referer")
        if not src or src == "null":
            return False
        parts = urlsplit(src)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return False
        return _host_only(parts.netloc) in self.allowed_hosts and parts.netloc == headers.get("host")

    def host_ok(self, headers: dict[str, str]) -> bool:
        host = headers.get("host")
        return bool(host) and _host_only(host or "") in self.allowed_hosts


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def _cookies(headers: dict[str, str]) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(headers.get("cookie", ""))
    except Exception:
        return {}
    return {k: m.value for k, m in jar.items()}


def _set_cookie(name: str, value: str) -> tuple[bytes, bytes]:
    return b"set-cookie", f"{name}={value}; Path=/; HttpOnly; SameSite=Strict".encode()


SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


async def _plain(send: Send, status: int, text: str, extra: list[tuple[bytes, bytes]] | None = None) -> None:
    body = (text + "\n").encode()
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        *SECURITY_HEADERS,
        *(extra or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class GuardMiddleware:
    """ASGI middleware that enforces a :class:`Guard` before the app sees a request. It puts the caller's name
    (``scope["state"]["who"]``), the CSRF token (``["csrf"]``) and a parsed form body (``["form"]``) into the
    request's state."""

    def __init__(self, app: ASGIApp, guard: Guard) -> None:
        self.app, self.guard = app, guard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        g = self.guard
        headers = _headers(scope)
        if not g.host_ok(headers):
            await _plain(send, 400, "unknown Host")
            return
        cookies = _cookies(headers)
        extra: list[tuple[bytes, bytes]] = []
        path, method = scope["path"], scope["method"]
        if path == "/login" and g.needs_token:
            code = parse_qs(scope.get("query_string", b"").decode()).get("code", [""])[0]
            secret = g.redeem(code)
            if secret is None:
                await _plain(send, 403, "this login link was used already or is unknown")
                return
            await send(
                {
                    "type": "http.response.start",
                    "status": 303,
                    "headers": [(b"location", b"/"), _set_cookie(AUTH_COOKIE, g._cookie_for(secret))],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return
        who = g.who(headers, cookies)
        if who is None:
            await _plain(send, 401, "a review token is needed", [(b"www-authenticate", b"Bearer")])
            return
        session = cookies.get(SESSION_COOKIE)
        if not session or len(session) < 16:
            session = secrets.token_urlsafe(24)
            extra.append(_set_cookie(SESSION_COOKIE, session))
            cookies[SESSION_COOKIE] = session
        body = b""
        if method not in SAFE_METHODS:
            if not g.origin_ok(headers):
                await _plain(send, 403, "cross-origin write refused (Origin)")
                return
            got = await _read_body(receive)
            if got is None:
                await _plain(send, 413, "request body too large")
                return
            body = got
            form = {}
            if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
                form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
            token = headers.get(CSRF_HEADER) or form.get(CSRF_FIELD)
            if not g.csrf_ok(cookies.get(SESSION_COOKIE), token):
                await _plain(send, 403, "missing or wrong CSRF token")
                return
            scope.setdefault("state", {})["form"] = form
        state = scope.setdefault("state", {})
        state["who"], state["csrf"] = who, g.csrf_token(session)

        sent = False

        async def replay() -> Message:
            nonlocal sent
            if method in SAFE_METHODS or sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send_wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                hs = list(message.get("headers", []))
                names = {k.lower() for k, _ in hs}
                hs += [h for h in SECURITY_HEADERS if h[0] not in names]
                if b"cache-control" not in names:
                    hs.append((b"cache-control", b"no-store"))
                hs += extra
                message = {**message, "headers": hs}
            await send(message)

        await self.app(scope, replay, send_wrapped)


async def _read_body(receive: Receive) -> bytes | None:
    chunks, size = [], 0
    while True:
        msg = await receive()
        if msg["type"] == "http.disconnect":
            break
        chunk = msg.get("body", b"")
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            return None
        chunks.append(chunk)
        if not msg.get("more_body"):
            break
    return b"".join(chunks)


def tokens_from_env(setting: str | None = None) -> dict[str, str]:
    """Tokens from ``GOLDENCHAIN_REVIEW_TOKEN`` (first) or the project's setting."""
    return parse_tokens(os.environ.get("GOLDENCHAIN_REVIEW_TOKEN") or setting)

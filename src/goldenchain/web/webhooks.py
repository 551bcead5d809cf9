"""The webhook receiver: ``POST /hooks/kling``, ``/hooks/fal`` and ``/hooks/replicate`` (Starlette routes).

A callback is only a hint. It is checked (a signature where the provider documents one, a task id that we
wait on), then it wakes the take waiting on that task, and nothing else: the take confirms with a normal
status query before anything is recorded, so a forged callback cannot make a take succeed or fail.

* Replicate: ``webhook-id``, ``webhook-timestamp``, ``webhook-signature`` (``v1,<base64>`` entries), HMAC-SHA256
  of ``{id}.{timestamp}.{body}`` with the ``whsec_`` secret (``REPLICATE_WEBHOOK_SECRET``).
* fal: ``X-Fal-Webhook-Request-Id``, ``-User-Id``, ``-Timestamp``, ``-Signature`` (hex ED25519) over the four
  lines request id, user id, timestamp, hex SHA-256 of the body; the public keys come from
  ``FAL_WEBHOOK_PUBLIC_KEY`` (base64url keys, or a JWKS document as fal publishes it).
* Kling documents no signature: only a task id we wait on is taken, and only a terminal status wakes it.

Timestamps more than five minutes from our clock are refused (replays). Bodies over :data:`MAX_BODY` are
refused before they are read whole. :class:`WebhookReceiver` serves the routes on its own thread (the run's
receiver); ``webhook_routes`` gives them to any other Starlette app."""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

log = logging.getLogger(__name__)

__all__ = [
    "MAX_BODY",
    "TOLERANCE_S",
    "HintSink",
    "WebhookKeys",
    "WebhookReceiver",
    "verify_fal",
    "verify_replicate",
    "webhook_routes",
]

#: the largest callback body taken (a Replicate prediction echoes its input, which may hold an image)
MAX_BODY = 16 * 1024 * 1024
#: how far a signed timestamp may be from our clock, either way
TOLERANCE_S = 300
KLING_DONE = ("succeed", "failed")


class HintSink(Protocol):
    """What the receiver wakes: the run's :class:`~goldenchain.orchestration.hints.WebhookHub`."""

    def knows(self, provider: str, task_id: str) -> bool: ...

    def hint(self, provider: str, task_id: str) -> bool: ...


class Refused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


# --- keys ------------------------------------------------------------------------------------------------


def _b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def parse_fal_keys(value: str | None) -> list[bytes]:
    """Raw 32-byte ED25519 public keys from base64url keys (comma or space separated) or a JWKS document."""
    if not value or not value.strip():
        return []
    text = value.strip()
    items: list[str] = []
    if text.startswith("{"):
        try:
            doc = json.loads(text)
        except ValueError:
            raise ValueError("FAL_WEBHOOK_PUBLIC_KEY: not a JWKS document") from None
        for k in doc.get("keys") or []:
            if isinstance(k, dict) and k.get("crv") in (None, "Ed25519") and isinstance(k.get("x"), str):
                items.append(k["x"])
    else:
        items = [p for p in text.replace(",", " ").split() if p]
    keys = []
    for item in items:
        try:
            raw = _b64url(item)
        except (binascii.Error, ValueError):
            raise ValueError("FAL_WEBHOOK_PUBLIC_KEY: a key is not base64url") from None
        if len(raw) != 32:
            raise ValueError("FAL_WEBHOOK_PUBLIC_KEY: an ED25519 public key has 32 bytes")
        keys.append(raw)
    return keys


@dataclass(frozen=True)
class WebhookKeys:
    """What callbacks are checked with: Replicate's ``whsec_`` secret and fal's public keys."""

    replicate_secret: str | None = None
    fal_public_keys: tuple[bytes, ...] = ()

    @classmethod
    def from_values(cls, values: Mapping[str, str | None]) -> WebhookKeys:
        secret = values.get("REPLICATE_WEBHOOK_SECRET") or None
        return cls(secret, tuple(parse_fal_keys(values.get("FAL_WEBHOOK_PUBLIC_KEY"))))


# --- signatures ------------------------------------------------------------------------------------------


def _fresh(timestamp: str, now: float) -> None:
    try:
        ts = int(timestamp)
    except ValueError:
        raise Refused(400, "timestamp is not a number") from None
    if abs(now - ts) > TOLERANCE_S:
        raise Refused(401, "timestamp too far from our clock (a replay?)")


def verify_replicate(secret: str, headers: Mapping[str, str], body: bytes, now: float | None = None) -> None:
    """Raise :class:`Refused` unless one ``v1`` signature matches (constant-time) and the timestamp is fresh."""
    wid, ts, sigs = (headers.get(h) for h in ("webhook-id", "webhook-timestamp", "webhook-signature"))
    if not (wid and ts and sigs):
        raise Refused(401, "missing webhook-id, webhook-timestamp or webhook-signature")
    _fresh(ts, time.time() if now is None else now)
    try:
        key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except (binascii.Error, ValueError):
        raise Refused(500, "REPLICATE_WEBHOOK_SECRET is not a whsec_ secret") from None
    expected = base64.b64encode(hmac.new(key, f"{wid}.{ts}.".encode() + body, hashlib.sha256).digest())
    for entry in sigs.split():
        version, _, sig = entry.partition(",")
        if version == "v1" and hmac.compare_digest(sig.encode(), expected):
            return
    raise Refused(401, "bad signature")


def fal_message(request_id: str, user_id: str, timestamp: str, body: bytes) -> bytes:
    return "\n".join([request_id, user_id, timestamp, hashlib.sha256(body).hexdigest()]).encode()


def verify_fal(
    keys: tuple[bytes, ...] | list[bytes], headers: Mapping[str, str], body: bytes, now: float | None = None
) -> str:
    """The request id, once the ED25519 signature checks against one of ``keys`` and the timestamp is fresh."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    names = ("x-fal-webhook-request-id", "x-fal-webhook-user-id", "x-fal-webhook-timestamp")
    rid, uid, ts = (headers.get(h) for h in names)
    sig_hex = headers.get("x-fal-webhook-signature")
    if not (rid and uid is not None and ts and sig_hex):
        raise Refused(401, "missing X-Fal-Webhook-* headers")
    _fresh(ts, time.time() if now is None else now)
    try:
        sig = bytes.fromhex(sig_hex)
    except ValueError:
        raise Refused(401, "signature is not hex") from None
    message = fal_message(rid, uid, ts, body)
    for raw in keys:
        with contextlib.suppress(InvalidSignature, ValueError):
            Ed25519PublicKey.from_public_bytes(raw).verify(sig, message)
            return rid
    raise Refused(401, "bad signature")


# --- routes ----------------------------------------------------------------------------------------------


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > MAX_BODY:
                raise Refused(413, "body too large")
        except ValueError:
            raise Refused(400, "bad Content-Length") from None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise Refused(413, "body too large")
        chunks.append(chunk)
    return b"".join(chunks)


def _json(body: bytes) -> dict[str, Any]:
    try:
        obj = json.loads(body)
    except ValueError:
        raise Refused(400, "body is not JSON") from None
    if not isinstance(obj, dict):
        raise Refused(400, "body is not a JSON object")
    return obj


def _wake(hub: HintSink, provider: str, task_id: Any) -> Response:
    if not isinstance(task_id, str | int) or isinstance(task_id, bool) or str(task_id) == "":
        raise Refused(400, "no task id")
    if not hub.hint(provider, str(task_id)):
        raise Refused(404, "unknown task")
    return JSONResponse({"ok": True, "hint": True})


def webhook_routes(hub: HintSink, keys: WebhookKeys | None = None) -> list[Route]:
    """The three routes, waking ``hub``. ``keys`` default to the process environment's
    ``REPLICATE_WEBHOOK_SECRET`` and ``FAL_WEBHOOK_PUBLIC_KEY``; without one, that provider's callbacks are
    refused (503), never taken unchecked."""
    checks = keys if keys is not None else WebhookKeys.from_values(os.environ)

    def guarded(
        provider: str, fn: Callable[[Request, bytes], Response]
    ) -> Callable[..., Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            try:
                return fn(request, await _body(request))
            except Refused as e:
                log.info("webhook %s refused: %s", provider, e.reason)
                return JSONResponse({"ok": False, "error": e.reason}, status_code=e.status)

        return endpoint

    def kling(request: Request, body: bytes) -> Response:
        obj = _json(body)
        data = obj.get("data")
        task: dict[str, Any] = data if isinstance(data, dict) else obj  # bare task, or the envelope
        if task.get("task_status") not in KLING_DONE:
            # a status change short of the end: nothing to poll for yet (the id must still be ours)
            tid = task.get("task_id")
            if not isinstance(tid, str | int) or not hub.knows("kling", str(tid)):
                raise Refused(404, "unknown task")
            return JSONResponse({"ok": True, "hint": False})
        return _wake(hub, "kling", task.get("task_id"))

    def fal(request: Request, body: bytes) -> Response:
        if not checks.fal_public_keys:
            raise Refused(503, "no fal public key configured (FAL_WEBHOOK_PUBLIC_KEY)")
        rid = verify_fal(checks.fal_public_keys, request.headers, body)
        obj = _json(body)
        if obj.get("request_id") not in (None, rid):
            raise Refused(400, "request_id differs from the signed one")
        return _wake(hub, "fal", rid)

    def replicate(request: Request, body: bytes) -> Response:
        if not checks.replicate_secret:
            raise Refused(503, "no Replicate webhook secret configured (REPLICATE_WEBHOOK_SECRET)")
        verify_replicate(checks.replicate_secret, request.headers, body)
        obj = _json(body)
        if obj.get("status") not in ("succeeded", "failed", "canceled"):
            if not isinstance(obj.get("id"), str):
                raise Refused(400, "no prediction id")
            return JSONResponse({"ok": True, "hint": False})
        return _wake(hub, "replicate", obj.get("id"))

    return [
        Route("/hooks/kling", guarded("kling", kling), methods=["POST"]),
        Route("/hooks/fal", guarded("fal", fal), methods=["POST"]),
        Route("/hooks/replicate", guarded("replicate", replicate), methods=["POST"]),
    ]


# --- the run's own receiver ------------------------------------------------------------------------------


class WebhookReceiver:
    """The routes served by uvicorn on a thread of their own (``host:port``; port 0 takes a free one)."""

    def __init__(self, hub: HintSink, keys: WebhookKeys, host: str = "127.0.0.1", port: int = 0) -> None:
        import uvicorn

        self.host = host
        self._sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self.port = int(self._sock.getsockname()[1])
        app = Starlette(routes=webhook_routes(hub, keys))
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self, timeout: float = 10.0) -> WebhookReceiver:
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._sock]},
            name="goldenchain-webhooks",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the webhook receiver did not start on {self.base_url}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        with contextlib.suppress(OSError):
            self._sock.close()

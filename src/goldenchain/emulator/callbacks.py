"""Provider callbacks, as the real services send them: Kling's task body to ``callback_url``, fal's signed
outcome to ``fal_webhook``, Replicate's signed prediction to ``webhook``.

One thread sends them at their due time (a task's status is a function of wall time here, so a callback is
built when it is sent, from the task's state then). An answer other than 2xx, or no answer, is retried a few
times with a growing pause, as the providers do; the receiver must therefore take duplicates. Callbacks go to
loopback addresses only. They are outgoing traffic, so the request log (what the emulator received) does not
list them; :attr:`Callbacks.sent` does."""

from __future__ import annotations

import base64
import hashlib
import heapq
import hmac
import itertools
import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

__all__ = ["FAL_SIGNING_SEED", "REPLICATE_WEBHOOK_SECRET", "Callbacks", "fal_public_key"]

#: the emulator's fixed test keys: fal's ED25519 key pair (from this seed) and Replicate's whsec_ secret
FAL_SIGNING_SEED = hashlib.sha256(b"goldenchain-emulator fal webhook key").digest()
REPLICATE_WEBHOOK_SECRET = (
    "whsec_"
    + base64.b64encode(hashlib.sha256(b"goldenchain-emulator replicate webhook secret").digest()).decode()
)
FAL_USER_ID = "emu-fal-user-0001"
#: pauses before each new try of an unanswered or refused callback (then it is given up)
RETRY_PAUSES = (0.2, 0.5, 1.0, 2.0, 4.0)
LOOPBACK = ("127.0.0.1", "localhost", "::1")
#: straight to the loopback receiver, whatever proxy the environment names
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def fal_public_key(seed: bytes = FAL_SIGNING_SEED) -> str:
    """The base64url public key that verifies the emulator's fal callbacks (``FAL_WEBHOOK_PUBLIC_KEY``)."""
    raw = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@dataclass(order=True)
class _Job:
    at: float
    seq: int
    provider: str = field(compare=False)
    url: str = field(compare=False)
    build: Callable[[], dict[str, Any] | None] = field(compare=False)  # the body, or None: send nothing
    tries: int = field(default=0, compare=False)
    body: bytes | None = field(default=None, compare=False)  # fixed once built: a retry resends it
    headers: dict[str, str] = field(default_factory=dict, compare=False)


class Callbacks:
    def __init__(self, stopping: threading.Event, seed: bytes = FAL_SIGNING_SEED,
                 replicate_secret: str = REPLICATE_WEBHOOK_SECRET) -> None:  # fmt: skip
        self._stopping = stopping
        self._fal_key = Ed25519PrivateKey.from_private_bytes(seed)
        self._replicate_key = base64.b64decode(replicate_secret.removeprefix("whsec_"))
        self._heap: list[_Job] = []
        self._cond = threading.Condition()
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None
        #: one entry per try: {"provider", "url", "task_id", "status" (None: no answer), "ts"}
        self.sent: list[dict[str, Any]] = []
        #: a provider's callbacks for which this says True are lost (never sent): the take must poll
        self.drop: Callable[[str], bool] = lambda provider: False

    @staticmethod
    def allowed(url: Any) -> bool:
        if not isinstance(url, str):
            return False
        parts = urlsplit(url)
        return parts.scheme in ("http", "https") and (parts.hostname or "") in LOOPBACK

    def schedule(
        self, provider: str, url: str, at: float, build: Callable[[], dict[str, Any] | None]
    ) -> None:
        """Send ``build()`` to ``url`` at ``at`` (epoch seconds), signed as ``provider`` signs."""
        if not self.allowed(url):
            return
        with self._cond:
            heapq.heappush(self._heap, _Job(at, next(self._seq), provider, url, build))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="emulator-callbacks", daemon=True)
                self._thread.start()
            self._cond.notify()

    def _run(self) -> None:
        while not self._stopping.is_set():
            with self._cond:
                while not self._heap or self._heap[0].at > time.time():
                    if self._stopping.is_set():
                        return
                    wait = self._heap[0].at - time.time() if self._heap else 0.5
                    self._cond.wait(min(0.5, max(0.0, wait)))
                job = heapq.heappop(self._heap)
            try:
                self._send(job)
            except Exception:  # a bug here must not end the thread: the take still polls
                continue

    def _send(self, job: _Job) -> None:
        if job.body is None:
            obj = job.build()
            if obj is None or self.drop(job.provider):
                return
            job.body = json.dumps(obj, separators=(",", ":")).encode()
            task_id = str(obj.get("task_id") or obj.get("request_id") or obj.get("id") or "")
            job.headers = {"Content-Type": "application/json", "X-Emulator-Task": task_id}
            job.headers.update(self._sign(job.provider, job.body, task_id))
        status: int | None
        try:
            req = urllib.request.Request(job.url, data=job.body, headers=job.headers, method="POST")
            with _OPENER.open(req, timeout=5) as resp:
                status = resp.status
        except urllib.error.HTTPError as e:
            status = e.code
        except (OSError, ValueError):
            status = None
        self.sent.append({"provider": job.provider, "url": job.url, "task_id": job.headers["X-Emulator-Task"],
                          "status": status, "ts": round(time.time(), 3)})  # fmt: skip
        if status is not None and 200 <= status < 300:
            return
        if job.tries < len(RETRY_PAUSES):
            job.at = time.time() + RETRY_PAUSES[job.tries]
            job.tries += 1
            with self._cond:
                heapq.heappush(self._heap, job)
                self._cond.notify()

    def _sign(self, provider: str, body: bytes, task_id: str) -> dict[str, str]:
        ts = str(int(time.time()))
        if provider == "fal":
            msg = "\n".join([task_id, FAL_USER_ID, ts, hashlib.sha256(body).hexdigest()]).encode()
            return {
                "X-Fal-Webhook-Request-Id": task_id,
                "X-Fal-Webhook-User-Id": FAL_USER_ID,
                "X-Fal-Webhook-Timestamp": ts,
                "X-Fal-Webhook-Signature": self._fal_key.sign(msg).hex(),
            }
        if provider == "replicate":
            wid = f"msg_{uuid.uuid4().hex}"
            mac = hmac.new(self._replicate_key, f"{wid}.{ts}.".encode() + body, hashlib.sha256).digest()
            return {
                "webhook-id": wid,
                "webhook-timestamp": ts,
                "webhook-signature": "v1," + base64.b64encode(mac).decode(),
            }
        return {}  # Kling documents no signature

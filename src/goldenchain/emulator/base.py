"""Shared types of the emulator: the parsed request, the planned response, the media file store, the context
that provider modules get from the server."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from .rules import RuleBook
from .scenarios import NO_DRIFT, Drift, FaultPlan
from .scene import SceneSpec

if TYPE_CHECKING:
    from .callbacks import Callbacks

__all__ = ["Context", "FileStore", "Request", "Response", "json_response", "new_id"]


def new_id() -> str:
    return uuid.uuid4().hex


@dataclass
class Request:
    method: str
    raw_path: str  # path + query, as received
    path: str  # path without the query
    subpath: str  # path after the provider's mount prefix ("/v1/videos/image2video")
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def json(self) -> Any:
        """The JSON body; raises ValueError when it is not JSON."""
        return json.loads(self.body.decode("utf-8") or "null")


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    #: None: answer; "drop": close without answering; "stall": hold, then close; "slow": answer late
    action: str | None = None
    log: dict[str, Any] = field(
        default_factory=dict
    )  # extra request-log fields (task_id, accepted, fault, ...)


def json_response(status: int, obj: Any, headers: dict[str, str] | None = None, **log: Any) -> Response:
    body = json.dumps(obj, separators=(",", ":")).encode()
    return Response(status=status, body=body, headers=dict(headers or {}), log=log)


@dataclass
class _File:
    ext: str
    content_type: str
    render: Callable[[], bytes]
    data: bytes | None = None
    missing: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


class FileStore:
    """Media served at ``/files/{id}.{ext}``; rendered lazily on first download, then cached."""

    TYPES: ClassVar[dict[str, str]] = {
        "png": "image/png",
        "jpg": "image/jpeg",
        "jpeg": "image/jpeg",
        "webp": "image/webp",
        "mp4": "video/mp4",
    }

    def __init__(self, base_url: Callable[[], str]) -> None:
        self._base_url = base_url
        self._files: dict[str, _File] = {}
        self._lock = threading.Lock()

    def put(self, ext: str, render: Callable[[], bytes], missing: bool = False) -> str:
        """Register a file; returns its absolute URL."""
        file_id = new_id()
        with self._lock:
            self._files[file_id] = _File(ext, self.TYPES[ext], render, missing=missing)
        return f"{self._base_url()}/files/{file_id}.{ext}"

    def id_of(self, url: str) -> str | None:
        """The file id when ``url`` is one of ours, else None."""
        prefix = f"{self._base_url()}/files/"
        if not url.startswith(prefix):
            return None
        return url[len(prefix) :].split("?", 1)[0].rsplit(".", 1)[0]

    def get(self, file_id: str) -> tuple[bytes, str] | None:
        with self._lock:
            entry = self._files.get(file_id)
        if entry is None or entry.missing:
            return None
        with entry.lock:
            if entry.data is None:
                entry.data = entry.render()
            return entry.data, entry.content_type

    def fetch_url(self, url: str) -> bytes | None:
        """Bytes behind one of our own /files URLs (the only URLs the emulator may fetch)."""
        file_id = self.id_of(url)
        got = self.get(file_id) if file_id else None
        return got[0] if got else None


@dataclass
class Context:
    """What provider modules share with the server."""

    base_url: Callable[[], str]
    latency: float
    plan: FaultPlan
    files: FileStore
    keys: dict[str, str]
    stopping: threading.Event
    lock: threading.RLock = field(default_factory=threading.RLock)
    #: sends the providers' callbacks (webhooks) when a task that asked for one ends
    callbacks: Callbacks | None = None
    #: the failure rules in force (the scenario's, or a test's own)
    rules: RuleBook = field(default_factory=RuleBook)
    #: sha256 of each still the emulator rendered -> its scene (what a video model "sees" in a submitted image)
    scenes: dict[str, SceneSpec] = field(default_factory=dict)
    #: the scenario's change in the models' behaviour (``drift``)
    drift: Drift = NO_DRIFT

    def callback(self, provider: str, url: Any, at: float, build: Callable[[], Any]) -> None:
        """Send ``build()`` to a task's callback URL at ``at`` (nothing without a URL or a sender)."""
        if self.callbacks is not None and isinstance(url, str) and url:
            self.callbacks.schedule(provider, url, at, build)

    @staticmethod
    def now() -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        """Sleep, but wake up when the emulator stops."""
        self.stopping.wait(max(0.0, seconds))

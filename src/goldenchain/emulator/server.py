"""The emulator's HTTP server: stdlib ThreadingHTTPServer on loopback, routing by path prefix, a request log,
and raw-socket faults (dropped connections, stalls)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import select
import shlex
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .base import Context, FileStore, Request, Response, json_response
from .callbacks import REPLICATE_WEBHOOK_SECRET, Callbacks, fal_public_key
from .fal import Fal
from .kling import Kling
from .replicate import Replicate
from .rules import FailureRule, RuleBook, rules_for
from .scenarios import Fault, FaultPlan, scenario_drift, scenario_faults
from .together import Together

__all__ = ["DEFAULT_KEYS", "Emulator", "serve"]

DEFAULT_KEYS = {
    "KLING_ACCESS_KEY": "emu-kling-ak-0001",
    "KLING_SECRET_KEY": "emu-kling-sk-5f2b9c1e8d7a40369e1f2a7b6c3d9e0f",
    "FAL_KEY": "emu-fal-0001:5e0c7f3a9b2d4e61",
    "REPLICATE_API_TOKEN": "r8_emulator0000000000000000000000000000",
    "TOGETHER_API_KEY": "emu-together-0001",
    "REPLICATE_WEBHOOK_SECRET": REPLICATE_WEBHOOK_SECRET,
}
MOUNTS = ("/kling", "/fal-queue", "/fal-run", "/files", "/replicate", "/together")


def _external_id(body: bytes) -> str | None:
    """Our own id in a create body (Kling's ``external_task_id``), read even when the answer was a fault."""
    try:
        data = json.loads(body or b"null")
    except ValueError:
        return None
    ext = data.get("external_task_id") if isinstance(data, dict) else None
    return ext if isinstance(ext, str) else None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    emulator: Emulator

    def handle_error(self, request: Any, client_address: Any) -> None:
        # a client that hangs up (timeouts, fault scenarios) is normal traffic here, not an error to print
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet; we keep our own log
        pass

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        emu = self.server.emulator
        response = emu._dispatch(
            self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body
        )
        if response.action in ("drop", "stall"):
            if response.action == "stall":
                self._stall(emu)
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if response.action == "slow":  # made, then answered late (a client cancelled meanwhile hangs up)
            emu._stopping.wait(emu.slow_seconds)
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def _stall(self, emu: Emulator) -> None:
        """Hold the connection without answering until the client hangs up (or stall_seconds pass)."""
        deadline = time.monotonic() + emu.stall_seconds
        while not emu._stopping.is_set() and time.monotonic() < deadline:
            readable, _, _ = select.select([self.connection], [], [], 0.1)
            if readable:
                try:
                    if not self.connection.recv(1, socket.MSG_PEEK):
                        return  # client closed its side
                except OSError:
                    return
                time.sleep(0.1)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _serve


class Emulator:
    """Loopback provider emulator (Kling, fal queue/run, Replicate, Together, media files) with scripted
    faults."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        scenario: str = "demo",
        latency: float = 0.3,
        log_path: str | Path | None = None,
        faults: list[Fault] | None = None,
        stall_seconds: float = 120.0,
        slow_seconds: float = 3.0,
        keys: dict[str, str] | None = None,
        rules: tuple[FailureRule, ...] | None = None,
    ) -> None:
        """``rules``: the failure rules in force instead of the scenario's (``()``: none)."""
        self.host, self.port, self.scenario = host, port, scenario
        self.latency = float(latency)
        self.log_path = Path(log_path) if log_path else None
        self.stall_seconds = stall_seconds
        self.slow_seconds = slow_seconds
        plan_faults = scenario_faults(scenario) + list(faults or [])
        self.plan = FaultPlan(plan_faults)
        self.rules = RuleBook(rules_for(scenario) if rules is None else tuple(rules))
        self.keys = {**DEFAULT_KEYS, **(keys or {})}
        self.requests: list[dict[str, Any]] = []
        self._log_lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.files = FileStore(lambda: self.base_url)
        self.callbacks = Callbacks(self._stopping, replicate_secret=self.keys["REPLICATE_WEBHOOK_SECRET"])
        self._ctx = Context(
            lambda: self.base_url, self.latency, self.plan, self.files, self.keys, self._stopping,
            callbacks=self.callbacks, rules=self.rules,
            drift=scenario_drift(scenario),
        )  # fmt: skip
        self.kling = Kling(self._ctx)
        self.fal = Fal(self._ctx)
        self.replicate = Replicate(self._ctx)
        self.together = Together(self._ctx)

    # lifecycle -----------------------------------------------------------------------------------------
    def start(self) -> Emulator:
        if self._server is not None:
            return self
        server = _Server((self.host, self.port), _Handler)
        server.emulator = self
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.name = f"goldenchain-emulator:{self.port}"
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def env(self) -> dict[str, str]:
        base = self.base_url
        return {
            "KLING_BASE_URL": f"{base}/kling",
            "KLING_ACCESS_KEY": self.keys["KLING_ACCESS_KEY"],
            "KLING_SECRET_KEY": self.keys["KLING_SECRET_KEY"],
            "FAL_KEY": self.keys["FAL_KEY"],
            "FAL_QUEUE_URL": f"{base}/fal-queue",
            "FAL_RUN_URL": f"{base}/fal-run",
            "REPLICATE_BASE_URL": f"{base}/replicate",
            "REPLICATE_API_TOKEN": self.keys["REPLICATE_API_TOKEN"],
            "TOGETHER_BASE_URL": f"{base}/together",
            "TOGETHER_API_KEY": self.keys["TOGETHER_API_KEY"],
            # what checks its callbacks (webhooks): Replicate's whsec_ secret, fal's public key
            "REPLICATE_WEBHOOK_SECRET": self.keys["REPLICATE_WEBHOOK_SECRET"],
            "FAL_WEBHOOK_PUBLIC_KEY": fal_public_key(),
        }

    # request log ---------------------------------------------------------------------------------------
    def count(
        self,
        provider: str | None = None,
        method: str | None = None,
        path_prefix: str | None = None,
        accepted_creates: bool = False,
        creates: bool = False,
    ) -> int:
        """Requests in the log; ``creates``: create requests only, whatever the answer (a paid call sent,
        accepted or not); ``accepted_creates``: creates that made a task."""
        with self._log_lock:
            entries = list(self.requests)
        return sum(
            1
            for e in entries
            if (provider is None or e["provider"] == provider)
            and (method is None or e["method"] == method.upper())
            and (path_prefix is None or e["path"].startswith(path_prefix))
            and (not accepted_creates or e.get("accepted") is True)
            and (not creates or e.get("op") == "create")
        )

    def create_requests(self, provider: str | None = None) -> list[dict[str, Any]]:
        """Every create request received (``op == "create"``), accepted or not, in order."""
        with self._log_lock:
            return [
                dict(e)
                for e in self.requests
                if e.get("op") == "create" and (provider is None or e["provider"] == provider)
            ]

    def _record(self, entry: dict[str, Any]) -> None:
        line = json.dumps(entry, separators=(",", ":"))
        with self._log_lock:
            self.requests.append(entry)
            if self.log_path is not None:
                with self.log_path.open("a", encoding="utf-8") as fh:
                    fh.write(line + "\n")

    # routing -------------------------------------------------------------------------------------------
    def _dispatch(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> Response:
        split = urlsplit(raw_path)
        path = split.path
        mount = next((m for m in MOUNTS if path == m or path.startswith(m + "/")), None)
        provider = {"/fal-queue": "fal", "/fal-run": "fal", None: "unknown"}.get(mount, (mount or "")[1:])
        req = Request(
            method=method,
            raw_path=raw_path,
            path=path,
            subpath=path[len(mount) :] if mount else path,
            query=dict(parse_qsl(split.query, keep_blank_values=True)),
            headers=headers,
            body=body,
        )
        handlers: dict[str, Kling | Fal | Replicate | Together] = {
            "/kling": self.kling, "/fal-queue": self.fal, "/fal-run": self.fal, "/replicate": self.replicate,
            "/together": self.together,
        }  # fmt: skip
        handler = handlers.get(mount or "")
        create = handler is not None and handler.is_create(req)
        try:
            if mount == "/kling":
                response = self.kling.handle(req)
            elif mount == "/fal-queue":
                response = self.fal.handle_queue(req)
            elif mount == "/fal-run":
                response = self.fal.handle_run(req)
            elif mount == "/replicate":
                response = self.replicate.handle(req)
            elif mount == "/together":
                response = self.together.handle(req)
            elif mount == "/files":
                response = self._file(req)
            else:
                response = json_response(404, {"detail": f"not emulated: {path}"})
        except Exception as exc:  # a bug in the emulator must not look like a dropped connection
            response = json_response(500, {"detail": f"emulator error: {type(exc).__name__}: {exc}"})
        entry: dict[str, Any] = {
            "ts": round(time.time(), 3),
            "provider": provider,
            "method": method,
            "path": raw_path,
            "status": None if response.action else response.status,
            "body_sha256": hashlib.sha256(body).hexdigest(),
        }
        entry.update({k: v for k, v in response.log.items() if v is not None})
        if create:
            entry["op"] = "create"
            entry.setdefault("external_task_id", _external_id(body))
            if entry["external_task_id"] is None:
                del entry["external_task_id"]
        self._record(entry)
        return response

    def _file(self, req: Request) -> Response:
        if req.method not in ("GET", "HEAD"):
            return json_response(405, {"detail": "method not allowed"})
        name = req.subpath.lstrip("/")
        file_id, _, ext = name.rpartition(".")
        kind = self.plan.next("files", "file", name)
        if kind in ("drop", "stall"):
            return Response(action=kind, log={"fault": kind})
        if kind is not None:
            return json_response(503, {"detail": "Service Unavailable"}, fault=kind)
        got = self.files.get(file_id) if ext in FileStore.TYPES else None
        if got is None:
            return Response(404, b"<Error><Code>NoSuchKey</Code></Error>", "application/xml")
        data, content_type = got
        return Response(200, data, content_type, {"Cache-Control": "public, max-age=2592000"})


def serve(
    host: str = "127.0.0.1",
    port: int = 0,
    scenario: str = "demo",
    latency: float = 0.3,
    log_path: str | Path | None = None,
) -> None:
    """Run the emulator in the foreground: print ``export NAME=value`` lines, serve until SIGINT/SIGTERM."""
    emu = Emulator(host=host, port=port, scenario=scenario, latency=latency, log_path=log_path).start()
    done = threading.Event()

    def _stop(signum: int, frame: object) -> None:
        done.set()

    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, _stop)
    try:
        for name, value in emu.env().items():
            print(f"export {name}={shlex.quote(value)}", flush=True)
        print(
            f"# goldenchain emulator on {emu.base_url} (scenario {scenario}); Ctrl-C stops it",
            file=sys.stderr,
        )
        while not done.wait(0.5):
            pass
    finally:
        emu.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)

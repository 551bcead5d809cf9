"""One run per project at a time on one machine: an exclusive ``flock`` on ``.goldenchain/run.lock``.

The kernel drops the lock when its process ends, however it ends, so a lock left by a killed run is taken
over by the next one without a stale-lock guess; the file names the holder for the message the second run
prints."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

from goldenchain.errors import ProjectLocked

__all__ = ["ProjectLocked", "run_lock"]


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return "another process"
    since = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(info.get("since", 0)))
    return f"pid {info.get('pid', '?')} on {info.get('host', '?')} ({info.get('command', 'goldenchain run')}, since {since})"


@contextlib.contextmanager
def run_lock(state_dir: Path, command: str = "goldenchain run") -> Iterator[None]:
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / "run.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ProjectLocked(
                f"another run holds this project: {_holder(path)}; wait for it, or stop it (Ctrl-C)"
            ) from None
        os.ftruncate(fd, 0)
        info = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time(), "command": command}
        os.pwrite(fd, json.dumps(info).encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)

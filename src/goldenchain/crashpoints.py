"""Named crash points for the crash matrix: with ``GOLDENCHAIN_CRASHPOINT=name`` (and
``GOLDENCHAIN_CRASHPOINT_MARK=file``), the process kills itself once, hard, at that boundary -- the same
as a power cut or SIGKILL there. With ``GOLDENCHAIN_CRASHPOINT_ACTION=hold`` the process waits there instead,
once, until a file named like the mark plus ``.go`` appears (meanwhile a test stops the database, say).
Unset, each point is a dictionary lookup."""

from __future__ import annotations

import os
import signal
import time

POINTS = ("before_create", "after_create", "polling", "downloading", "assembling", "takeover")


def crashpoint(name: str, tag: str = "") -> None:
    """``GOLDENCHAIN_CRASHPOINT`` is ``name`` (first time any code passes it) or ``name@tag`` (e.g.
    ``after_create@kling``: only where that provider is involved)."""
    want = os.environ.get("GOLDENCHAIN_CRASHPOINT")
    if want is None or (want != name and want != f"{name}@{tag}"):
        return
    mark = os.environ.get("GOLDENCHAIN_CRASHPOINT_MARK")
    if mark:
        try:
            fd = os.open(mark, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return  # crashed here once already
        os.close(fd)
        if os.environ.get("GOLDENCHAIN_CRASHPOINT_ACTION") == "hold":
            while not os.path.exists(mark + ".go"):
                time.sleep(0.05)
            return
    os.kill(os.getpid(), signal.SIGKILL)

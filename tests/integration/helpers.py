"""Shared helpers: run the real CLI in a subprocess against the emulator, and read what it wrote."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import av

from goldenchain.templates import write_example


def make_project(root: Path, shots: int = 3, **engine: Any) -> Path:
    write_example(root, shots=shots)
    cfg = root / "goldenchain.toml"
    text = cfg.read_text()
    text = re.sub(r"poll_interval = [0-9.]+", f"poll_interval = {engine.get('poll_interval', 0.3)}", text)
    cfg.write_text(text)
    return root


def run_cli(args: list[str], env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "COLUMNS": "200", **env}
    return subprocess.run(
        [sys.executable, "-m", "goldenchain", *args],
        env=full,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def probe(path: Path) -> dict[str, Any]:
    with av.open(str(path)) as c:
        vs = c.streams.video[0]
        n = sum(1 for _ in c.decode(vs))
        return {
            "codec": vs.codec_context.name,
            "width": vs.width,
            "height": vs.height,
            "fps": float(vs.average_rate or 0),
            "duration": float(c.duration or 0) / 1e6,
            "frames": n,
        }


def report(project: Path) -> dict[str, Any]:
    return json.loads((project / "out" / "report.json").read_text())


def accepted_creates(requests: list[dict[str, Any]]) -> Counter[str]:
    """Accepted paid creates per take (our external id for Kling, the request body hash otherwise)."""
    c: Counter[str] = Counter()
    for r in requests:
        if r.get("accepted"):
            c[r.get("external_task_id") or r.get("body_sha256") or "?"] += 1
    return c

"""orchestration-bench: constants and process-accounting helpers shared by the parent and its children."""

from __future__ import annotations

import json
import math
import os
import resource
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MARK = "@@BENCH "
TARGET_N, TARGET_L, TARGET_K = 1000, 5.0, 50
WALL_TARGET, CPU_TARGET = 1.10, 1.5


# --- helpers shared by the parent and the children -------------------------------------------------------
def _emit(**obj: Any) -> None:
    print(MARK + json.dumps(obj), flush=True)


def _self_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _proc_cpu(pid: int) -> float:
    """utime + stime of a live process from /proc, in seconds."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    fields = raw[raw.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ideal_seconds(n: int, k: int, latency: float) -> float:
    return (math.ceil(n / k) + 1) * latency

"""webhooks-bench: status polls per take with provider webhooks off and on, side by side in one run.

The same small project (the example project, N shots) runs twice through the real CLI against the emulator
(scenario ``clean``, task latency L), once with ``[engine] webhooks = false`` and once with ``true``; each run
gets a fresh emulator and request log. From the log: accepted creates (takes), status queries (Kling task
GETs, fal ``/status`` GETs), their ratio, and how long after a task's end (acceptance + L) the status query
that saw it came. The callbacks the emulator sent are counted too.

    .venv/bin/python benchmarks/webhooks.py [--shots 4] [--latency 5] [--poll 0.5]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from goldenchain.emulator import Emulator  # noqa: E402
from goldenchain.templates import write_example  # noqa: E402

STATUS = re.compile(r"^/(kling/v1/videos/image2video/[^/?]+|fal-queue/.+/requests/[^/]+/status)(\?|$)")


def project(root: Path, shots: int, poll: float, webhooks: bool) -> Path:
    write_example(root, shots=shots)
    cfg = root / "goldenchain.toml"
    text = re.sub(r"poll_interval = [0-9.]+", f"poll_interval = {poll}", cfg.read_text())
    if webhooks:
        text = text.replace("poll_timeout = 1800.0", "poll_timeout = 1800.0\nwebhooks = true")
    cfg.write_text(text)
    return root


def measure(workdir: Path, shots: int, latency: float, poll: float, webhooks: bool) -> dict[str, Any]:
    root = project(workdir / ("on" if webhooks else "off"), shots, poll, webhooks)
    log = workdir / f"emulator-{'on' if webhooks else 'off'}.jsonl"
    with Emulator(scenario="clean", latency=latency, log_path=log) as emu:
        t0 = time.monotonic()
        r = subprocess.run(
            [sys.executable, "-m", "goldenchain", "run", str(root), "--quiet"],
            env={**os.environ, **emu.env()}, capture_output=True, text=True, check=False,
        )  # fmt: skip
        wall = time.monotonic() - t0
        callbacks = len(emu.callbacks.sent)
    if r.returncode != 0:
        raise SystemExit(f"run with webhooks {'on' if webhooks else 'off'} failed:\n{r.stdout}{r.stderr}")
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    takes = sum(1 for e in entries if e.get("accepted"))
    polls = {"kling": 0, "fal": 0}
    ends = {e["task_id"]: e["ts"] + latency for e in entries if e.get("accepted")}
    learned: dict[str, float] = {}  # task -> seconds from its end to the status query that saw it
    for e in entries:
        if e["method"] == "GET" and STATUS.match(e["path"]):
            polls[e["provider"]] += 1
            end = ends.get(e.get("task_id", ""))
            if end is not None and e["ts"] >= end and e["task_id"] not in learned:
                learned[e["task_id"]] = e["ts"] - end
    lags = sorted(learned.values())
    return {"takes": takes, "polls": sum(polls.values()), **{f"polls_{k}": v for k, v in polls.items()},
            "per_take": sum(polls.values()) / takes, "callbacks": callbacks, "wall": wall,
            "lag_mean": sum(lags) / len(lags), "lag_max": lags[-1]}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shots", type=int, default=4)
    ap.add_argument("--latency", type=float, default=5.0, help="emulated task time, seconds")
    ap.add_argument("--poll", type=float, default=0.5, help="the project's [engine] poll_interval")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="gc-webhooks-bench-") as tmp:
        off = measure(Path(tmp), a.shots, a.latency, a.poll, webhooks=False)
        on = measure(Path(tmp), a.shots, a.latency, a.poll, webhooks=True)
    print(f"{a.shots} shots, task latency {a.latency:g} s, poll_interval {a.poll:g} s (scenario clean)")
    print(
        "| webhooks | takes | status polls (fal + kling) | polls/take | callbacks | end seen after, s (mean / max) | wall s |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, m in (("off", off), ("on", on)):
        print(f"| {name} | {m['takes']} | {m['polls']} ({m['polls_fal']} + {m['polls_kling']}) | "
              f"{m['per_take']:.2f} | {m['callbacks']} | {m['lag_mean']:.2f} / {m['lag_max']:.2f} | "
              f"{m['wall']:.1f} |")  # fmt: skip
    print(f"polls per take, off / on: {off['per_take'] / on['per_take']:.1f}x")


if __name__ == "__main__":
    main()

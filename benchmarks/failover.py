"""failover-bench: from a worker's death to its shots moving again, in team mode (PostgreSQL).

    .venv/bin/python benchmarks/failover.py [--kills 10] [--workers 3] [--lease 10] [--shots 150]
        [--latency 4] [--json OUT]

One project of ``--shots`` shots against the emulator (scenario ``clean``, task latency ``--latency``; the
image gate and the clip check off: media work is not what is measured),
``[engine] lease_seconds = --lease``, ``--workers`` ``goldenchain worker`` processes and one ``goldenchain
run``. Then, ``--kills`` times: pick the worker that holds the most unfinished workflows, note them, SIGKILL
it (never restarted) and start a fresh worker under a new id, so that the run keeps its capacity. Measured
per kill, on this machine's clock, from the SIGKILL:

* **takeover**: until a live worker has taken over the dead one's lease (``gc_workers.state``);
* **moving**: until the first of the dead worker's workflows has been dequeued by a live worker (its status
  row carries another executor id), i.e. until its shots move again.

The lower bound is the lease itself: a worker is declared dead only when its lease lapses, up to one
heartbeat (a third of the lease) after its last renewal, and the takeover pass runs every third of the
lease, so moving ~= lease - (time since the last heartbeat) + (up to a third of the lease) + a queue poll.
PostgreSQL: ``GOLDENCHAIN_TEST_PG_URL`` (a fresh database), else this script re-runs itself under
``scripts/with-postgres.sh``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.integration.helpers import make_project  # noqa: E402

from goldenchain.emulator import Emulator  # noqa: E402


def start_worker(project: Path, env: dict[str, str], wid: str, logs: Path) -> subprocess.Popen[bytes]:
    log = open(logs / f"{wid}.log", "ab")  # noqa: SIM115 - the worker owns it
    return subprocess.Popen(
        [sys.executable, "-m", "goldenchain", "worker", str(project), "--executor-id", wid],
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def listening(logs: Path, wid: str) -> bool:
    p = logs / f"{wid}.log"
    return p.exists() and b"listening" in p.read_bytes()


def open_workflows(conn: Any) -> dict[str, list[str]]:
    rows = conn.execute(
        "SELECT executor_id, workflow_uuid FROM dbos.workflow_status WHERE status = 'PENDING'"
    ).fetchall()
    out: dict[str, list[str]] = {}
    for eid, wid in rows:
        out.setdefault(eid, []).append(wid)
    return out


def measure_kill(conn: Any, victim: str, proc: subprocess.Popen[bytes], timeout: float) -> dict[str, float]:
    held = open_workflows(conn).get(victim, [])
    t0 = time.monotonic()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    takeover = moving = None
    while time.monotonic() - t0 < timeout and (takeover is None or moving is None):
        if takeover is None:
            st = conn.execute("SELECT state FROM gc_workers WHERE executor_id = %s", (victim,)).fetchone()
            if st and st[0] == "taken_over":
                takeover = time.monotonic() - t0
        if moving is None and held:
            rows = conn.execute(
                "SELECT executor_id, status FROM dbos.workflow_status WHERE workflow_uuid = ANY(%s)", (held,)
            ).fetchall()
            if any(e != victim and s != "ENQUEUED" for e, s in rows):
                moving = time.monotonic() - t0
        time.sleep(0.05)
    if takeover is None or (held and moving is None):
        raise RuntimeError(f"{victim}: no takeover within {timeout} s")
    return {
        "held": float(len(held)),
        "takeover_s": takeover,
        "moving_s": moving if moving is not None else -1,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kills", type=int, default=10)
    ap.add_argument("--workers", type=int, default=3)
    ap.add_argument("--lease", type=float, default=10.0)
    ap.add_argument("--shots", type=int, default=150)
    ap.add_argument("--latency", type=float, default=4.0)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    base = os.environ.get("GOLDENCHAIN_TEST_PG_URL")
    if not base:
        wrapper = ROOT / "scripts" / "with-postgres.sh"
        os.execv("/bin/bash", ["bash", str(wrapper), sys.executable, __file__, *(argv or sys.argv[1:])])
    import psycopg

    name = "gc_failover_" + uuid.uuid4().hex[:8]
    with psycopg.connect(base, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    url = f"{base.rsplit('/', 1)[0]}/{name}"
    tmp = Path(tempfile.mkdtemp(prefix="gc-failover-"))
    logs = tmp / "logs"
    logs.mkdir()
    project = make_project(tmp / "shoot", shots=args.shots)
    cfg = project / "goldenchain.toml"
    text = cfg.read_text().replace("[engine]\n", f"[engine]\nlease_seconds = {args.lease}\n", 1)
    text = text.replace("[gate]\n", "[gate]\nenabled = false\n", 1)  # media checks are not measured here
    text = re.sub(r"project_usd = [0-9.]+", "project_usd = 100000.0", text)  # the example's $25 stops early
    cfg.write_text(text + "\n[qc]\nenabled = false\n")
    results: list[dict[str, float]] = []
    procs: dict[str, subprocess.Popen[bytes]] = {}
    with Emulator(host="127.0.0.1", port=0, scenario="clean", latency=args.latency) as emu:
        env = {**emu.env(), "GOLDENCHAIN_DATABASE_URL": url, "GOLDENCHAIN_HOME": str(tmp / "home")}
        for i in range(args.workers):
            procs[f"w{i}"] = start_worker(project, env, f"w{i}", logs)
        while not all(listening(logs, w) for w in procs):
            time.sleep(0.2)
        runner = subprocess.Popen(
            [sys.executable, "-m", "goldenchain", "run", str(project), "--quiet"],
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        nxt = args.workers
        lost: list[str] = []  # workers that stopped on their own (a heartbeat late past the lease)
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                while len(results) < args.kills:
                    assert runner.poll() is None, "the run ended before every kill: use more --shots"
                    for w in [w for w, p in procs.items() if p.poll() is not None]:
                        lost.append(w)
                        del procs[w]
                        procs[f"w{nxt}"] = start_worker(project, env, f"w{nxt}", logs)
                        nxt += 1
                    held = open_workflows(conn)
                    live = [w for w, p in procs.items() if p.poll() is None and listening(logs, w)]
                    victims = sorted((w for w in live if held.get(w)), key=lambda w: -len(held[w]))
                    if len(live) < args.workers or not victims:
                        time.sleep(0.2)
                        continue
                    victim = victims[0]
                    fresh = f"w{nxt}"
                    nxt += 1
                    r = measure_kill(conn, victim, procs.pop(victim), timeout=10 * args.lease + 60)
                    procs[fresh] = start_worker(project, env, fresh, logs)
                    results.append(r)
                    print(
                        f"kill {len(results)}: {victim} held {r['held']:.0f} workflows; taken over after "
                        f"{r['takeover_s']:.2f} s, moving after {r['moving_s']:.2f} s",
                        flush=True,
                    )
            _, err = runner.communicate(timeout=3600)  # then it assembles the final cut
            ok = runner.returncode == 0
            creates = [e for e in emu.create_requests() if e.get("accepted")]
            keys = [e.get("external_task_id") or e.get("body_sha256") for e in creates]
            dup = len(keys) - len(set(keys))
        finally:
            runner.kill()
            for p in procs.values():
                p.send_signal(signal.SIGTERM)
            for p in procs.values():
                try:
                    p.wait(30)
                except subprocess.TimeoutExpired:
                    p.kill()
    moving = [r["moving_s"] for r in results]
    takeover = [r["takeover_s"] for r in results]
    summary = {
        "lease_s": args.lease,
        "kills": len(results),
        "workers": args.workers,
        "moving_median_s": statistics.median(moving),
        "moving_max_s": max(moving),
        "takeover_median_s": statistics.median(takeover),
        "takeover_max_s": max(takeover),
        "run_ok": ok,
        "workers_lost_on_their_own": len(lost),
        "accepted_creates_twice": dup,
    }
    print(json.dumps(summary, indent=2))
    if not ok:
        print(err.decode(errors="replace")[-2000:], file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "kills": results}, indent=2))
    with psycopg.connect(base, autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0 if ok and dup == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())

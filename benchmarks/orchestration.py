"""orchestration-bench: the durable engine's overhead against the emulator, and against bare DBOS.

    .venv/bin/python benchmarks/orchestration.py [--n 100,1000] [--latency 5] [--k 50] [--poll P]
        [--backends sqlite,pg] [--workers 1,2,4] [--quick] [--json OUT]

For every configuration (backend, workers, N) it runs two things, one after the other, each in subprocesses:

* **ours**: N shots through the real chain (``run_project``: one ``shot_workflow`` per shot on ``gc-shots``, a
  ``paid_take`` child workflow per take on ``gc-fal`` / ``gc-kling``: start (find or create, reserve, create
  call), then polls, each waiting inside its step for its due time, the last one downloading) against the
  emulator, scenario ``clean``, task latency L, ``[engine.concurrency] fal = kling = K``. On SQLite the ``run``
  process does everything; on PostgreSQL it only enqueues and follows, and W ``goldenchain worker`` processes
  do the work.
* **bare**: a standalone DBOS app with the same shape and no work: the same queues (``shots`` at the engine's
  default of 1.5x the provider slots, two take queues at K, the engine's queue polling intervals), one shot
  workflow per shot with the same 3 steps (running, gate, clip check), two child workflows per shot enqueued
  and awaited the same way (``awaiting.await_workflow``, the workflows announcing their end), each with a
  start step and the same polls at the same due times (a poll answers "pending" until L seconds have passed
  since the start step, then "downloaded"); the client follows the shots with the engine's ``wait_all``. On
  SQLite its file is in WAL mode, like the ledger's. This is the engine's floor.

What is excluded: media work. The emulator runs in this process (a thread) with its renderers replaced, for
this script only, by tiny generators (a flat 576x320 PNG, a 2-frame 32x32 H.264 MP4, each made unique); the
project has ``[gate] enabled = false``, ``[qc] enabled = false`` and the final assembly is not run
(``run_project`` is called directly; the deliverables step is not part of the engine). What remains of media
work in our processes is hashing and probing those tiny files at download.

Figures printed:

* ideal = (ceil(N/K) + 1) * L: a shot is two paid stages in sequence on two queues of K slots each, so the
  stills take at least ceil(N/K) * L and the last batch of stills still needs its clips, one more L. This is
  the lower bound of a two-stage pipeline; running the stages back to back instead would take 2*ceil(N/K)*L.
* wall: from the moment the run (or bare) client starts the engine to the moment every shot's result is in.
* CPU ms/shot: user + system CPU of every process of the configuration (the run/client process and the
  workers), from ``getrusage(RUSAGE_CHILDREN)`` around them, minus each process's start-up (interpreter and
  imports: its own CPU when it starts the engine, or for ``goldenchain worker`` its /proc CPU when it prints
  that it listens), divided by N. The emulator's CPU (this process) is not counted.

Targets: wall <= 1.10 x ideal at N = 1000, L = 5 s, K = 50; our CPU per shot within 1.5x of bare.
PostgreSQL: ``GOLDENCHAIN_TEST_PG_URL`` (a fresh database is created per run), else this script re-runs itself
under ``scripts/with-postgres.sh``. The machine should be otherwise idle: everything here shares its cores.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from orch_bare import bare_client, bare_worker
from orch_common import (
    CPU_TARGET,
    MARK,
    ROOT,
    TARGET_K,
    TARGET_L,
    TARGET_N,
    WALL_TARGET,
    _children_cpu,
    _proc_cpu,
    ideal_seconds,
)
from orch_ours import ours_client, patch_emulator_media, write_project


# --- the parent: processes, accounting, table ------------------------------------------------------------
class Proc:
    """A child process whose stdout is pumped by a thread: benchmark events and the 'listening' line."""

    def __init__(
        self, args: list[str], env: dict[str, str], log: Path, ready_word: str | None = None
    ) -> None:
        self.log = log.open("w")
        self.p = subprocess.Popen(
            args, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=self.log, text=True, bufsize=1
        )
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self.ready = threading.Event()
        self.ready_cpu: float | None = None
        self.ready_word = ready_word
        self.start_cpu: float | None = None
        self.thread = threading.Thread(target=self._pump, daemon=True)
        self.thread.start()

    def _pump(self) -> None:
        assert self.p.stdout is not None
        for line in self.p.stdout:
            if line.startswith(MARK):
                ev = json.loads(line[len(MARK) :])
                if ev["event"] == "start":
                    self.start_cpu = ev["cpu"]
                self.events.put(ev)
            elif self.ready_word and self.ready_word in line and not self.ready.is_set():
                with contextlib.suppress(OSError):
                    self.ready_cpu = _proc_cpu(self.p.pid)
                self.ready.set()
            else:
                self.log.write(line)

    def wait_event(self, name: str, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            try:
                ev = self.events.get(timeout=1.0)
            except queue.Empty:
                if self.p.poll() is not None and self.events.empty():
                    raise RuntimeError(f"process exited ({self.p.returncode}); see {self.log.name}") from None
                if time.monotonic() > deadline:
                    raise TimeoutError(f"no {name!r} event in {timeout:.0f} s; see {self.log.name}") from None
                continue
            if ev["event"] == name:
                return ev

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not self.ready.wait(0.5):
            if self.p.poll() is not None:
                raise RuntimeError(f"worker exited ({self.p.returncode}); see {self.log.name}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"worker not ready in {timeout:.0f} s; see {self.log.name}")

    def startup_cpu(self) -> float:
        return self.ready_cpu if self.ready_cpu is not None else (self.start_cpu or 0.0)

    def stop(self, timeout: float = 60.0) -> None:
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.thread.join(5)
        self.log.close()


@dataclass
class Side:
    wall: float
    cpu_total: float
    cpu_startup: float
    ok: bool
    failed: list[Any] = field(default_factory=list)


@dataclass
class Row:
    backend: str
    workers: int
    n: int
    k: int
    latency: float
    poll: float
    ideal: float
    ours: Side | None = None
    bare: Side | None = None
    error: str | None = None

    def cpu_ms(self, side: Side | None) -> float | None:
        return None if side is None else 1000 * (side.cpu_total - side.cpu_startup) / self.n


def _fresh_pg(base: str, tag: str) -> str:
    import psycopg

    name = f"gcbench_{tag}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(base, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    return f"{base.rsplit('/', 1)[0]}/{name}"


def _drop_pg(base: str, url: str) -> None:
    import psycopg

    with psycopg.connect(base, autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def _measure(
    client_args: list[str],
    worker_args: list[list[str]],
    env: dict[str, str],
    logdir: Path,
    tag: str,
    timeout: float,
    ready_word: str,
) -> Side:
    before = _children_cpu()
    workers: list[Proc] = []
    client: Proc | None = None
    try:
        # one at a time: workers started together on a fresh PostgreSQL database race on creating the
        # ledger's migration table (UniqueViolation on gc_alembic_version) and one of them exits
        for i, a in enumerate(worker_args):
            workers.append(Proc(a, env, logdir / f"{tag}-worker{i}.log", ready_word=ready_word))
            workers[-1].wait_ready(120)
        client = Proc(client_args, env, logdir / f"{tag}-client.log")
        done = client.wait_event("done", timeout)
        client.p.wait(120)
    finally:
        if client is not None:
            client.stop()
        for w in workers:
            w.stop()
    total = _children_cpu() - before
    startup = sum(p.startup_cpu() for p in [client, *workers] if p is not None)
    return Side(done["wall"], total, startup, bool(done["ok"]), done.get("failed") or [])


def run_config(
    backend: str, workers: int, n: int, k: int, latency: float, poll: float, pg_base: str | None, logdir: Path
) -> Row:
    from goldenchain.emulator import Emulator

    row = Row(backend, workers, n, k, latency, poll, ideal_seconds(n, k, latency))
    timeout = 4 * row.ideal + 60 + n * 0.5
    py = sys.executable
    me = str(Path(__file__).resolve())
    tag = f"{backend}-w{workers}-n{n}"
    work = Path(tempfile.mkdtemp(prefix=f"gc-orch-{tag}-"))
    base_env = {
        **os.environ,
        "GOLDENCHAIN_HOME": str(work / "home"),
        "GOLDENCHAIN_LOAD_PLUGINS": "0",
        "PYTHONUNBUFFERED": "1",
    }
    base_env.pop("GOLDENCHAIN_DATABASE_URL", None)
    urls: list[str] = []
    try:
        # ours
        with Emulator(scenario="clean", latency=latency) as emu:
            proj = write_project(work / "project", n, k, poll)
            env = {**base_env, **emu.env()}
            wargs: list[list[str]] = []
            if backend == "pg":
                assert pg_base is not None
                url = _fresh_pg(pg_base, "ours")
                urls.append(url)
                env["GOLDENCHAIN_DATABASE_URL"] = url
                wargs = [
                    [py, "-m", "goldenchain", "worker", str(proj), "--executor-id", f"bench-w{i}"]
                    for i in range(workers)
                ]
            row.ours = _measure(
                [py, me, "_ours", str(proj)], wargs, env, work, "ours", timeout, ready_word="listening"
            )
        # bare
        if backend == "pg":
            assert pg_base is not None
            url = _fresh_pg(pg_base, "bare")
            urls.append(url)
        else:
            # the same file setup as the ledger's (store/db.py): write-ahead log, so both sides pay alike
            bare_db = work / "bare.sqlite"
            with contextlib.closing(sqlite3.connect(bare_db)) as con:
                con.execute("PRAGMA journal_mode=WAL")
            url = f"sqlite:///{bare_db}"
        team = "1" if backend == "pg" else "0"
        client = [py, me, "_bare-client", url, str(n), str(k), str(latency), str(poll), team]
        bw = (
            [[py, me, "_bare-worker", url, str(k), f"bare-w{i}"] for i in range(workers)]
            if team == "1"
            else []
        )
        row.bare = _measure(client, bw, base_env, work, "bare", timeout, ready_word="listening")
    except Exception as e:  # report the row as failed, keep the rest of the run
        row.error = f"{type(e).__name__}: {e} (logs in {work})"
        return row
    finally:
        for u in urls:
            with contextlib.suppress(Exception):
                _drop_pg(pg_base or "", u)
    if row.error is None and row.ours and row.bare and row.ours.ok and row.bare.ok:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    return row


def _fmt(v: float | None, spec: str = ".2f") -> str:
    return "-" if v is None else format(v, spec)


def render(rows: list[Row], poll_note: str) -> bool:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=max(150, Console().width))
    t = Table(title="goldenchain orchestration vs bare DBOS (emulator, clean scenario, media work excluded)")
    for col in (
        "backend",
        "workers",
        "N",
        "K",
        "L s",
        "ideal s",
        "wall s",
        "wall/ideal",
        "bare wall/ideal",
        "CPU ms/shot ours",
        "CPU ms/shot bare",
        "ratio",
    ):
        t.add_column(col, justify="left" if col == "backend" else "right")
    for r in rows:
        ours_ms, bare_ms = r.cpu_ms(r.ours), r.cpu_ms(r.bare)
        t.add_row(
            r.backend,
            str(r.workers),
            str(r.n),
            str(r.k),
            _fmt(r.latency, "g"),
            _fmt(r.ideal, ".1f"),
            _fmt(r.ours.wall if r.ours else None, ".1f"),
            _fmt(r.ours.wall / r.ideal if r.ours else None),
            _fmt(r.bare.wall / r.ideal if r.bare else None),
            _fmt(ours_ms, ".1f"),
            _fmt(bare_ms, ".1f"),
            _fmt(ours_ms / bare_ms if ours_ms and bare_ms else None),
        )
    console.print(t)
    console.print(
        "ideal = (ceil(N/K) + 1) * L (two paid stages in sequence, each on a queue of K; back to back they "
        f"would take 2 * ceil(N/K) * L). {poll_note}. CPU: run/client + worker processes, start-up excluded; "
        "the emulator's CPU is not counted."
    )
    for r in rows:
        if r.error:
            console.print(f"[red]{r.backend} w{r.workers} N={r.n}: {r.error}[/red]")
        for name, side in (("ours", r.ours), ("bare", r.bare)):
            if side is not None and not side.ok:
                console.print(
                    f"[red]{r.backend} w{r.workers} N={r.n} {name}: not all shots done: {side.failed}"
                )
    all_ok = True
    target = [r for r in rows if (r.n, r.latency, r.k) == (TARGET_N, TARGET_L, TARGET_K) and r.ours]
    if target:
        for r in target:
            assert r.ours is not None
            ratio = r.ours.wall / r.ideal
            good = ratio <= WALL_TARGET and r.ours.ok and r.error is None
            all_ok &= good
            console.print(
                f"target wall <= {WALL_TARGET} x ideal (N={TARGET_N}, L={TARGET_L:g} s, K={TARGET_K}) "
                f"{r.backend} w{r.workers}: {ratio:.2f} -> {'[green]PASS' if good else '[red]FAIL'}"
            )
    else:
        console.print(
            f"target wall <= {WALL_TARGET} x ideal: not measured (needs --n {TARGET_N} "
            f"--latency {TARGET_L:g} --k {TARGET_K})"
        )
    for r in rows:
        o, b = r.cpu_ms(r.ours), r.cpu_ms(r.bare)
        if o is None or b is None:
            all_ok = False
            continue
        good = o <= CPU_TARGET * b and r.ours is not None and r.ours.ok and r.error is None
        all_ok &= good
        console.print(
            f"target CPU/shot <= {CPU_TARGET} x bare, {r.backend} w{r.workers} N={r.n}: {o:.1f} vs "
            f"{b:.1f} ms = {o / b:.2f}x -> {'[green]PASS' if good else '[red]FAIL'}"
        )
    return all_ok


def _ints(s: str) -> list[int]:
    return [int(x) for x in s.split(",") if x.strip()]


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "_ours":
        asyncio.run(ours_client(argv[1]))
        return 0
    if argv and argv[0] == "_bare-client":
        url, n, k, lat, poll, team = argv[1:7]
        asyncio.run(bare_client(url, int(n), int(k), float(lat), float(poll), team == "1"))
        return 0
    if argv and argv[0] == "_bare-worker":
        asyncio.run(bare_worker(argv[1], int(argv[2]), argv[3]))
        return 0

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", default="100,1000", help="shot counts, comma-separated")
    ap.add_argument("--latency", type=float, default=5.0, help="emulator task latency L, seconds")
    ap.add_argument("--k", type=int, default=50, help="provider concurrency K (fal and kling)")
    ap.add_argument("--poll", type=float, default=None, help="[engine] poll_interval (default L)")
    ap.add_argument("--backends", default="sqlite,pg")
    ap.add_argument(
        "--workers", default="1,2,4", help="PostgreSQL worker counts (SQLite runs in one process)"
    )
    ap.add_argument("--quick", action="store_true", help="smoke run: N=100, L=1, K=20")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = ap.parse_args(argv)
    if args.quick:
        args.n, args.latency, args.k = "100", 1.0, 20
    poll = args.poll if args.poll is not None else args.latency
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    pg_base = os.environ.get("GOLDENCHAIN_TEST_PG_URL")
    if "pg" in backends and not pg_base:
        if not os.environ.get("GC_BENCH_WRAPPED"):
            wrapper = ROOT / "scripts" / "with-postgres.sh"
            env = {**os.environ, "GC_BENCH_WRAPPED": "1"}
            os.execve("/bin/bash", ["bash", str(wrapper), sys.executable, __file__, *argv], env)
        print("no PostgreSQL available: skipping the pg backend", file=sys.stderr)
        backends = [b for b in backends if b != "pg"]

    patch_emulator_media()
    logdir = Path(tempfile.gettempdir())
    rows: list[Row] = []
    for backend in backends:
        for w in _ints(args.workers) if backend == "pg" else [1]:
            for n in _ints(args.n):
                print(
                    f"running {backend} workers={w} N={n} K={args.k} L={args.latency:g} poll={poll:g} ...",
                    file=sys.stderr,
                    flush=True,
                )
                rows.append(run_config(backend, w, n, args.k, args.latency, poll, pg_base, logdir))
    ok = render(rows, f"poll interval {poll:g} s")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=2), encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""The live display of a run: one progress row per shot, driven by the ledger."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

STEPS = {"planned": 0, "draft": 1, "still": 1, "gate": 2, "video": 3, "qc": 4, "done": 5}


class RunProgress:
    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.fields[shot]}"),
            BarColumn(bar_width=24),
            TextColumn("{task.fields[stage]:<6} {task.fields[status]}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self.tasks: dict[str, Any] = {}

    def __enter__(self) -> Callable[[list[Any]], None]:
        self.progress.start()
        return self.update

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def update(self, rows: list[Any]) -> None:
        for r in rows:
            done = STEPS.get(r.stage, 0) if r.status not in ("done", "drafts_ready") else 5
            if r.shot_id not in self.tasks:
                self.tasks[r.shot_id] = self.progress.add_task(
                    "", total=5, shot=r.shot_id, stage="", status=""
                )
            colour = {
                "done": "green",
                "failed": "red",
                "stopped": "red",
                "stills_done": "green",
                "drafts_ready": "green",
                "needs_review": "yellow",
            }.get(r.status, "cyan")
            self.progress.update(
                self.tasks[r.shot_id],
                completed=done,
                stage=r.stage,
                status=f"[{colour}]{r.status}[/{colour}]",
            )


class WaitsPrinter:
    """Team mode: one line on stderr per shot whose wait changed (a new queue, worker or takeover), and the
    same line again every :attr:`REPEAT` seconds while it lasts, so a run never waits in silence."""

    REPEAT = 30.0

    def __init__(self, console: Console) -> None:
        self.console = console
        self.last: dict[str, tuple[str, float]] = {}

    def __call__(self, waits: dict[str, str]) -> None:
        import re
        import time

        now = time.monotonic()
        for sid, line in sorted(waits.items()):
            key = re.sub(r"\d+ (s|min) ago", "", line)  # the ages move on by themselves
            seen = self.last.get(sid)
            if seen is None or seen[0] != key or now - seen[1] >= self.REPEAT:
                self.last[sid] = (key, now)
                self.console.print(f"waiting: {sid} {line}", markup=False, highlight=False, soft_wrap=True)
        for sid in [s for s in self.last if s not in waits]:
            del self.last[sid]

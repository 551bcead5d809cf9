"""``goldenchain demo`` (the whole chain offline) and ``goldenchain emulate`` (the provider emulator)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import click
from rich.console import Console

from goldenchain.errors import UsageError

console = Console()
SCENARIOS = ("clean", "demo", "drift", "field", "flaky")  # the emulator's (a test keeps the two lists equal)


@click.command("demo")
@click.option(
    "--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Project folder to create."
)
@click.option(
    "--shots",
    "n_shots",
    type=click.IntRange(1, 50),
    default=3,
    show_default=True,
    help="Shots in the example.",
)
@click.option(
    "--scenario",
    type=click.Choice(SCENARIOS),
    default="demo",
    show_default=True,
    help="Which faults the emulator injects.",
)
@click.option(
    "--latency", type=float, default=1.0, show_default=True, help="Seconds each emulated task takes."
)
@click.option("--quiet", is_flag=True, help="No live display.")
def demo_cmd(out_dir: str, n_shots: int, scenario: str, latency: float, quiet: bool) -> int:
    """The whole chain offline: the provider emulator on 127.0.0.1, an example project, the real adapters."""
    from goldenchain import api
    from goldenchain.cli.project import execute_run
    from goldenchain.config import PROJECT_FILE, load_project
    from goldenchain.emulator import Emulator
    from goldenchain.templates import write_example

    root = Path(out_dir)
    if (root / PROJECT_FILE).exists():
        console.print(f"{root} already holds a project: resuming it")
    else:
        write_example(root, shots=n_shots)
        cfg = root / PROJECT_FILE
        text = cfg.read_text(encoding="utf-8")
        text = re.sub(r"poll_interval = [0-9.]+", "poll_interval = 0.5", text)
        cfg.write_text(text, encoding="utf-8")
    with Emulator(
        host="127.0.0.1",
        port=0,
        scenario=scenario,
        latency=latency,
        log_path=str(root / ".goldenchain" / "emulator.log"),
    ) as emu:
        saved = {k: os.environ.get(k) for k in emu.env()}
        os.environ.update(emu.env())
        try:
            console.print(f"provider emulator on {emu.base_url} (scenario {scenario})")
            project = load_project(root)
            return execute_run(project, api.plan_run(project, by_person=True), quiet=quiet)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


@click.command("emulate")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=0, help="0 picks a free port.")
@click.option(
    "--scenario",
    type=click.Choice(SCENARIOS),
    default="demo",
    show_default=True,
    help="Which faults the emulator injects.",
)
@click.option("--latency", type=float, default=2.0, show_default=True, help="Seconds a task takes.")
@click.option(
    "--log", "log_path", type=click.Path(dir_okay=False), default=None, help="Append a JSON line per request."
)
def emulate_cmd(host: str, port: int, scenario: str, latency: float, log_path: str | None) -> None:
    """Serve the provider emulator; prints `export NAME=value` lines, then serves until stopped."""
    from goldenchain.emulator import serve

    if latency < 0:
        raise UsageError("--latency must be >= 0")
    serve(host, port, scenario, latency, log_path)


COMMANDS = [demo_cmd, emulate_cmd]

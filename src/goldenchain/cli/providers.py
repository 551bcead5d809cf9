"""``goldenchain providers``: the registered provider plugins, their models and what each model can do
(from the capability matrix, :mod:`goldenchain.core.capabilities`)."""

from __future__ import annotations

import json
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from goldenchain.core.capabilities import image_model, video_model

__all__ = ["COMMANDS", "provider_rows", "providers_cmd"]

KINDS = {"t2i": "text-to-image", "i2v": "image-to-video"}


def _model_caps(name: str, kind: str, model: str) -> dict[str, Any] | None:
    if kind == "t2i":
        im = image_model(name, model)
        if im is None:
            return None
        return {"prompt_max": im.prompt_max, "sizes": im.sizes, "max_side": im.max_side}
    vm = video_model(name, model)
    if vm is None:
        return None
    return {
        "modes": list(vm.modes),
        "durations": list(vm.durations),
        "camera": [list(p) for p in vm.camera],
        "end_frame": [list(p) for p in vm.end_frame],
        "prompt_max": vm.prompt_max,
        "image_min_px": vm.image_min_px,
        "image_max_bytes": vm.image_max_bytes,
        "output": {mode: list(size) for mode, size in vm.output.items()},
    }


def provider_rows(registry: Any | None = None) -> list[dict[str, Any]]:
    """One entry per registered provider: ``name``, ``kind``, and ``models`` with their capabilities
    (``null`` where the matrix has no row for a model, e.g. a third-party plugin's)."""
    if registry is None:
        from goldenchain.plugins.manager import get_registry

        registry = get_registry()
    rows = []
    for (name, kind), entry in sorted(registry.providers.items()):
        models = [{"model": m, "capabilities": _model_caps(name, kind, m)} for m in entry.models]
        rows.append({"name": name, "kind": kind, "models": models})
    return rows


def _pairs(pairs: list[list[Any]]) -> str:
    return ", ".join(f"{mode} {seconds}s" for mode, seconds in pairs) or "no"


def _summary(kind: str, caps: dict[str, Any] | None) -> str:
    if caps is None:
        return "[dim]not in the capability matrix[/dim]"
    if kind == "t2i":
        return f"sizes: {caps['sizes']} (max {caps['max_side']} px); prompt <= {caps['prompt_max']}"
    durations = "/".join(str(d) for d in caps["durations"])
    return (
        f"modes {'/'.join(caps['modes'])}; {durations} s; camera: {_pairs(caps['camera'])}; "
        f"end frame: {_pairs(caps['end_frame'])}"
    )


@click.command("providers")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def providers_cmd(as_json: bool) -> int:
    """List the registered providers, their models and capabilities."""
    rows = provider_rows()
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return 0
    table = Table(show_header=True, box=None, pad_edge=False)
    for col in ("provider", "kind", "model", "capabilities"):
        table.add_column(col, overflow="fold")
    for row in rows:
        for i, m in enumerate(row["models"] or [{"model": "-", "capabilities": None}]):
            first = i == 0
            table.add_row(
                row["name"] if first else "",
                KINDS.get(row["kind"], row["kind"]) if first else "",
                m["model"],
                _summary(row["kind"], m["capabilities"]),
            )
    Console().print(table)
    return 0


COMMANDS = [providers_cmd]

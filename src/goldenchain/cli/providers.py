"""``goldenchain providers``: the registered provider routes and their models, one row per model, read from
each model's spec (:class:`goldenchain.core.models.ModelSpec`). ``--json`` gives everything."""

from __future__ import annotations

import json
from typing import Any

import click

from goldenchain.core.models import ModelSpec

__all__ = ["COMMANDS", "caps_short", "price_short", "provider_rows", "providers_cmd"]

KINDS = {"t2i": "text-to-image", "i2v": "image-to-video", "t2v": "text-to-video"}
WIDTH = 80
MODEL_COL = 36


def provider_rows(registry: Any | None = None) -> list[dict[str, Any]]:
    """One entry per registered provider route: ``name``, ``kind``, and ``models``, each with its
    ``capabilities`` and ``price`` from its spec (``null`` for a model registered without one)."""
    if registry is None:
        from goldenchain.plugins.manager import get_registry

        registry = get_registry()
    rows = []
    for (name, kind), entry in sorted(registry.providers.items()):
        models = []
        for m in entry.models:
            spec = entry.specs.get(m)
            models.append(
                {
                    "model": m,
                    "label": spec.label if spec else None,
                    "capabilities": spec.capabilities() if spec else None,
                    "price": spec.price_json() if spec else None,
                    "notes": spec.notes if spec else "registered without a spec: cannot be used",
                }
            )
        rows.append({"name": name, "kind": kind, "models": models})
    return rows


def price_short(spec: ModelSpec) -> str:
    """``$0.025/MP``, ``$0.098/s``, ``$0.49/5s`` (a Kling clip in its first mode): a narrow column."""
    rule = spec.price
    if rule.basis == "clip" and rule.units:
        mode = "pro" if any(m == "pro" for m, _, _ in rule.units) else rule.units[0][0]
        five = next((u for m, d, u in rule.units if m == mode and d == 5), rule.units[0][2])
        return f"${five * rule.usd:.2f}/5s"
    return rule.short()


def _pairs(pairs: tuple[tuple[str, int], ...]) -> str:
    return ",".join(f"{m} {d}s" for m, d in pairs)


def caps_short(spec: ModelSpec) -> str:
    if spec.kind == "t2i":
        if spec.sizes == "aspect":
            return f"ratios {' '.join(r for r in spec.ratios if r in ('16:9', '1:1', '9:16'))}.."
        mult = f" /{spec.multiple_of}" if spec.multiple_of > 1 else ""
        return f"{spec.min_side}-{spec.max_side}px{mult}"
    text = f"{'/'.join(spec.modes)} {'/'.join(map(str, spec.durations))}s"
    if spec.camera:
        text += f"; cam {_pairs(spec.camera)}"
    if spec.end_frame:
        text += "; end"
    if spec.ignored:
        short = (
            p.replace("_scale", "").replace("_ratio", "").replace("negative_prompt", "neg")
            for p in spec.ignored
        )
        text += f"; ignores {','.join(short)}"
    return text


def table_lines(rows: list[dict[str, Any]], registry: Any | None = None) -> list[str]:
    if registry is None:
        from goldenchain.plugins.manager import get_registry

        registry = get_registry()
    lines: list[str] = []
    for row in rows:
        entry = registry.providers[(row["name"], row["kind"])]
        lines.append(f"{row['name']} · {KINDS.get(row['kind'], row['kind'])}")
        for m in entry.models:
            spec = entry.specs.get(m)
            if spec is None:
                lines.append(f"  {m}  (no spec: cannot be used)")
                continue
            price, caps = price_short(spec), caps_short(spec)
            if len(m) + 2 > MODEL_COL:  # a long model id gets a line of its own
                lines.append(f"  {m}")
                m = ""
            lines.append(f"  {m:<{MODEL_COL - 2}} {price:>10}  {caps}".rstrip())
    return lines


@click.command("providers")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (everything) instead of a table.")
def providers_cmd(as_json: bool) -> int:
    """List the provider routes, their models, prices and capabilities (details: --json)."""
    rows = provider_rows()
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return 0
    for line in table_lines(rows):
        click.echo(line)
    click.echo("prices: goldenchain costs prices · all fields: goldenchain providers --json")
    return 0


COMMANDS = [providers_cmd]

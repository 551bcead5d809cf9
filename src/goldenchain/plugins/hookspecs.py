"""The hooks a goldenchain plugin may implement. Each receives a ``register`` callback."""

from __future__ import annotations

from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("goldenchain")
hookimpl = pluggy.HookimplMarker("goldenchain")


@hookspec
def register_providers(register: Any) -> None:
    """Call ``register(name, kind, factory, models=[...])`` for each provider.

    ``kind`` is ``"t2i"`` or ``"i2v"``; ``factory(settings, client)`` builds the adapter from
    :class:`goldenchain.config.Settings` and an optional injected ``httpx.AsyncClient``. ``queue="gpu"``
    puts the route's takes in the GPU queue, which only workers started with ``--queues gpu`` serve."""


@hookspec
def register_gates(register: Any) -> None:
    """Call ``register(name, kind, check)``: ``kind`` is ``"image"`` or ``"clip"``; ``check`` returns a
    :class:`goldenchain.core.checks.CheckReport`."""

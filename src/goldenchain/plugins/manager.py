"""Plugin manager: loads the built-ins and the ``goldenchain`` entry points, and builds the registries."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pluggy

from goldenchain.core.models import Catalog, ModelSpec, set_catalog_loader
from goldenchain.errors import UsageError
from goldenchain.plugins import hookspecs

BUILTINS = ("goldenchain.plugins.builtin",)


@dataclass
class ProviderEntry:
    name: str
    kind: str
    factory: Callable[..., Any]
    #: the model ids, in registration order (each with a spec in ``specs``, or it cannot be used)
    models: list[str] = field(default_factory=list)
    specs: dict[str, ModelSpec] = field(default_factory=dict)
    #: the queue its takes wait in (``gpu``: served only by workers that ask for it); None: its own
    queue: str | None = None


@dataclass
class GateEntry:
    name: str
    kind: str
    check: Callable[..., Any]


class Registry:
    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.pm = pm
        self.providers: dict[tuple[str, str], ProviderEntry] = {}
        self.gates: dict[str, list[GateEntry]] = {"image": [], "clip": []}

        def reg_provider(
            name: str,
            kind: str,
            factory: Callable[..., Any],
            models: list[Any] | None = None,
            queue: str | None = None,
        ) -> None:
            ids: list[str] = []
            specs: dict[str, ModelSpec] = {}
            for m in models or []:
                if isinstance(m, ModelSpec):
                    if (m.route, m.kind) != (name, kind):
                        raise UsageError(
                            f"provider {name} ({kind}) registers {m.model} with a spec for {m.route} ({m.kind})"
                        )
                    specs[m.model] = m
                    ids.append(m.model)
                else:  # a bare id: listed, but it cannot be used until it has a spec
                    ids.append(str(m))
            self.providers[(name, kind)] = ProviderEntry(name, kind, factory, ids, specs, queue)

        def reg_gate(name: str, kind: str, check: Callable[..., Any]) -> None:
            self.gates.setdefault(kind, []).append(GateEntry(name, kind, check))

        pm.hook.register_providers(register=reg_provider)
        pm.hook.register_gates(register=reg_gate)
        #: every registered model's spec
        self.catalog = Catalog.of(spec for entry in self.providers.values() for spec in entry.specs.values())

    def queue_of(self, name: str) -> str:
        """The queue a route's takes wait in: the one it registered with (``gpu``), else its own name."""
        for (n, _), entry in self.providers.items():
            if n == name and entry.queue:
                return entry.queue
        return name

    def provider(self, name: str, kind: str) -> ProviderEntry:
        try:
            return self.providers[(name, kind)]
        except KeyError:
            known = ", ".join(sorted(n for n, k in self.providers if k == kind)) or "none"
            what = {"t2i": "text-to-image", "i2v": "image-to-video", "t2v": "text-to-video"}.get(kind, kind)
            raise UsageError(f"unknown {what} provider {name!r} (known: {known})") from None


def make_plugin_manager(*, entrypoints: bool = True) -> pluggy.PluginManager:
    pm = pluggy.PluginManager("goldenchain")
    pm.add_hookspecs(hookspecs)
    import importlib

    for mod in BUILTINS:
        pm.register(importlib.import_module(mod), name=mod)
    if entrypoints and os.environ.get("GOLDENCHAIN_LOAD_PLUGINS", "1") != "0":
        pm.load_setuptools_entrypoints("goldenchain")
    return pm


_registry: Registry | None = None


def get_registry(*, refresh: bool = False) -> Registry:
    global _registry
    if _registry is None or refresh:
        _registry = Registry(make_plugin_manager())
    return _registry


set_catalog_loader(lambda: get_registry().catalog)

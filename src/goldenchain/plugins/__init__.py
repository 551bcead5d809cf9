"""Plugins through pluggy hooks. Built-in providers and gates are registered exactly like third-party ones."""

from goldenchain.plugins.manager import Registry, get_registry

__all__ = ["Registry", "get_registry"]

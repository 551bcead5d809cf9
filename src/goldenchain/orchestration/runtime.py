"""What steps need at run time, looked up by project id (workflow inputs stay small and serialisable)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from goldenchain.config import Project
from goldenchain.plugins.manager import Registry, get_registry
from goldenchain.store.artifacts import ArtifactStore
from goldenchain.store.db import Database
from goldenchain.store.ledger import Ledger


@dataclass
class Runtime:
    project: Project
    db: Database
    ledger: Ledger
    store: ArtifactStore
    registry: Registry

    @classmethod
    def open(cls, project: Project, db: Database | None = None) -> Runtime:
        db = db or Database(project.database_url)
        return cls(project, db, Ledger(db), ArtifactStore(project.artifacts_dir), get_registry())

    @contextlib.asynccontextmanager
    async def provider(self, name: str, kind: str) -> AsyncIterator[Any]:
        """A fresh adapter for this event loop; closed after use."""
        adapter = self.registry.provider(name, kind).factory(self.project.settings, None)
        try:
            yield adapter
        finally:
            await adapter.aclose()

    def abs_path(self, rel: str) -> Path:
        return self.project.root / rel


RUNTIMES: dict[str, Runtime] = {}


def runtime(project_id: str) -> Runtime:
    try:
        return RUNTIMES[project_id]
    except KeyError:
        raise RuntimeError(f"project {project_id} is not open in this process") from None

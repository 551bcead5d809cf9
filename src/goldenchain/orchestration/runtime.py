"""What steps need at run time, looked up by project id (workflow inputs stay small and serialisable)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from goldenchain.config import Project
from goldenchain.orchestration.hints import WebhookHub
from goldenchain.orchestration.interrupt import wait_out
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
    #: with webhooks on: the hub that callbacks wake, and the base URL the providers POST to
    hub: WebhookHub | None = None
    callback_base: str | None = None
    #: team mode: the worker's lease check, called right before every create; it ends the process when the
    #: lease is no longer this worker's (a live worker has taken over its work)
    fence: Callable[[], None] | None = None
    #: adapters reused across steps on the same event loop (one HTTP connection pool per provider)
    _adapters: dict[tuple[str, str, int], Any] = field(default_factory=dict)
    #: paid creates sent and not yet answered and recorded; a stopping run waits for them before it closes
    creates_in_flight: set[asyncio.Future[Any]] = field(default_factory=set)
    #: set when the run stops (Ctrl-C): no new create is sent
    stopping: bool = False

    @classmethod
    def open(cls, project: Project, db: Database | None = None) -> Runtime:
        db = db or Database(project.database_url)
        return cls(project, db, Ledger(db), artifact_store(project), get_registry())

    @contextlib.asynccontextmanager
    async def provider(self, name: str, kind: str) -> AsyncIterator[Any]:
        """The adapter for this provider on this event loop, built once and reused by every step."""
        key = (name, kind, id(asyncio.get_running_loop()))
        adapter = self._adapters.get(key)
        if adapter is None:
            adapter = self.registry.provider(name, kind).factory(self.project.settings, None)
            self._adapters[key] = adapter
        yield adapter

    async def settle_creates(self) -> None:
        """Stop sending creates and wait until every one in flight has its answer recorded (each is bounded
        by its request's timeout). Cancellations meanwhile (Ctrl-C, asked again) wait too, then pass on."""
        self.stopping = True
        await wait_out(lambda: set(self.creates_in_flight))

    async def aclose(self) -> None:
        loop = id(asyncio.get_running_loop())
        for key in [k for k in self._adapters if k[2] == loop]:
            await self._adapters.pop(key).aclose()

    def callback_url(self, adapter: Any) -> str | None:
        """Where this adapter's provider should POST when a task ends; None with webhooks off or for a
        provider without them."""
        route = getattr(adapter, "webhooks", None)
        if self.hub is None or not self.callback_base or not isinstance(route, str):
            return None
        return f"{self.callback_base.rstrip('/')}/hooks/{route}"

    def check_fence(self) -> None:
        if self.fence is not None:
            self.fence()

    def abs_path(self, rel: str) -> Path:
        """A stored file on this machine (fetched from the shared artifact copy first, if there is one)."""
        return self.store.local(self.project.root / rel)


def artifact_store(project: Project) -> ArtifactStore:
    """The project's artifact store: its ``artifacts/`` folder, with the shared S3 copy when
    ``GOLDENCHAIN_ARTIFACTS_URL`` names one."""
    from goldenchain.store.s3 import s3_remote_from_settings

    return ArtifactStore(project.artifacts_dir, s3_remote_from_settings(project.settings.get))


RUNTIMES: dict[str, Runtime] = {}


def runtime(project_id: str) -> Runtime:
    """The runtime of an open project; an A/B test's own ledger project (``<project>.ab.<name>``) runs in its
    project's where it has none of its own (a team worker opens the project, not its tests)."""
    from goldenchain.core.abtest import base_project

    rt = RUNTIMES.get(project_id) or RUNTIMES.get(base_project(project_id) or "")
    if rt is None:
        raise RuntimeError(f"project {project_id} is not open in this process")
    return rt

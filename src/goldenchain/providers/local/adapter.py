"""The local routes speak the same adapter protocol as the HTTP providers, so the engine treats a local take
like any other: its intent is in the ledger before the GPU starts, and it counts only once its result is
downloaded (read back) and hashed.

``submit`` renders in-process (under this process's GPU lock) and writes the result to a results folder on
this machine, named by the take's own id, with a small record of the GPU seconds last: a result is complete
once that record exists. ``find_by_external_id`` reads it back, so a crash after the render and before the
task id reached the ledger costs no second render; a crash during the render leaves nothing, and the take
renders again (the GPU time of the lost render is not billed). ``poll`` answers at once."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any, ClassVar, Literal
from urllib.parse import unquote, urlparse

from goldenchain.errors import ProviderFailed, ResultExpired
from goldenchain.providers.base import Failed, Submitted, Succeeded, TaskStatus
from goldenchain.providers.local.pipelines import Setup, resolve_setup

__all__ = ["LocalAdapter", "results_dir"]

#: results older than this are removed when an adapter starts (the ledger's artifact store keeps the copy)
KEEP_SECONDS = 7 * 86400


def results_dir() -> Path:
    from goldenchain.config import user_dir

    return user_dir() / "local-results"


def task_id_for(external_id: str) -> str:
    return "local-" + hashlib.sha256(external_id.encode()).hexdigest()[:32]


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class LocalAdapter:
    """What ``local-flux`` and ``local-svd`` share; a subclass names its route and pipeline family, checks a
    request and renders it (:meth:`make`: the result's bytes and file suffix)."""

    name: ClassVar[str]
    kind: ClassVar[Literal["t2i", "i2v"]]
    family: ClassVar[str]
    lookup_by_external_id: ClassVar[bool] = True

    def __init__(self, settings: Any, *, results: Path | None = None) -> None:
        self.settings = settings
        self.results = results or results_dir()
        self.results.mkdir(parents=True, exist_ok=True)
        self._prune()

    def _prune(self) -> None:
        cutoff = time.time() - KEEP_SECONDS
        for p in self.results.iterdir():
            try:
                if p.stat().st_mtime < cutoff:
                    p.unlink()
            except OSError:
                pass

    # -- what a subclass provides -------------------------------------------------------------------------

    def check_request(self, request: Any) -> None:
        raise NotImplementedError

    def make(self, setup: Setup, request: Any) -> tuple[bytes, str, float, dict[str, Any]]:
        """Render ``request``: (bytes, suffix, GPU seconds, facts)."""
        raise NotImplementedError

    # -- Provider -----------------------------------------------------------------------------------------

    def setup(self, model: str) -> Setup:
        return resolve_setup(self.name, self.family, model, self.settings)

    def check_inputs(self, request: Any) -> None:
        """The request against the model's spec, as lint checks it. This machine (weights present, a GPU big
        enough) is checked by :meth:`submit`, on the worker that renders."""
        self.check_request(request)

    async def submit(self, request: Any) -> Submitted:
        setup = self.setup(
            request.model
        )  # CapabilityError before anything runs: nothing made, nothing billed
        data, suffix, seconds, info = await asyncio.to_thread(self.make, setup, request)
        tid = task_id_for(request.external_id)
        path = self.results / f"{tid}{suffix}"
        record = {
            "path": str(path),
            "gpu_seconds": round(seconds, 3),
            "model": request.model,
            "external_id": request.external_id,
            "ready": True,
            **info,
        }
        await asyncio.to_thread(self._store, path, data, record)
        return Submitted(provider=self.name, task_id=tid, handle=record)

    def _store(self, path: Path, data: bytes, record: dict[str, Any]) -> None:
        _write(path, data)
        _write(self.results / f"{path.stem}.json", json.dumps(record).encode())  # last: the result is whole

    async def poll(self, submitted: Submitted) -> TaskStatus:
        path = Path(str(submitted.handle.get("path") or ""))
        if not path.is_file():
            reason = (
                f"the rendered file {path} is not on this machine (rendered by another worker, or removed)"
            )
            return Failed(ProviderFailed(self.name, reason, request_id=submitted.task_id))
        seconds = submitted.handle.get("gpu_seconds")
        return Succeeded(
            urls=[path.as_uri()],
            billed_units=float(seconds) if isinstance(seconds, int | float) else None,
            unit="gpu_seconds",
            raw=dict(submitted.handle),
        )

    async def find_by_external_id(self, external_id: str) -> Submitted | None:
        tid = task_id_for(external_id)
        try:
            record = json.loads((self.results / f"{tid}.json").read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(record, dict) or not Path(str(record.get("path"))).is_file():
            return None
        return Submitted(provider=self.name, task_id=tid, handle=record)

    async def download(self, url: str) -> bytes:
        parsed = urlparse(url)
        path = Path(unquote(parsed.path))
        if parsed.scheme != "file" or path.parent != self.results:
            raise ResultExpired(self.name, f"{url} is not a result of this machine's local routes")
        try:
            return await asyncio.to_thread(path.read_bytes)
        except OSError as e:
            raise ResultExpired(self.name, f"{path}: {e.strerror or e}") from None

    async def aclose(self) -> None:
        """Nothing to close: the pipeline stays loaded for the process's next take."""

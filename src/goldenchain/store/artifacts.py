"""Content-addressed artifact store: ``artifacts/sha256/ab/cdef...<ext>``.

With a shared copy (:mod:`goldenchain.store.s3`) the project's ``artifacts/`` folder is each machine's cache:
a result is written there and uploaded before it counts as stored, and a file another machine stored is
downloaded (and its hash checked) the first time it is needed here."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from goldenchain.errors import GoldenchainError

if TYPE_CHECKING:
    from goldenchain.store.s3 import S3Remote

EXT = {"image/png": ".png", "image/jpeg": ".jpg", "video/mp4": ".mp4"}


def sniff_mime(data: bytes) -> str:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[4:8] == b"ftyp":
        return "video/mp4"
    return "application/octet-stream"


class ArtifactMissing(GoldenchainError):
    """A stored artifact is neither in the local folder nor in the shared copy (or came back altered)."""


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class ArtifactStore:
    def __init__(self, root: Path, remote: S3Remote | None = None) -> None:
        self.root = root
        self.remote = remote

    def path_for(self, sha256: str, mime: str) -> Path:
        return self.root / "sha256" / sha256[:2] / (sha256[2:] + EXT.get(mime, ".bin"))

    def put(self, data: bytes, mime: str | None = None) -> tuple[str, Path, str]:
        """Store bytes; returns (sha256, path, mime). Writing is atomic and idempotent."""
        mime = mime or sniff_mime(data)
        sha = hashlib.sha256(data).hexdigest()
        path = self.path_for(sha, mime)
        if not path.exists():
            _write_atomic(path, data)
        if self.remote is not None:
            self.remote.put(path.relative_to(self.root).as_posix(), data, mime)
        return sha, path, mime

    def local(self, path: Path) -> Path:
        """``path`` (a file of this store), downloaded from the shared copy first when it is not here yet;
        the bytes must hash to the name they are stored under."""
        if path.is_file() or self.remote is None:
            return path
        try:
            rel = path.relative_to(self.root).as_posix()
        except ValueError:
            return path  # not an artifact: nothing to fetch
        try:
            data = self.remote.get(rel)
        except Exception as e:
            raise ArtifactMissing(f"{rel} is not in {self.remote.url('')} either: {e}") from e
        if hashlib.sha256(data).hexdigest() != rel.split("/")[-2] + Path(rel).stem:
            raise ArtifactMissing(f"{self.remote.url(rel)} does not hash to its name")
        _write_atomic(path, data)
        return path

    def verify(self, sha256: str, mime: str) -> bool:
        p = self.path_for(sha256, mime)
        return p.is_file() and hashlib.sha256(p.read_bytes()).hexdigest() == sha256

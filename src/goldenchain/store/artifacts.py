"""Content-addressed artifact store: ``artifacts/sha256/ab/cdef...<ext>``."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

EXT = {"image/png": ".png", "image/jpeg": ".jpg", "video/mp4": ".mp4"}


def sniff_mime(data: bytes) -> str:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[4:8] == b"ftyp":
        return "video/mp4"
    return "application/octet-stream"


class ArtifactStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, sha256: str, mime: str) -> Path:
        return self.root / "sha256" / sha256[:2] / (sha256[2:] + EXT.get(mime, ".bin"))

    def put(self, data: bytes, mime: str | None = None) -> tuple[str, Path, str]:
        """Store bytes; returns (sha256, path, mime). Writing is atomic and idempotent."""
        mime = mime or sniff_mime(data)
        sha = hashlib.sha256(data).hexdigest()
        path = self.path_for(sha, mime)
        if not path.exists():
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
        return sha, path, mime

    def verify(self, sha256: str, mime: str) -> bool:
        p = self.path_for(sha256, mime)
        return p.is_file() and hashlib.sha256(p.read_bytes()).hexdigest() == sha256

"""Deterministic ids: the same take always gets the same key, so a paid call is never made twice for it."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_hash(obj: Any) -> str:
    """sha256 of canonical JSON (sorted keys, no spaces)."""
    data = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(data).hexdigest()


def take_key(project_id: str, shot_id: str, stage: str, take: int, inputs: Any) -> str:
    """The idempotency key of one take of one stage: sent as Kling ``external_task_id``.

    32 hex chars, prefixed ``gc-`` so our ids are recognisable in a provider's console."""
    digest = canonical_hash({"p": project_id, "s": shot_id, "st": stage, "t": take, "in": inputs})
    return "gc-" + digest[:32]


def workflow_id(project_id: str, shot_id: str, generation: int) -> str:
    return f"{project_id}/{shot_id}/g{generation}"

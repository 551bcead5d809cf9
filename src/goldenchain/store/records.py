"""The ledger's read records: frozen copies of a take and an artifact, and a run's budget caps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row

__all__ = ["Artifact", "BudgetCaps", "Take", "take_record", "today"]


@dataclass(frozen=True)
class BudgetCaps:
    project_usd: float | None = None
    client_usd: float | None = None
    daily_usd: float | None = None
    monthly_usd: float | None = None
    run_usd: float | None = None
    #: a run under a person's approved quote: every paid call checks the quote is still approved and current
    quote_id: str | None = None


@dataclass(frozen=True, slots=True)
class Take:
    """One paid attempt at one stage of one shot, as the ledger holds it (see :class:`TakeRow`)."""

    id: int
    idempotency_key: str
    project_id: str
    shot_id: str
    stage: str
    take_no: int
    provider: str
    model: str
    request: dict[str, Any]
    seed: int | None
    parent_take_id: int | None
    state: str
    provider_task_id: str | None
    handle: dict[str, Any] | None
    result_url: str | None
    artifact_sha256: str | None
    verdict: str | None
    review: str | None
    review_note: str | None
    failure_class: str | None
    failure_reason: str | None
    estimate_usd: float
    cost_usd: float | None
    billed_units: float | None
    unit: str | None
    submit_attempts: int
    created_at: datetime | None
    updated_at: datetime | None
    latency_s: float | None = None  #: acceptance to the result on disk, in seconds


@dataclass(frozen=True, slots=True)
class Artifact:
    """A stored file, by content hash (see :class:`ArtifactRow`)."""

    sha256: str
    kind: str
    path: str
    size_bytes: int
    mime: str
    meta: dict[str, Any]
    created_at: datetime | None


def take_record(row: Row[Any]) -> Take:
    return Take(**row._mapping)


def today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")

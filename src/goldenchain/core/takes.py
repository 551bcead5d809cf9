"""A take as every surface shows it: the API, the review app, the report and the MCP server (pure data)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from goldenchain.core.checks import Check

__all__ = ["Take"]


@dataclass(frozen=True)
class Take:
    """One paid attempt at one stage of one shot, with its checks and whether the cut uses it.

    :meth:`to_json` is the one JSON form of a take: ``report.json``, the review app's ``/api/shots``, the MCP
    server and ``goldenchain.api.takes`` all give exactly these fields (a surface may add its own beside them,
    such as a link to the media, but never derives a take's field again)."""

    id: int  #: the take's number in the ledger, unique in the project
    shot: str  #: the shot id
    stage: str  #: ``draft`` (``run --draft``), ``still`` or ``clip``
    take: int  #: 1, 2, ... within the shot and stage
    provider: str  #: the route that made it (``fal``, ``kling``, ...)
    model: str  #: the provider's model id
    seed: int | None  #: the seed asked for, where the model takes one
    parent: int | None  #: a clip's still, or a final still's draft: the id of the take it was made from
    state: str  #: the paid boundary's state (``pending`` ... ``downloaded``, ``failed``)
    verdict: str | None  #: the gate's or the clip check's verdict: ``pass``, ``warn``, ``reject``
    review: str | None  #: a person's decision: ``approved`` or ``rejected``
    review_note: str | None  #: the person's reason and note
    failure_class: (
        str | None
    )  #: why it failed or was rejected, as a class (``moderation``, ``qc_reject``, ...)
    reason: str | None  #: the provider's or the check's own words
    provider_task_id: str | None  #: the provider's task id (for a support ticket or a refund claim)
    idempotency_key: str  #: our own id for the paid call: the same key never pays twice
    estimate_usd: float  #: what it was expected to cost before the call
    cost_usd: float | None  #: what it cost (None while unknown)
    billed_units: float | None  #: what the provider billed in its own unit
    unit: str | None  #: that unit (``credits``, ``megapixels``, ...)
    artifact_sha256: str | None  #: the stored file's content hash (``artifacts/sha256/...``)
    in_cut: bool  #: the shot's chosen take of its stage (the still or the clip the cut uses)
    checks: tuple[Check, ...] = ()  #: every measured check of the gate or the clip check

    def to_json(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["checks"] = [c.to_json() for c in self.checks]
        return out

"""A shot's plan: everything its workflow needs, typed and checked once, where the engine stores it.

The plan is the shot workflow's input (the engine records it with the workflow). It is built from the project
files by :func:`build_plan`, validated by pydantic there, and read as attributes by every step: a misspelt
field is a type error, not a ``KeyError`` deep in a resumed workflow. It is frozen: a run that changes what a
shot asks for builds a new plan, and so a new identity (:meth:`ShotPlan.identity`).
"""

from __future__ import annotations

import hashlib
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from goldenchain.config import (
    EngineSection,
    GateSection,
    Project,
    ProjectConfig,
    ShotSpec,
    StillsSection,
    VideoSection,
)
from goldenchain.core.keys import canonical_hash
from goldenchain.store.takes import BudgetCaps

Only = Literal["stills", "clips"]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class QcPlan(_Frozen):
    """The clip check's part of the plan."""

    enabled: bool = True
    thresholds: dict[str, float] = Field(default_factory=dict)
    on_reject: Literal["reroll", "review"] = "reroll"


class ClipExpect(_Frozen):
    """What the clip check expects of the provider's clip (the delivered files have their own check)."""

    width: int = Field(gt=0)
    height: int = Field(gt=0)
    fps: int | float = Field(gt=0)


class Caps(_Frozen):
    """The budgets every paid call of this run is checked against (the ledger's :class:`BudgetCaps`)."""

    project_usd: float | None = None
    client_usd: float | None = None
    daily_usd: float | None = None
    monthly_usd: float | None = None
    run_usd: float | None = None
    quote_id: str | None = None

    def budget(self) -> BudgetCaps:
        return BudgetCaps(**self.model_dump())


class ShotPlan(_Frozen):
    project_id: str
    client: str
    run_id: str | None = None
    only: Only | None = None
    #: `run --draft`: the shot's drafts (with ``stills.draft_model``, resolved when the plan is built) and no
    #: more; a plain run makes the final still from the draft a person chose, else the newest that passed
    drafts: bool = False
    shot: ShotSpec  # its seed is always set (the shot's own, else one derived from its id)
    stills: StillsSection
    video: VideoSection
    gate: GateSection
    qc: QcPlan
    delivery: ClipExpect
    engine: EngineSection
    prices: dict[str, float] = Field(default_factory=dict)
    caps: Caps = Field(default_factory=Caps)

    @property
    def shot_id(self) -> str:
        return self.shot.id

    @property
    def seed(self) -> int:
        assert self.shot.seed is not None  # build_plan sets it
        return self.shot.seed

    @property
    def from_text(self) -> bool:
        """Text-to-video: the clip is made from the prompt alone, no still."""
        return self.video.source == "text"

    def provider_for(self, stage: str) -> str:
        """The route that makes this stage's takes (drafts come from the stills route)."""
        return self.stills.provider if stage in ("still", "draft") else self.video.provider

    def identity(self) -> str:
        """What makes a shot's work the same work: not the run id, the budget caps nor the engine's timing.
        The reject policy counts only when it is not the default, so a plan made before it existed keeps its
        identity (and its shot its workflow); so do a clip's source and the near-duplicate comparison. The draft settings count only in a draft
        run (the final still reads the chosen draft from the ledger, not from the plan)."""
        keep = self.model_dump(mode="json", exclude={"run_id", "caps", "engine"})
        if not keep.pop("drafts"):
            del keep["stills"]["draft_model"], keep["stills"]["draft_takes"]
        else:
            keep["drafts"] = True
        if keep["qc"]["on_reject"] == "reroll":
            del keep["qc"]["on_reject"]
        if keep["video"]["source"] == "still":
            del keep["video"]["source"]
        if keep["gate"]["near_duplicates"]:
            del keep["gate"]["near_duplicates"]
        return canonical_hash(keep)[:10]

    def with_takes(self, stills: int, clips: int) -> ShotPlan:
        """The plan with ``stills`` and ``clips`` more takes allowed (a person's re-take grants)."""
        if not stills and not clips:
            return self
        return self.model_copy(
            update={
                "stills": self.stills.model_copy(update={"max_takes": self.stills.max_takes + stills}),
                "video": self.video.model_copy(update={"max_takes": self.video.max_takes + clips}),
            }
        )


def default_seed(shot_id: str) -> int:
    return int(hashlib.sha256(shot_id.encode()).hexdigest()[:8], 16)


def build_plan(
    project: Project,
    shot_id: str,
    *,
    run_id: str | None,
    max_cost: float | None,
    only: str | None,
    quote_id: str | None = None,
    drafts: bool = False,
    config: ProjectConfig | None = None,
) -> ShotPlan:
    """The shot's plan from the project's settings, or from ``config`` (an A/B test's variant of them)."""
    cfg = config or project.config
    stills = cfg.stills
    if drafts:  # the draft model, resolved once (exit 2 before any spend where the route has none)
        from goldenchain.catalog import require_draft_model

        stills = stills.model_copy(update={"draft_model": require_draft_model(cfg)})
    spec = project.shot(shot_id)
    if spec.seed is None:
        spec = spec.model_copy(update={"seed": default_seed(shot_id)})
    qc = cfg.qc
    return ShotPlan.model_validate(
        {
            "project_id": project.id,
            "client": cfg.project.client,
            "run_id": run_id,
            "only": only,
            "drafts": drafts,
            "shot": spec,
            "stills": stills,
            "video": cfg.video,
            "gate": cfg.gate,
            "qc": QcPlan(enabled=qc.enabled, thresholds=dict(qc.thresholds), on_reject=qc.on_reject),
            "delivery": ClipExpect(**qc.expected(cfg.delivery)),
            "engine": cfg.engine,
            "prices": dict(cfg.prices),
            "caps": Caps(**cfg.budget.model_dump(), run_usd=max_cost, quote_id=quote_id),
        }
    )

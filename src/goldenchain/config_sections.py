"""The project file's sections for a studio's own lint rules, its provider plan and its alert bands; the
strict base every section of :mod:`goldenchain.config` is built on. :mod:`goldenchain.config` re-exports them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "AlertsSection",
    "CalibrationSection",
    "LintRuleSpec",
    "LintSection",
    "LocalSection",
    "PlanSection",
    "SceneType",
    "Strict",
]

SceneType = Literal["portrait", "landscape", "environment", "action", "product"]


class Strict(BaseModel):
    """A section that refuses unknown fields (a typo is an error naming the field, never a silent default)."""

    model_config = ConfigDict(extra="forbid")


class LintRuleSpec(Strict):
    """A studio's own prompt rule (same shape as the built-ins in ``core/rules.py``)."""

    id: str = Field(pattern=r"^[a-z0-9-]+$")
    severity: Literal["error", "warning", "info"] = "warning"
    message: str
    hint: str = ""
    pattern: str
    mode: Literal["forbid", "require"] = "forbid"
    scenes: list[SceneType] = Field(default_factory=list)

    @field_validator("pattern")
    @classmethod
    def _regex(cls, v: str) -> str:
        try:
            re.compile(v)
        except re.error as e:
            raise ValueError(f"not a valid regular expression: {e}") from None
        return v


class LintSection(Strict):
    disable: list[str] = Field(default_factory=list)
    rules: list[LintRuleSpec] = Field(default_factory=list)


class PlanSection(Strict):
    """The studio's provider plan, for burn-rate reports."""

    #: a tier from the price catalog (goldenchain costs prices) or from [plan.tiers] below
    kling_tier: str | None = None
    kling_priority: bool = False  # whether the plan includes priority queueing
    #: monthly credits; overrides the tier's
    kling_monthly_credits: float | None = Field(None, gt=0)
    kling_usd_per_credit: float = Field(0.14, gt=0)
    cycle_start_day: int = Field(1, ge=1, le=28)
    #: your own tiers: [plan.tiers.NAME] monthly_credits = 3000, priority = true, usd_per_credit = 0.1
    tiers: dict[str, dict[str, float | bool | None]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_tier(self) -> PlanSection:
        from goldenchain.core.pricing import KLING_TIERS

        if (
            self.kling_tier is not None
            and self.kling_tier not in self.tiers
            and self.kling_tier not in KLING_TIERS
        ):
            known = ", ".join(sorted({*KLING_TIERS, *self.tiers}))
            raise ValueError(f"unknown kling_tier {self.kling_tier!r} (known: {known})")
        return self

    def monthly_credits(self) -> float | None:
        from goldenchain.core.pricing import resolve_tier

        if self.kling_monthly_credits is not None:
            return self.kling_monthly_credits
        tier = resolve_tier(self.kling_tier, self.tiers)
        return tier.monthly_credits if tier else None


class AlertsSection(Strict):
    """Expected bands ([low, high]; a side may be left out as null) for the figures ``costs`` and ``run`` watch;
    a figure outside its band is an alert, ``costs --check`` exits 1 on one."""

    #: the guide: under $2 a day for 50 stills
    stills_usd_per_day: tuple[float | None, float | None] = (None, 2.0)
    #: share of the spend on rejected or failed takes
    waste_share: tuple[float | None, float | None] = (None, 0.35)
    #: Kling units per accepted clip; default: the catalog's price of the configured model, x0.9 .. x1.5
    kling_units_per_clip: tuple[float | None, float | None] | None = None
    cost_per_accepted_clip: tuple[float | None, float | None] | None = None  # dollars
    #: infrastructure cost as a share of the project's fee (alerts also go to GOLDENCHAIN_ALERT_WEBHOOK, a
    #: Slack-compatible URL kept in the environment or .env, when it is set)
    fee_share: tuple[float | None, float | None] = (None, 0.25)


class CalibrationSection(Strict):
    """``goldenchain calibrate``: which library prompts it runs, and the band of each metric around the last
    calibration of the same routes; a metric outside its band is flagged (exit 1)."""

    #: library prompt ids; default: every calibration prompt and one golden prompt per scene type
    prompts: list[str] = Field(default_factory=list)
    #: relative: a still's or a clip's cost more than this share off the last calibration's
    cost: float = Field(0.10, ge=0)
    #: relative: a task's latency (acceptance to the result on disk) more than this share off the last's ...
    latency: float = Field(0.5, ge=0)
    #: ... and at least this many seconds off (the poll interval alone moves a latency by a few seconds)
    latency_min_s: float = Field(2.0, ge=0)
    #: absolute: a check's score more than this share of the check's own threshold off the last's
    score: float = Field(0.15, ge=0)
    #: absolute bands of single checks in their own unit, by metric name (``gate.exposure``, ``qc.flicker``)
    scores: dict[str, float] = Field(default_factory=dict)
    #: absolute: the clip's first frame against the still (similarity, 0..1)
    first_frame: float = Field(0.05, ge=0)
    #: moderation refusals, gate rejects and clip-check rejects more than the last calibration's (0: any new
    #: one is flagged)
    new_failures: int = Field(0, ge=0)


class LocalSection(Strict):
    """The local GPU routes (local-flux, local-svd) on this project's GPU workers. Each is a default: the
    environment (or .env) of the machine that renders overrides it, as its weights and GPU are its own."""

    #: a folder holding one diffusers folder per model, named by the model id's last part (FLUX.1-schnell);
    #: relative to the project (env GOLDENCHAIN_LOCAL_WEIGHTS)
    weights: str | None = None
    #: auto (the GPU if there is one) | cuda | cuda:N | cpu (env GOLDENCHAIN_LOCAL_DEVICE)
    device: str = Field("auto", pattern=r"^(auto|cpu|cuda(:[0-9]+)?)$")
    #: auto (picked from the GPU's memory) or a preset's name (env GOLDENCHAIN_LOCAL_PRESET)
    preset: str = Field("auto", pattern=r"^[a-z0-9-]+$")

    def settings(self, root: Path) -> dict[str, str]:
        out = {"GOLDENCHAIN_LOCAL_DEVICE": self.device, "GOLDENCHAIN_LOCAL_PRESET": self.preset}
        if self.weights:
            out["GOLDENCHAIN_LOCAL_WEIGHTS"] = str((root / Path(self.weights).expanduser()).resolve())
        return out

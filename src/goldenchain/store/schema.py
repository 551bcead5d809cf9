"""Ledger tables. Changed only through an Alembic migration in ``migrations/versions``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class ProjectRow(Base):
    __tablename__ = "gc_projects"
    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    client: Mapped[str] = mapped_column(String(120))
    root: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ShotRow(Base):
    __tablename__ = "gc_shots"
    __table_args__ = (UniqueConstraint("project_id", "shot_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("gc_projects.id"))
    shot_id: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(Integer)
    spec: Mapped[dict] = mapped_column(JSON)
    generation: Mapped[int] = mapped_column(Integer, default=1)
    workflow_id: Mapped[str | None] = mapped_column(String(300), nullable=True)
    stage: Mapped[str] = mapped_column(String(40), default="planned")
    status: Mapped[str] = mapped_column(String(40), default="pending")
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    still_take_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    clip_take_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    extra_still_takes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    extra_clip_takes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class TakeRow(Base):
    """One paid attempt at one stage of one shot. ``idempotency_key`` is sent to the provider
    (Kling ``external_task_id``) and makes a take unique: no take is ever paid for twice."""

    __tablename__ = "gc_takes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("gc_projects.id"))
    shot_id: Mapped[str] = mapped_column(String(120))
    stage: Mapped[str] = mapped_column(String(20))  # still | clip
    take_no: Mapped[int] = mapped_column(Integer)
    provider: Mapped[str] = mapped_column(String(40))
    model: Mapped[str] = mapped_column(String(120))
    request: Mapped[dict] = mapped_column(JSON)  # what we asked for (no secrets, no image bytes)
    seed: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    parent_take_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # a clip's still
    # pending -> submitting -> submitted -> downloaded | failed | needs_review | budget_blocked
    state: Mapped[str] = mapped_column(String(30), default="pending")
    provider_task_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    handle: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    result_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    artifact_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    verdict: Mapped[str | None] = mapped_column(String(20), nullable=True)  # pass | warn | reject
    review: Mapped[str | None] = mapped_column(String(20), nullable=True)  # approved | rejected (a person)
    review_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    failure_class: Mapped[str | None] = mapped_column(String(40), nullable=True)
    failure_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    estimate_usd: Mapped[float] = mapped_column(Float, default=0.0)
    cost_usd: Mapped[float | None] = mapped_column(Float, nullable=True)
    billed_units: Mapped[float | None] = mapped_column(Float, nullable=True)
    unit: Mapped[str | None] = mapped_column(String(30), nullable=True)
    submit_attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
    #: seconds from the provider accepting the task to its result on our disk
    latency_s: Mapped[float | None] = mapped_column(Float, nullable=True)


class ProviderCallRow(Base):
    """Append-only log of every HTTP exchange with a provider that matters for money."""

    __tablename__ = "gc_provider_calls"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    take_id: Mapped[int] = mapped_column(ForeignKey("gc_takes.id"))
    op: Mapped[str] = mapped_column(String(20))  # intent | create | lookup | poll | download
    outcome: Mapped[str] = mapped_column(String(40))
    provider_task_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ArtifactRow(Base):
    __tablename__ = "gc_artifacts"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # still | clip | final
    path: Mapped[str] = mapped_column(Text)  # relative to the project root
    size_bytes: Mapped[int] = mapped_column(Integer)
    mime: Mapped[str] = mapped_column(String(60))
    meta: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CheckRow(Base):
    __tablename__ = "gc_checks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    take_id: Mapped[int] = mapped_column(ForeignKey("gc_takes.id"))
    kind: Mapped[str] = mapped_column(String(10))  # image | clip
    name: Mapped[str] = mapped_column(String(40))
    verdict: Mapped[str] = mapped_column(String(10))
    score: Mapped[float] = mapped_column(Float)
    threshold: Mapped[float] = mapped_column(Float)
    direction: Mapped[str] = mapped_column(String(20))
    message: Mapped[str] = mapped_column(Text)


class SpendRow(Base):
    """Money: a reservation before each paid call, then committed (actual cost) or released."""

    __tablename__ = "gc_spend"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    take_id: Mapped[int] = mapped_column(ForeignKey("gc_takes.id"), unique=True)
    project_id: Mapped[str] = mapped_column(String(120))
    client: Mapped[str] = mapped_column(String(120))
    shot_id: Mapped[str] = mapped_column(String(120))
    provider: Mapped[str] = mapped_column(String(40))
    model: Mapped[str] = mapped_column(String(120))
    run_id: Mapped[str | None] = mapped_column(String(60), nullable=True)
    state: Mapped[str] = mapped_column(String(20))  # reserved | committed | released
    usd: Mapped[float] = mapped_column(Float)
    credits: Mapped[float | None] = mapped_column(Float, nullable=True)
    day: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD (UTC)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class RunRow(Base):
    __tablename__ = "gc_runs"
    id: Mapped[str] = mapped_column(String(60), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(120))
    max_cost_usd: Mapped[float | None] = mapped_column(Float, nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="running")  # running | done | stopped
    stop_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    force_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    lint_errors: Mapped[list | None] = mapped_column(JSON, nullable=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ReviewEventRow(Base):
    """Append-only log of every write a person made through the review app (or any other review client)."""

    __tablename__ = "gc_review_events"
    __table_args__ = (Index("ix_gc_review_events_shot", "project_id", "shot_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[str] = mapped_column(String(120))
    shot_id: Mapped[str] = mapped_column(String(120))
    take_id: Mapped[int | None] = mapped_column(ForeignKey("gc_takes.id"), nullable=True)
    action: Mapped[str] = mapped_column(String(20))  # approved | rejected | chosen | reroll | prompt
    who: Mapped[str] = mapped_column(String(120))  # the token's name, or "local"
    reason: Mapped[str | None] = mapped_column(String(40), nullable=True)  # failure taxonomy class
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class BreakerRow(Base):
    """A provider route's circuit breaker, shared by every shot and, in team mode, every worker."""

    __tablename__ = "gc_breakers"
    route: Mapped[str] = mapped_column(String(80), primary_key=True)
    failure_class: Mapped[str | None] = mapped_column(String(40), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    trips: Mapped[int] = mapped_column(Integer, default=0)
    until: Mapped[float | None] = mapped_column(
        Float, nullable=True
    )  # epoch seconds; inf: until a person acts
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class QuoteRow(Base):
    """A priced plan a person approves before a script or an agent may spend on it (``goldenchain approve``)."""

    __tablename__ = "gc_quotes"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(120))
    amount_usd: Mapped[float] = mapped_column(Float)
    shots: Mapped[list] = mapped_column(JSON)
    plan_hash: Mapped[str] = mapped_column(String(64))  # what was quoted: a changed plan needs a new quote
    expires_at: Mapped[float] = mapped_column(Float)  # epoch seconds
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | approved | revoked
    decided_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class WorkerRow(Base):
    """A worker's lease (team mode). Times are epoch seconds on the database's clock; ``generation`` grows
    with each start under the same executor id and with each takeover, and fences a create."""

    __tablename__ = "gc_workers"
    executor_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    generation: Mapped[int] = mapped_column(Integer, default=1)
    state: Mapped[str] = mapped_column(String(20), default="live")  # live | stopped | taken_over
    host: Mapped[str | None] = mapped_column(String(200), nullable=True)
    pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    queues: Mapped[str] = mapped_column(Text, default="")  # comma-separated
    lease_seconds: Mapped[float] = mapped_column(Float)
    started_at: Mapped[float] = mapped_column(Float)
    heartbeat_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float)
    taken_over_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    taken_over_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    recovered: Mapped[int | None] = mapped_column(Integer, nullable=True)  # workflows put back in queues


class CalibrationRunRow(Base):
    """One ``goldenchain calibrate``: the fixed prompts with fixed seeds through the project's routes; its takes
    are booked under ``ledger_project`` (the project's id with ``.calibration``)."""

    __tablename__ = "gc_calibration_runs"
    __table_args__ = (Index("ix_gc_calibration_runs_project", "project_id", "routes"),)
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(120))
    ledger_project: Mapped[str] = mapped_column(String(120))
    routes: Mapped[str] = mapped_column(String(300))  # "fal:fal-ai/flux/dev -> kling:kling-v1-5:pro"
    stills_only: Mapped[bool] = mapped_column(Boolean)
    prompts: Mapped[list] = mapped_column(JSON)  # [{"prompt", "shot", "seed"}]
    estimate_usd: Mapped[float] = mapped_column(Float)
    spent_usd: Mapped[float | None] = mapped_column(Float, nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="running")  # running | done
    started_at: Mapped[float] = mapped_column(Float)  # epoch seconds
    finished_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class CalibrationMetricRow(Base):
    """One metric of one prompt in one calibration run (a check's score with its threshold, a cost, ...)."""

    __tablename__ = "gc_calibration_metrics"
    __table_args__ = (Index("ix_gc_calibration_metrics_run", "run_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("gc_calibration_runs.id"))
    prompt_id: Mapped[str] = mapped_column(String(120))
    metric: Mapped[str] = mapped_column(String(80))
    value: Mapped[float] = mapped_column(Float)
    threshold: Mapped[float | None] = mapped_column(Float, nullable=True)


class AbtestRow(Base):
    """An A/B test of prompt or setting variants of one shot over paired seeds (``goldenchain abtest``)."""

    __tablename__ = "gc_abtests"
    __table_args__ = (UniqueConstraint("project_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[str] = mapped_column(String(120))
    name: Mapped[str] = mapped_column(String(60))
    spec: Mapped[dict] = mapped_column(JSON)  # shot, variants (name, prompt, settings), pairs, seeds
    report: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # the last report (statistics, winner)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AbtestResultRow(Base):
    """One variant's take of one pair: where the chain ended (accepted, or why not) and what it cost."""

    __tablename__ = "gc_abtest_results"
    __table_args__ = (UniqueConstraint("abtest_id", "variant", "pair"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    abtest_id: Mapped[int] = mapped_column(ForeignKey("gc_abtests.id"))
    variant: Mapped[str] = mapped_column(String(40))
    pair: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(BigInteger)
    shot_id: Mapped[str] = mapped_column(String(120))  # the pair's shot in the test's own ledger project
    outcome: Mapped[str] = mapped_column(String(20))  # accepted | rejected | failed | blocked | stopped
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    still_take_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    clip_take_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)


class AbtestRatingRow(Base):
    """A person's blind rating (1-5) of one variant's clip of one pair, given without knowing the variant."""

    __tablename__ = "gc_abtest_ratings"
    __table_args__ = (UniqueConstraint("abtest_id", "pair", "variant", "who"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    abtest_id: Mapped[int] = mapped_column(ForeignKey("gc_abtests.id"))
    pair: Mapped[int] = mapped_column(Integer)
    variant: Mapped[str] = mapped_column(String(40))
    rating: Mapped[int] = mapped_column(Integer)
    who: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

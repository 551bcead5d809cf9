"""The first ledger: projects, shots, takes, provider calls, artifacts, checks, spend, runs.

Revision ID: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

NOW = sa.func.now()


def upgrade() -> None:
    op.create_table(
        "gc_projects",
        sa.Column("id", sa.String(120), primary_key=True),
        sa.Column("client", sa.String(120), nullable=False),
        sa.Column("root", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
    )
    op.create_table(
        "gc_shots",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("project_id", sa.String(120), sa.ForeignKey("gc_projects.id"), nullable=False),
        sa.Column("shot_id", sa.String(120), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column("generation", sa.Integer, nullable=False),
        sa.Column("workflow_id", sa.String(300)),
        sa.Column("stage", sa.String(40), nullable=False),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("detail", sa.Text),
        sa.Column("still_take_id", sa.Integer),
        sa.Column("clip_take_id", sa.Integer),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.UniqueConstraint("project_id", "shot_id"),
    )
    op.create_table(
        "gc_takes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("idempotency_key", sa.String(64), nullable=False, unique=True),
        sa.Column("project_id", sa.String(120), sa.ForeignKey("gc_projects.id"), nullable=False),
        sa.Column("shot_id", sa.String(120), nullable=False),
        sa.Column("stage", sa.String(20), nullable=False),
        sa.Column("take_no", sa.Integer, nullable=False),
        sa.Column("provider", sa.String(40), nullable=False),
        sa.Column("model", sa.String(120), nullable=False),
        sa.Column("request", sa.JSON, nullable=False),
        sa.Column("seed", sa.Integer),
        sa.Column("parent_take_id", sa.Integer),
        sa.Column("state", sa.String(30), nullable=False),
        sa.Column("provider_task_id", sa.String(200)),
        sa.Column("handle", sa.JSON),
        sa.Column("result_url", sa.Text),
        sa.Column("artifact_sha256", sa.String(64)),
        sa.Column("verdict", sa.String(20)),
        sa.Column("failure_class", sa.String(40)),
        sa.Column("failure_reason", sa.Text),
        sa.Column("estimate_usd", sa.Float, nullable=False),
        sa.Column("cost_usd", sa.Float),
        sa.Column("billed_units", sa.Float),
        sa.Column("unit", sa.String(30)),
        sa.Column("submit_attempts", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
    )
    op.create_index("ix_gc_takes_shot", "gc_takes", ["project_id", "shot_id", "stage", "take_no"])
    op.create_table(
        "gc_provider_calls",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("take_id", sa.Integer, sa.ForeignKey("gc_takes.id"), nullable=False),
        sa.Column("op", sa.String(20), nullable=False),
        sa.Column("outcome", sa.String(40), nullable=False),
        sa.Column("provider_task_id", sa.String(200)),
        sa.Column("detail", sa.Text),
        sa.Column("at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
    )
    op.create_table(
        "gc_artifacts",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("size_bytes", sa.Integer, nullable=False),
        sa.Column("mime", sa.String(60), nullable=False),
        sa.Column("meta", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
    )
    op.create_table(
        "gc_checks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("take_id", sa.Integer, sa.ForeignKey("gc_takes.id"), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("verdict", sa.String(10), nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("threshold", sa.Float, nullable=False),
        sa.Column("direction", sa.String(20), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
    )
    op.create_index("ix_gc_checks_take", "gc_checks", ["take_id"])
    op.create_table(
        "gc_spend",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("take_id", sa.Integer, sa.ForeignKey("gc_takes.id"), nullable=False, unique=True),
        sa.Column("project_id", sa.String(120), nullable=False),
        sa.Column("client", sa.String(120), nullable=False),
        sa.Column("shot_id", sa.String(120), nullable=False),
        sa.Column("provider", sa.String(40), nullable=False),
        sa.Column("model", sa.String(120), nullable=False),
        sa.Column("run_id", sa.String(60)),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("usd", sa.Float, nullable=False),
        sa.Column("credits", sa.Float),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
    )
    op.create_table(
        "gc_runs",
        sa.Column("id", sa.String(60), primary_key=True),
        sa.Column("project_id", sa.String(120), nullable=False),
        sa.Column("max_cost_usd", sa.Float),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("stop_reason", sa.Text),
        sa.Column("started_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
    )


def downgrade() -> None:
    for t in (
        "gc_runs",
        "gc_spend",
        "gc_checks",
        "gc_artifacts",
        "gc_provider_calls",
        "gc_takes",
        "gc_shots",
        "gc_projects",
    ):
        op.drop_table(t)

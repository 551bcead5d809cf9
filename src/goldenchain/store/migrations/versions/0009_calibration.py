"""Calibration: each calibration run, its metrics per prompt, and each take's latency (submit to result).

Revision ID: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("gc_takes") as b:
        b.add_column(sa.Column("latency_s", sa.Float, nullable=True))
    op.create_table(
        "gc_calibration_runs",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("project_id", sa.String(120), nullable=False),
        sa.Column("ledger_project", sa.String(120), nullable=False),
        sa.Column("routes", sa.String(300), nullable=False),
        sa.Column("stills_only", sa.Boolean, nullable=False),
        sa.Column("prompts", sa.JSON, nullable=False),
        sa.Column("estimate_usd", sa.Float, nullable=False),
        sa.Column("spent_usd", sa.Float, nullable=True),
        sa.Column("status", sa.String(20), nullable=False, server_default="running"),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("finished_at", sa.Float, nullable=True),
    )
    op.create_index("ix_gc_calibration_runs_project", "gc_calibration_runs", ["project_id", "routes"])
    op.create_table(
        "gc_calibration_metrics",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(40), sa.ForeignKey("gc_calibration_runs.id"), nullable=False),
        sa.Column("prompt_id", sa.String(120), nullable=False),
        sa.Column("metric", sa.String(80), nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("threshold", sa.Float, nullable=True),
    )
    op.create_index("ix_gc_calibration_metrics_run", "gc_calibration_metrics", ["run_id"])


def downgrade() -> None:
    op.drop_index("ix_gc_calibration_metrics_run", "gc_calibration_metrics")
    op.drop_table("gc_calibration_metrics")
    op.drop_index("ix_gc_calibration_runs_project", "gc_calibration_runs")
    op.drop_table("gc_calibration_runs")
    with op.batch_alter_table("gc_takes") as b:
        b.drop_column("latency_s")

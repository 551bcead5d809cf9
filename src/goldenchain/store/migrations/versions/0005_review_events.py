"""Review events: who approved, rejected, chose or re-rolled what, and when.

Revision ID: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gc_review_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("project_id", sa.String(120), nullable=False),
        sa.Column("shot_id", sa.String(120), nullable=False),
        sa.Column("take_id", sa.Integer, sa.ForeignKey("gc_takes.id"), nullable=True),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("who", sa.String(120), nullable=False),
        sa.Column("reason", sa.String(40), nullable=True),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_index("ix_gc_review_events_shot", "gc_review_events", ["project_id", "shot_id"])


def downgrade() -> None:
    op.drop_index("ix_gc_review_events_shot", "gc_review_events")
    op.drop_table("gc_review_events")

"""Quotes: a paid run from a script or an agent needs a person's approval of its quote.

Revision ID: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gc_quotes",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("project_id", sa.String(120), nullable=False),
        sa.Column("amount_usd", sa.Float, nullable=False),
        sa.Column("shots", sa.JSON, nullable=False),
        sa.Column("plan_hash", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Column("status", sa.String(20), nullable=False, server_default="pending"),
        sa.Column("decided_by", sa.String(120), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("gc_quotes")

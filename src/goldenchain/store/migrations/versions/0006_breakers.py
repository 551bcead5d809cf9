"""Circuit breakers per provider route: an environment failure pauses the route for every shot and worker.

Revision ID: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gc_breakers",
        sa.Column("route", sa.String(80), primary_key=True),
        sa.Column("failure_class", sa.String(40), nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("trips", sa.Integer, nullable=False, server_default="0"),
        sa.Column("until", sa.Float, nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("gc_breakers")

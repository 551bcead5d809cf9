"""Worker leases (team mode): each worker renews its row; a lapsed one is taken over by a live worker.

Revision ID: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gc_workers",
        sa.Column("executor_id", sa.String(200), primary_key=True),
        sa.Column("generation", sa.Integer, nullable=False, server_default="1"),
        sa.Column("state", sa.String(20), nullable=False, server_default="live"),
        sa.Column("host", sa.String(200), nullable=True),
        sa.Column("pid", sa.Integer, nullable=True),
        sa.Column("queues", sa.Text, nullable=False, server_default=""),
        sa.Column("lease_seconds", sa.Float, nullable=False),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("heartbeat_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Column("taken_over_by", sa.String(200), nullable=True),
        sa.Column("taken_over_at", sa.Float, nullable=True),
        sa.Column("recovered", sa.Integer, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("gc_workers")

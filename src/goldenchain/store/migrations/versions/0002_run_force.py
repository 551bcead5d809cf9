"""Runs record why they spent despite lint errors (``run --force REASON``) and which errors those were.

Revision ID: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("gc_runs") as b:
        b.add_column(sa.Column("force_reason", sa.Text))
        b.add_column(sa.Column("lint_errors", sa.JSON))


def downgrade() -> None:
    with op.batch_alter_table("gc_runs") as b:
        b.drop_column("lint_errors")
        b.drop_column("force_reason")

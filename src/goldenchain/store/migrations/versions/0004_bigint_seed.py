"""Seeds are unsigned 32-bit (FLUX takes 0..2**32-1): a 64-bit column, so PostgreSQL does not overflow.

Revision ID: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("gc_takes") as b:
        b.alter_column("seed", type_=sa.BigInteger(), existing_type=sa.Integer(), existing_nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("gc_takes") as b:
        b.alter_column("seed", type_=sa.Integer(), existing_type=sa.BigInteger(), existing_nullable=True)

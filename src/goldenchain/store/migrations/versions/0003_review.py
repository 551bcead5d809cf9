"""Human review: a take can be approved or rejected by a person, and a shot can be granted extra takes
(re-roll) beyond the project's ``max_takes``.

Revision ID: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("gc_takes") as b:
        b.add_column(sa.Column("review", sa.String(20)))
        b.add_column(sa.Column("review_note", sa.Text))
    with op.batch_alter_table("gc_shots") as b:
        b.add_column(sa.Column("extra_still_takes", sa.Integer, nullable=False, server_default="0"))
        b.add_column(sa.Column("extra_clip_takes", sa.Integer, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("gc_shots") as b:
        b.drop_column("extra_clip_takes")
        b.drop_column("extra_still_takes")
    with op.batch_alter_table("gc_takes") as b:
        b.drop_column("review_note")
        b.drop_column("review")

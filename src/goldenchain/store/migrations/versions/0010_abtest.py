"""A/B tests: a test's spec and last report, each variant's outcome per pair, and blind ratings.

Revision ID: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gc_abtests",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("project_id", sa.String(120), nullable=False),
        sa.Column("name", sa.String(60), nullable=False),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column("report", sa.JSON, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.UniqueConstraint("project_id", "name"),
    )
    op.create_table(
        "gc_abtest_results",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("abtest_id", sa.Integer, sa.ForeignKey("gc_abtests.id"), nullable=False),
        sa.Column("variant", sa.String(40), nullable=False),
        sa.Column("pair", sa.Integer, nullable=False),
        sa.Column("seed", sa.BigInteger, nullable=False),
        sa.Column("shot_id", sa.String(120), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("detail", sa.Text, nullable=True),
        sa.Column("still_take_id", sa.Integer, nullable=True),
        sa.Column("clip_take_id", sa.Integer, nullable=True),
        sa.Column("cost_usd", sa.Float, nullable=False, server_default="0"),
        sa.UniqueConstraint("abtest_id", "variant", "pair"),
    )
    op.create_table(
        "gc_abtest_ratings",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("abtest_id", sa.Integer, sa.ForeignKey("gc_abtests.id"), nullable=False),
        sa.Column("pair", sa.Integer, nullable=False),
        sa.Column("variant", sa.String(40), nullable=False),
        sa.Column("rating", sa.Integer, nullable=False),
        sa.Column("who", sa.String(120), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.UniqueConstraint("abtest_id", "pair", "variant", "who"),
    )


def downgrade() -> None:
    op.drop_table("gc_abtest_ratings")
    op.drop_table("gc_abtest_results")
    op.drop_table("gc_abtests")

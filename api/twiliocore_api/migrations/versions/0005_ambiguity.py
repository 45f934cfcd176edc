"""Bulk intake: every rejected number of a bulk request, paged rather than in one column.

Revision ID: 0005_ambiguity
Revises: 0004_receipts
Create Date: 2026-12-06 12:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_ambiguity"
down_revision = "0004_receipts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "bulk_invalid",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bulk_job_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("number", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["bulk_job_id"], ["bulk_jobs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_bulk_invalid_job_position", "bulk_invalid", ["bulk_job_id", "position"], unique=False
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_bulk_invalid_job_position", table_name="bulk_invalid")
    op.drop_table("bulk_invalid")

"""Receipts: status callbacks stored once by what the signature covers, applied in batches.

``status_events.receipt_key`` (message SID, status, error code) is unique, so a callback
replayed with another ``I-Twilio-Idempotency-Token`` (or none) is stored once;
``status_events.applied`` marks the events the batch applier has applied (rows from before
this revision were applied when they arrived).

Revision ID: 0004_receipts
Revises: 0003_users
Create Date: 2026-12-06 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_receipts"
down_revision = "0003_users"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("status_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("receipt_key", sa.String(length=80), nullable=True))
        batch_op.add_column(
            sa.Column("applied", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.create_unique_constraint("uq_status_events_receipt_key", ["receipt_key"])
        batch_op.create_index("ix_status_events_applied_id", ["applied", "id"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("status_events", schema=None) as batch_op:
        batch_op.drop_index("ix_status_events_applied_id")
        batch_op.drop_constraint("uq_status_events_receipt_key", type_="unique")
        batch_op.drop_column("applied")
        batch_op.drop_column("receipt_key")

"""Panel search: two indexes on messages for one account's searches at scale.

``(account_id, status, id)``: one account and one status, newest first, is a range (an
account with none of that status: an empty range, not a walk of all its messages).
``(account_id, created_at)``: one account's dates (a customer's day) is a range.
On PostgreSQL, multi-column statistics on ``(account_id, status)``: without them the
planner multiplies the two columns' frequencies, expects an account's rare status to be
common and walks the primary key newest first hoping to meet 50 of them (all 1,000,000
rows when the account has none); with them it takes the index.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


_STATISTICS = "st_messages_account_id_status"


def upgrade() -> None:
    op.create_index(
        op.f("ix_messages_account_id_status_id"), "messages", ["account_id", "status", "id"]
    )
    op.create_index(
        op.f("ix_messages_account_id_created_at"), "messages", ["account_id", "created_at"]
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE STATISTICS {_STATISTICS} (mcv) ON account_id, status FROM messages")
        op.execute("ANALYZE messages")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP STATISTICS IF EXISTS {_STATISTICS}")
    op.drop_index(op.f("ix_messages_account_id_created_at"), table_name="messages")
    op.drop_index(op.f("ix_messages_account_id_status_id"), table_name="messages")

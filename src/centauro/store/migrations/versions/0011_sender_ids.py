"""Sender IDs: each account's granted senders and its default; the sender a message went
out with; routes that refuse alphanumeric senders; the UDH of binary (data_coding 4)
messages, whose body is kept as hex in ``text`` with ``encoding`` "binary".

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "sender_ids",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("value", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("is_default", sa.Boolean(), server_default=sa.text("(false)"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_sender_ids_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sender_ids")),
        sa.UniqueConstraint("account_id", "value", name=op.f("uq_sender_ids_account_id_value")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sender", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("udh", sa.String(length=280), nullable=True))
    with op.batch_alter_table("routes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "allow_alphanumeric", sa.Boolean(), server_default=sa.text("(true)"), nullable=False
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("routes", schema=None) as batch_op:
        batch_op.drop_column("allow_alphanumeric")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("udh")
        batch_op.drop_column("sender")
    op.drop_table("sender_ids")

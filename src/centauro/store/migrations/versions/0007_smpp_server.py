"""SMPP server: SMPP passwords, submits awaiting receipts, deliver_sm owed, bind status.

Revision ID: 0007
Revises: 0004
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "smpp_credentials",
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("system_id", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("max_binds", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_smpp_credentials_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_smpp_credentials")),
        sa.UniqueConstraint("system_id", name=op.f("uq_smpp_credentials_system_id")),
    )
    op.create_table(
        "smpp_submits",
        sa.Column("message_id", _ID, autoincrement=False, nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("registered", sa.SmallInteger(), nullable=False),
        sa.Column("source_addr", sa.String(length=32), nullable=False),
        sa.Column("dest_addr", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_smpp_submits")),
    )
    op.create_table(
        "smpp_deliveries",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("attempts", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_smpp_deliveries")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("smpp_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_smpp_deliveries_account_id_id"), ["account_id", "id"], unique=False
        )
    op.create_table(
        "smpp_server_status",
        sa.Column("worker_id", sa.String(length=64), nullable=False),
        sa.Column("snapshot", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("worker_id", name=op.f("pk_smpp_server_status")),
    )


def downgrade() -> None:
    op.drop_table("smpp_server_status")
    with op.batch_alter_table("smpp_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_smpp_deliveries_account_id_id"))
    op.drop_table("smpp_deliveries")
    op.drop_table("smpp_submits")
    op.drop_table("smpp_credentials")

"""Campaigns: the campaigns table, and messages.campaign_id with its partial index.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_CAMPAIGN = sa.text("campaign_id IS NOT NULL")


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("template", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("source_name", sa.String(length=200), server_default="", nullable=False),
        sa.Column("source_format", sa.String(length=8), nullable=False),
        sa.Column("source", sa.LargeBinary(), nullable=False),
        sa.Column("mapping", sa.Text(), nullable=False),
        sa.Column("preview", sa.Text(), nullable=False),
        sa.Column("total_rows", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("cost", sa.Integer(), nullable=False),
        sa.Column("charged", sa.Integer(), server_default="0", nullable=False),
        sa.Column("refunded", sa.Integer(), server_default="0", nullable=False),
        sa.Column("schedule_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_campaigns_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_campaigns_account_id_id"), "campaigns", ["account_id", "id"])
    op.add_column("messages", sa.Column("campaign_id", _ID, nullable=True))
    op.create_index(
        "ix_messages_campaign",
        "messages",
        ["campaign_id", "status"],
        sqlite_where=_CAMPAIGN,
        postgresql_where=_CAMPAIGN,
    )


def downgrade() -> None:
    op.drop_index("ix_messages_campaign", table_name="messages")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("campaign_id")
    op.drop_index(op.f("ix_campaigns_account_id_id"), table_name="campaigns")
    op.drop_table("campaigns")

"""Web panel: users, sessions, set-password tokens, sign-in throttle, signing key; the
indexes behind the dashboard (messages by creation time, top-ups by time).

Revision ID: 0008
Revises: 0004
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "panel_users",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("account_id", _ID, nullable=True),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("enabled", sa.Boolean(), server_default=sa.text("(true)"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_panel_users_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_panel_users")),
        sa.UniqueConstraint("email", name=op.f("uq_panel_users_email")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_panel_users_account_id"), "panel_users", ["account_id"])
    op.create_table(
        "panel_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["panel_users.id"], name=op.f("fk_panel_sessions_user_id_panel_users")
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_panel_sessions")),
    )
    op.create_index(op.f("ix_panel_sessions_user_id"), "panel_sessions", ["user_id"])
    op.create_table(
        "panel_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["panel_users.id"], name=op.f("fk_panel_tokens_user_id_panel_users")
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_panel_tokens")),
    )
    op.create_table(
        "panel_throttle",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_panel_throttle")),
    )
    op.create_table(
        "panel_settings",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_panel_settings")),
    )
    op.create_index(op.f("ix_messages_created_at_status"), "messages", ["created_at", "status"])
    op.create_index(op.f("ix_ledger_kind_created_at"), "ledger", ["kind", "created_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_ledger_kind_created_at"), table_name="ledger")
    op.drop_index(op.f("ix_messages_created_at_status"), table_name="messages")
    op.drop_table("panel_settings")
    op.drop_table("panel_throttle")
    op.drop_table("panel_tokens")
    op.drop_index(op.f("ix_panel_sessions_user_id"), table_name="panel_sessions")
    op.drop_table("panel_sessions")
    op.drop_index(op.f("ix_panel_users_account_id"), table_name="panel_users")
    op.drop_table("panel_users")

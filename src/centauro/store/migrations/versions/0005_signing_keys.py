"""Accounts get a random signing key for callback_url deliveries.

Until now those were signed with the hex of ``accounts.secret_hash``: anyone who could read
the database could forge them. Existing accounts get a fresh random key here (stored in
clear: migrations do not see the server key; ``accounts rotate-signing-key`` reseals).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Sealed secrets (``enc:v1:<Fernet token>``) are about 170 characters.
    with op.batch_alter_table("webhooks") as batch:
        batch.alter_column(
            "secret", type_=sa.String(300), existing_type=sa.String(100), existing_nullable=False
        )
    op.add_column("accounts", sa.Column("signing_key", sa.String(300), nullable=True))
    conn = op.get_bind()
    accounts = sa.table("accounts", sa.column("id", sa.BigInteger), sa.column("signing_key"))
    ids = conn.execute(sa.select(accounts.c.id)).scalars().all()
    for account_id in ids:
        conn.execute(
            sa.update(accounts)
            .where(accounts.c.id == account_id)
            .values(signing_key="whsec_" + secrets.token_urlsafe(32))
        )


def downgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("signing_key")
    with op.batch_alter_table("webhooks") as batch:
        batch.alter_column(
            "secret", type_=sa.String(100), existing_type=sa.String(300), existing_nullable=False
        )

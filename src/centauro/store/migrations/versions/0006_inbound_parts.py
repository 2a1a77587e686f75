"""Inbound multipart MO: the parts kept until their message is whole (or given up).

Revision ID: 0006_inbound_parts
Revises: 0004
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbound_parts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("connector", sa.String(length=64), nullable=False),
        sa.Column("sender", sa.String(length=32), nullable=False),
        sa.Column("recipient", sa.String(length=32), nullable=False),
        sa.Column("reference", sa.Integer(), nullable=False),
        sa.Column("total", sa.SmallInteger(), nullable=False),
        sa.Column("seq", sa.SmallInteger(), nullable=False),
        sa.Column("data_coding", sa.SmallInteger(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("inbound_id", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_parts")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("inbound_parts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inbound_parts_inbound_id_received_at"),
            ["inbound_id", "received_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_inbound_parts_sender_reference"), ["sender", "reference"], unique=False
        )
    with op.batch_alter_table("inbound", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("parts", sa.SmallInteger(), server_default="1", nullable=False)
        )
        batch_op.add_column(
            sa.Column("complete", sa.Boolean(), server_default=sa.text("(true)"), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("inbound", schema=None) as batch_op:
        batch_op.drop_column("complete")
        batch_op.drop_column("parts")
    with op.batch_alter_table("inbound_parts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbound_parts_sender_reference"))
        batch_op.drop_index(batch_op.f("ix_inbound_parts_inbound_id_received_at"))
    op.drop_table("inbound_parts")

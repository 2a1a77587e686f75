"""Reports: messages counted per UTC hour, account, connector and status, and the
roll-up's progress row (the reports page reads closed hours from the summary instead of
scanning the messages of a whole period on every view).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_hours",
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("connector", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("segments", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "hour", "account_id", "connector", "status", name=op.f("pk_report_hours")
        ),
    )
    op.create_index(op.f("ix_report_hours_account_id_hour"), "report_hours", ["account_id", "hour"])
    op.create_table(
        "report_rollup",
        sa.Column("name", sa.String(16), nullable=False),
        sa.Column("rolled_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deep_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("runner", sa.String(64), nullable=True),
        sa.Column("held_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_report_rollup")),
    )
    # Its one row exists from the start: taking the lease is then one UPDATE (no
    # two processes racing to insert it).
    op.execute("INSERT INTO report_rollup (name) VALUES ('hours')")


def downgrade() -> None:
    op.drop_table("report_rollup")
    op.drop_index(op.f("ix_report_hours_account_id_hour"), table_name="report_hours")
    op.drop_table("report_hours")

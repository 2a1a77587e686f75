"""Reports: messages counted per UTC hour, account, connector and status; the same per
UTC day, and per hour over all accounts (both derived from the hours); and the roll-up's
progress row. The reports page reads these instead of scanning the messages of a whole
period on every view.

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


def _per_account(table: str, time: str) -> None:
    """``report_hours`` or ``report_days``: counts per time, account, connector, status."""
    op.create_table(
        table,
        sa.Column(time, sa.DateTime(timezone=True), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("connector", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("segments", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            time, "account_id", "connector", "status", name=op.f(f"pk_{table}")
        ),
    )


def upgrade() -> None:
    _per_account("report_hours", "hour")
    op.create_index(op.f("ix_report_hours_account_id_hour"), "report_hours", ["account_id", "hour"])
    _per_account("report_days", "day")
    op.create_table(
        "report_totals",
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("segments", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("hour", "status", name=op.f("pk_report_totals")),
    )
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
    op.drop_table("report_totals")
    op.drop_table("report_days")
    op.drop_index(op.f("ix_report_hours_account_id_hour"), table_name="report_hours")
    op.drop_table("report_hours")

"""posting slots: the times of the week an account posts at

Revision ID: 0038
Revises: 0037
Create Date: 2026-12-03

Issue 17, point 2: publisher.posting_slots keeps each account's weekly slots (weekday, minute
of the day, Stockholm wall clock); the composer offers the next one no post holds.
"""
from alembic import op
import sqlalchemy as sa

import core.db


revision = '0038'
down_revision = '0037'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "posting_slots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("minute_of_day", sa.SmallInteger(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"],
                                name=op.f("fk_posting_slots_account_id_accounts"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"],
                                name=op.f("fk_posting_slots_created_by_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_posting_slots")),
        sa.UniqueConstraint("account_id", "weekday", "minute_of_day",
                            name=op.f("uq_posting_slots_account_id")),
    )


def downgrade() -> None:
    op.drop_table("posting_slots")

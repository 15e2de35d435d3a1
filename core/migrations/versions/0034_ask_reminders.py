"""a campaign's asks are reminded once before its deadline

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-03

Issue 13: campaigns.reminder_hours (how long before the deadline those asked who have neither
queued a post nor said no get one reminder; 48 unless the lead chose otherwise) and
campaign_asks.reminded_at (set by the one worker whose conditional UPDATE claimed the ask).
Plain ADD COLUMN on both databases.
"""
from alembic import op
import sqlalchemy as sa

import core.db


revision = '0034'
down_revision = '0033'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("campaigns", sa.Column("reminder_hours", sa.Integer(), nullable=False,
                                         server_default="48"))
    op.add_column("campaign_asks", sa.Column("reminded_at", core.db.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("campaign_asks") as batch:
        batch.drop_column("reminded_at")
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("reminder_hours")

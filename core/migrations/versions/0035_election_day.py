"""the election day the plan counts down to, when one is chosen

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-03

Issue 13, points 6 and 7: the county page (campaigns.county) reads the municipalities of 0022;
the election plan (campaigns.election) counts down to the day in `election_day` (one row, set
by a campaign lead or an administrator) or, without it, to the next general election by the
rule (the second Sunday of September every fourth year from 2014).
"""
from alembic import op
import sqlalchemy as sa

import core.db


revision = '0035'
down_revision = '0034'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "election_day",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("set_by_id", sa.Integer(), nullable=True),
        sa.Column("set_at", core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["set_by_id"], ["users.id"],
                                name=op.f("fk_election_day_set_by_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_election_day")),
    )


def downgrade() -> None:
    op.drop_table("election_day")

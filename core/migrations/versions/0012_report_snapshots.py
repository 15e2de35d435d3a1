"""report snapshots: a computed report stored for every worker to serve

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02

A report of a period is counted once and served from report_snapshots while it is young
(reports.snapshots): a board meeting, the monthly e-mail and the PDF ask for the same figures.
"""
from alembic import op
import sqlalchemy as sa

import core.db


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_snapshots",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("computed_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_report_snapshots")),
    )


def downgrade() -> None:
    op.drop_table("report_snapshots")

"""drafts: what a writer typed in the composer and has not queued, autosaved

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-03

Issue 17, point 1: publisher.drafts keeps the composer's fields as JSON per writer, newest
first by ix_drafts_author_updated; a draft goes with its writer.
"""
from alembic import op
import sqlalchemy as sa

import core.db


revision = '0032'
down_revision = '0031'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("summary", sa.String(length=120), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"],
                                name=op.f("fk_drafts_author_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drafts")),
    )
    op.create_index("ix_drafts_author_updated", "drafts", ["author_id", "updated_at"])


def downgrade() -> None:
    op.drop_table("drafts")

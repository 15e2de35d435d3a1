"""post_imports: a file of posts as its preview found it, until it is confirmed

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-03

Issue 17, point 7: publisher.bulk_import keeps each uploaded file's checked rows as JSON, so
the confirmation queues what the preview showed and never trusts the browser.
"""
from alembic import op
import sqlalchemy as sa

import core.db


revision = '0037'
down_revision = '0036'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "post_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("rows", sa.JSON(), nullable=False),
        sa.Column("notes", sa.JSON(), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("confirmed_at", core.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_post_imports_user_id_users"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"],
                                name=op.f("fk_post_imports_organisation_id_organisations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post_imports")),
    )
    op.create_index("ix_post_imports_user_created", "post_imports", ["user_id", "created_at"])


def downgrade() -> None:
    op.drop_table("post_imports")

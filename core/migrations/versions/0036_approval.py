"""approval: accounts and associations whose posts wait for a reviewer; the review thread

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-03

Issue 17, point 4: accounts.needs_approval and organisations.posts_need_approval (set by an
admin) put new and changed posts in the delivery state awaiting_approval, which no claim takes;
post_reviews keeps who sent, commented, approved or sent back a post, when and with what words.
"""
from alembic import op
import sqlalchemy as sa

import core.db


revision = '0036'
down_revision = '0035'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("accounts", sa.Column("needs_approval", sa.Boolean(), nullable=False,
                                        server_default=sa.false()))
    op.add_column("organisations", sa.Column("posts_need_approval", sa.Boolean(),
                                             nullable=False, server_default=sa.false()))
    op.create_table(
        "post_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("at", core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"],
                                name=op.f("fk_post_reviews_post_id_posts"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_post_reviews_user_id_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post_reviews")),
    )
    op.create_index("ix_post_reviews_post_id", "post_reviews", ["post_id", "id"])


def downgrade() -> None:
    op.drop_table("post_reviews")
    with op.batch_alter_table("organisations") as batch:
        batch.drop_column("posts_need_approval")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("needs_approval")

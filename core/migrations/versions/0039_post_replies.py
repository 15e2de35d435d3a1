"""post replies: a post may answer a post or comment where it was said

Revision ID: 0039
Revises: 0038
Create Date: 2026-12-03

Issue 17, point 8: posts.reply_to_platform and posts.reply_to_external_id name the X post or
Facebook comment a reply is written under (monitor.respond.thread_of → publisher.replies); the
adapters pass them to the platform and reconcile replies by them.
"""
from alembic import op
import sqlalchemy as sa


revision = '0039'
down_revision = '0038'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reply_to_platform", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("reply_to_external_id", sa.String(length=128),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_column("reply_to_external_id")
        batch_op.drop_column("reply_to_platform")

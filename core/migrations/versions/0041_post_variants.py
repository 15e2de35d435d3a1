"""post variants: an optional text per network beside the post's one text

Revision ID: 0041
Revises: 0040
Create Date: 2026-12-03

Issue 17, point 1: X and Facebook read differently (280 weighted characters and hashtags on
X; a longer, calmer text on a Page). A post keeps its one text and, where the writer gave one,
the text that goes to X or to Facebook instead (publisher.models.Post.text_for).
"""
from alembic import op
import sqlalchemy as sa


revision = '0041'
down_revision = '0040'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('posts') as batch:
        batch.add_column(sa.Column('text_x', sa.Text(), nullable=True))
        batch.add_column(sa.Column('text_facebook', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('posts') as batch:
        batch.drop_column('text_facebook')
        batch.drop_column('text_x')

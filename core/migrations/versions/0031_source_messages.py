"""a source's failure kept as a message to translate, not only as English text

Revision ID: 0031
Revises: 0022
Create Date: 2026-12-03

Issue 17: "The host name could not be found (…)" was stored filled in, in English, and shown so
in the Swedish UI. sources.last_error_message and source_polls.detail_message keep the msgid and
its parameters ({"msgid", "params"}) for web.filters.stored_message; last_error stays English
for logs and the command line. Plain ADD COLUMN on both databases.
"""
from alembic import op
import sqlalchemy as sa


revision = '0031'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("sources", sa.Column("last_error_message", sa.JSON(), nullable=True))
    op.add_column("source_polls", sa.Column("detail_message", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("source_polls") as batch:
        batch.drop_column("detail_message")
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("last_error_message")

"""a mention's tone: its sentiment score and label, scored at ingest

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02

monitor.sentiment scores a text's tone (AFINN-sv-165, negation, inflections); the board's report
counts tones per issue and over time. Mentions stored before keep NULL ("not scored"): scoring
a million stored texts is a job of its own, not a migration's.
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN on both databases: a batch rebuild of mentions on SQLite would drop the
    # full-text table's delete trigger (0009) with the old table.
    op.add_column("mentions", sa.Column("sentiment", sa.Float(), nullable=True))
    op.add_column("mentions", sa.Column("tone", sa.String(length=8), nullable=True))


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("mentions") as batch:
        batch.drop_column("tone")
        batch.drop_column("sentiment")
    if sqlite:  # the rebuilt table needs the full-text table's delete trigger again (0009)
        op.execute("CREATE TRIGGER mention_text_delete AFTER DELETE ON mentions BEGIN "
                   "DELETE FROM mention_text WHERE rowid = old.id; END")

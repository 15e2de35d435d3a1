"""private persons' words removed after the retention time or on request, and the privacy log

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02

monitor.privacy: mentions.personal_removed_at marks a private person's post whose words and
identity are gone; ix_mentions_personal_kept finds the ones still kept, oldest first. Plain
ADD COLUMN (a batch rebuild of mentions on SQLite would drop the full-text delete trigger).
"""
from alembic import op
import sqlalchemy as sa

import core.db


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

PERSONAL_KEPT = ("(source_kind = 'x_search' OR source_kind = 'fb_comments') "
                 "AND own_account_id IS NULL AND personal_removed_at IS NULL")


def upgrade() -> None:
    op.add_column("mentions", sa.Column("personal_removed_at", core.db.UTCDateTime(),
                                        nullable=True))
    op.create_index("ix_mentions_personal_kept", "mentions", ["first_seen_at", "id"],
                    postgresql_where=sa.text(PERSONAL_KEPT), sqlite_where=sa.text(PERSONAL_KEPT))
    op.create_table(
        "privacy_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", core.db.UTCDateTime(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("mentions", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"],
                                name=op.f("fk_privacy_log_actor_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_log")),
    )


def downgrade() -> None:
    op.drop_table("privacy_log")
    op.drop_index("ix_mentions_personal_kept", table_name="mentions")
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("mentions") as batch:
        batch.drop_column("personal_removed_at")
    if sqlite:  # the rebuilt table needs the full-text table's delete trigger again (0009)
        op.execute("CREATE TRIGGER mention_text_delete AFTER DELETE ON mentions BEGIN "
                   "DELETE FROM mention_text WHERE rowid = old.id; END")

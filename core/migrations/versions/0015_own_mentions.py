"""our own accounts' posts among the mentions: who wrote a mention, and whether it is ours

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03

An X search finds the district's own tweets like anyone's. mentions gains the author as the
source gave it (author_platform, author_id, author_handle in lower case) and own_account_id
(monitor.own): set when the author is one of our accounts; the log marks those, the report and
the alerts leave them out. Partial indexes, since few mentions have an author and fewer are ours.

Data: X search mentions stored before have their author's handle in the title ("@handle: …",
monitor.sources.x_search), so their author_handle is filled from it and those whose handle is
one of our X accounts' are marked ours. Their author ids, and the authors of Facebook comments
stored before (the title holds only a display name), are not known: those stay unmarked.
"""
import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

OWN = "own_account_id IS NOT NULL"


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    # Plain ADD COLUMN on both databases: a batch rebuild of mentions on SQLite would drop the
    # full-text table's delete trigger (0009) with the old table. SQLite takes the foreign key
    # in the column's own definition (it cannot ALTER a constraint in).
    op.add_column("mentions", sa.Column("author_platform", sa.String(length=16), nullable=True))
    op.add_column("mentions", sa.Column("author_id", sa.String(length=64), nullable=True))
    op.add_column("mentions", sa.Column("author_handle", sa.String(length=200), nullable=True))
    if sqlite:
        op.execute("ALTER TABLE mentions ADD COLUMN own_account_id INTEGER "
                   "CONSTRAINT fk_mentions_own_account_id_accounts "
                   "REFERENCES accounts (id)")
    else:
        op.add_column("mentions", sa.Column(
            "own_account_id", sa.Integer(),
            sa.ForeignKey("accounts.id", name=op.f("fk_mentions_own_account_id_accounts")),
            nullable=True))
    op.create_index("ix_mentions_own_sort_at", "mentions", ["sort_at", "id"],
                    postgresql_where=sa.text(OWN), sqlite_where=sa.text(OWN))
    op.create_index("ix_mentions_author_id", "mentions", ["author_platform", "author_id"],
                    postgresql_where=sa.text("author_id IS NOT NULL"),
                    sqlite_where=sa.text("author_id IS NOT NULL"))
    op.create_index("ix_mentions_author_handle", "mentions",
                    ["author_platform", "author_handle"],
                    postgresql_where=sa.text("author_handle IS NOT NULL"),
                    sqlite_where=sa.text("author_handle IS NOT NULL"))

    # "@handle: text": the handle ends at the first colon (X handles hold none).
    colon = "instr(title, ':')" if sqlite else "strpos(title, ':')"
    op.execute(
        f"UPDATE mentions SET author_platform = 'x', "
        f"author_handle = lower(substr(title, 2, {colon} - 2)) "
        f"WHERE source_kind = 'x_search' AND substr(title, 1, 1) = '@' AND {colon} > 2")
    op.execute(
        "UPDATE mentions SET own_account_id = (SELECT min(a.id) FROM accounts a "
        "WHERE a.platform = 'x' AND lower(a.handle) = mentions.author_handle) "
        "WHERE author_platform = 'x' AND author_handle IN "
        "(SELECT lower(handle) FROM accounts WHERE platform = 'x' AND handle <> '')")


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.drop_index("ix_mentions_author_handle", table_name="mentions")
    op.drop_index("ix_mentions_author_id", table_name="mentions")
    op.drop_index("ix_mentions_own_sort_at", table_name="mentions")
    if sqlite:  # the foreign key is inline: the table is rebuilt, and loses the trigger (0009)
        with op.batch_alter_table("mentions") as batch:
            batch.drop_column("own_account_id")
            batch.drop_column("author_handle")
            batch.drop_column("author_id")
            batch.drop_column("author_platform")
        op.execute("CREATE TRIGGER mention_text_delete AFTER DELETE ON mentions BEGIN "
                   "DELETE FROM mention_text WHERE rowid = old.id; END")
    else:
        op.drop_constraint(op.f("fk_mentions_own_account_id_accounts"), "mentions",
                           type_="foreignkey")
        op.drop_column("mentions", "own_account_id")
        op.drop_column("mentions", "author_handle")
        op.drop_column("mentions", "author_id")
        op.drop_column("mentions", "author_platform")

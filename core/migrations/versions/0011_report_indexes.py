"""the board's report counts a period from indexes alone

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02

A report counts a period's mentions by outlet and kind, its issue, party and person links, and
the outlets that carried each story. The existing indexes lead with the filter value (the log's
"this issue, newest first"); these lead with the time, and hold every column the counts read, so
a month is one range of an index with no visit to the table.
"""
from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_mentions_sort_at_outlet_kind", "mentions", ["sort_at", "outlet", "source_kind", "id"]),
    ("ix_mention_watchlists_sort_at", "mention_watchlists",
     ["sort_at", "watchlist_id", "mention_id"]),
    ("ix_mention_parties_sort_at", "mention_parties", ["sort_at", "party", "mention_id"]),
    ("ix_mention_people_sort_at", "mention_people", ["sort_at", "person_id", "mention_id"]),
    ("ix_sightings_mention_id_outlet", "sightings", ["mention_id", "outlet"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)

"""mentions at scale: a stored sort time, parties and people as rows, outlets, filter indexes

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26

The log orders by COALESCE(published_at, first_seen_at), which no index served: every page
sorted the whole table. It is stored now as mentions.sort_at, copied onto each link row
(issue, party, person) so that "this value, newest first" is one backward index range scan.
The comma-separated mentions.parties ("V,S,M") and mentions.people ("3,7") become rows of
mention_parties and mention_people, carried over in batches by a small Python loop (splitting
strings in SQL differs between SQLite and PostgreSQL); the downgrade writes them back as strings.
"""
from alembic import op
import sqlalchemy as sa
import core.db


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

BATCH = 1000
# The parliament's order (monitor.parties.CODES when this was written): the downgrade's strings.
CODES = ("V", "S", "MP", "C", "L", "KD", "M", "SD")

MENTION_INDEXES = (
    ("ix_mentions_sort_at_id", ["sort_at", "id"]),
    ("ix_mentions_first_seen_at_id", ["first_seen_at", "id"]),
    ("ix_mentions_outlet_sort_at", ["outlet", "sort_at", "id"]),
    ("ix_mentions_source_kind_sort_at", ["source_kind", "sort_at", "id"]),
    ("ix_mentions_triage_sort_at", ["triage", "sort_at", "id"]),
    ("ix_mentions_assigned_to_id_sort_at", ["assigned_to_id", "sort_at", "id"]),
)


def _listed(value):
    return list(dict.fromkeys(part.strip() for part in (value or "").split(",") if part.strip()))


def _carry_over(bind) -> None:
    """mentions.parties and mentions.people → rows, a batch of mentions at a time. sort_at is
    read and written back as the database gives it, so both databases keep their format."""
    people = set(bind.execute(sa.text("SELECT id FROM people")).scalars())
    last = 0
    while True:
        rows = bind.execute(sa.text(
            "SELECT id, parties, people, sort_at FROM mentions WHERE id > :last "
            "ORDER BY id LIMIT :n"), {"last": last, "n": BATCH}).all()
        if not rows:
            return
        parties, persons = [], []
        for mention_id, listed_parties, listed_people, sort_at in rows:
            for code in dict.fromkeys(c.upper()[:8] for c in _listed(listed_parties)):
                parties.append({"m": mention_id, "p": code, "s": sort_at})
            for person in _listed(listed_people):
                if person.isdigit() and int(person) in people:
                    persons.append({"m": mention_id, "p": int(person), "s": sort_at})
        if parties:
            bind.execute(sa.text("INSERT INTO mention_parties (mention_id, party, sort_at) "
                                 "VALUES (:m, :p, :s)"), parties)
        if persons:
            bind.execute(sa.text("INSERT INTO mention_people (mention_id, person_id, sort_at) "
                                 "VALUES (:m, :p, :s)"), persons)
        last = rows[-1][0]


def upgrade() -> None:
    bind = op.get_bind()
    op.create_table('outlets',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_outlets'))
    )
    op.create_table('mention_parties',
    sa.Column('mention_id', sa.Integer(), nullable=False),
    sa.Column('party', sa.String(length=8), nullable=False),
    sa.Column('sort_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['mention_id'], ['mentions.id'], name=op.f('fk_mention_parties_mention_id_mentions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('mention_id', 'party', name=op.f('pk_mention_parties'))
    )
    op.create_table('mention_people',
    sa.Column('mention_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('sort_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['mention_id'], ['mentions.id'], name=op.f('fk_mention_people_mention_id_mentions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_mention_people_person_id_people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('mention_id', 'person_id', name=op.f('pk_mention_people'))
    )
    with op.batch_alter_table('mentions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sort_at', core.db.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('mention_watchlists', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sort_at', core.db.UTCDateTime(timezone=True), nullable=True))
    op.execute("UPDATE mentions SET sort_at = COALESCE(published_at, first_seen_at)")
    op.execute("UPDATE mention_watchlists SET sort_at = (SELECT m.sort_at FROM mentions m "
               "WHERE m.id = mention_watchlists.mention_id)")
    _carry_over(bind)
    op.execute("INSERT INTO outlets (name) SELECT DISTINCT outlet FROM mentions "
               "WHERE outlet <> ''")

    with op.batch_alter_table('mentions', schema=None) as batch_op:
        batch_op.alter_column('sort_at', existing_type=core.db.UTCDateTime(timezone=True),
                              nullable=False)
        batch_op.drop_column('parties')
        batch_op.drop_column('people')
        batch_op.drop_index('ix_mentions_first_seen_at')
        for name, columns in MENTION_INDEXES:
            batch_op.create_index(name, columns, unique=False)
    with op.batch_alter_table('mention_watchlists', schema=None) as batch_op:
        batch_op.alter_column('sort_at', existing_type=core.db.UTCDateTime(timezone=True),
                              nullable=False)
        batch_op.drop_index('ix_mention_watchlists_watchlist_id')
        batch_op.create_index('ix_mention_watchlists_watchlist_id_sort_at',
                              ['watchlist_id', 'sort_at', 'mention_id'], unique=False)
    with op.batch_alter_table('mention_parties', schema=None) as batch_op:
        batch_op.create_index('ix_mention_parties_party_sort_at',
                              ['party', 'sort_at', 'mention_id'], unique=False)
    with op.batch_alter_table('mention_people', schema=None) as batch_op:
        batch_op.create_index('ix_mention_people_person_id_sort_at',
                              ['person_id', 'sort_at', 'mention_id'], unique=False)


def _carry_back(bind) -> None:
    """The rows → the comma-separated strings of 0007, parties in the parliament's order."""
    rank = {code: i for i, code in enumerate(CODES)}
    parties: dict[int, list[str]] = {}
    for mention_id, code in bind.execute(sa.text("SELECT mention_id, party FROM mention_parties")):
        parties.setdefault(mention_id, []).append(code)
    people: dict[int, list[int]] = {}
    for mention_id, person in bind.execute(sa.text(
            "SELECT mention_id, person_id FROM mention_people")):
        people.setdefault(mention_id, []).append(person)
    updates = [{"id": m, "parties": ",".join(sorted(codes, key=lambda c: (rank.get(c, 99), c))),
                "people": ",".join(str(p) for p in sorted(people.get(m, [])))}
               for m, codes in parties.items()]
    updates += [{"id": m, "parties": "", "people": ",".join(str(p) for p in sorted(ids))}
                for m, ids in people.items() if m not in parties]
    for start in range(0, len(updates), BATCH):
        bind.execute(sa.text("UPDATE mentions SET parties = :parties, people = :people "
                             "WHERE id = :id"), updates[start:start + BATCH])


def downgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table('mentions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parties', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('people', sa.Text(), nullable=True))
    op.execute("UPDATE mentions SET parties = '', people = ''")
    _carry_back(bind)
    with op.batch_alter_table('mention_people', schema=None) as batch_op:
        batch_op.drop_index('ix_mention_people_person_id_sort_at')
    with op.batch_alter_table('mention_parties', schema=None) as batch_op:
        batch_op.drop_index('ix_mention_parties_party_sort_at')
    with op.batch_alter_table('mention_watchlists', schema=None) as batch_op:
        batch_op.drop_index('ix_mention_watchlists_watchlist_id_sort_at')
        batch_op.create_index('ix_mention_watchlists_watchlist_id', ['watchlist_id'], unique=False)
        batch_op.drop_column('sort_at')
    with op.batch_alter_table('mentions', schema=None) as batch_op:
        for name, _columns in reversed(MENTION_INDEXES):
            batch_op.drop_index(name)
        batch_op.create_index('ix_mentions_first_seen_at', ['first_seen_at'], unique=False)
        batch_op.alter_column('parties', existing_type=sa.String(length=100), nullable=False)
        batch_op.alter_column('people', existing_type=sa.Text(), nullable=False)
        batch_op.drop_column('sort_at')
    op.drop_table('mention_people')
    op.drop_table('mention_parties')
    op.drop_table('outlets')

"""full-text search of mentions in Swedish: a GIN-indexed tsvector (PostgreSQL), FTS5 (SQLite)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

The log's search was ILIKE '%word%' over every title and text. PostgreSQL gets a stored generated
column, mentions.search_vector = to_tsvector('swedish', title and text with accents folded as
monitor.normalize.fold_term folds them), under a GIN index; the database keeps it in step. SQLite
gets the FTS5 table mention_text (rowid = mentions.id; stems and words columns written by
monitor.fulltext at ingest; filled here for the mentions already stored) and a trigger that
drops a mention's row with the mention. Neither is mapped on the models (monitor.fulltext reads
them; core.migrate.outside_models keeps them out of the model comparison).
"""
import importlib

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

BATCH = 500
# Accented letters and what fold_term makes of them (å, ä, ö stay; é → e, ø → ö, æ → ä), when
# this was written: PostgreSQL folds the text with translate() before the Swedish stemmer.
# translate() costs the text's length times the list's, so each list is applied only to a text
# that holds one of its letters (a regular expression is cheap): most Swedish text holds none
# but å, ä and ö, and a full list on every row made the column eight times dearer.
LATIN1_FROM = (
    'ÀÁÂÃÆÇÈÉÊËÌÍÎÏÐÑÒÓÔÕØÙÚÛÝàáâãæçèéêëìíîïðñòóôõøùúûýÿ'
)
LATIN1_TO = (
    'aaaaäceeeeiiiidnooooöuuuyaaaaäceeeeiiiidnooooöuuuyy'
)
EXTENDED_FROM = (
    'ĀāĂăĄąĆćĈĉĊċČčĎďĐđĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥĦħĨĩĪīĬĭĮįİıĴĵĶķĹĺĻļĽľ'
    'ŁłŃńŅņŇňŌōŎŏŐőŔŕŖŗŘřŚśŜŝŞşŠšŢţŤťŨũŪūŬŭŮůŰűŲųŴŵŶŷŸŹźŻżŽžƠơƯưǍ'
    'ǎǏǐǑǒǓǔǕǖǗǘǙǚǛǜǞǟǠǡǦǧǨǩǪǫǬǭǰǴǵǸǹǺǻȀȁȂȃȄȅȆȇȈȉȊȋȌȍȎȏȐȑȒȓȔȕȖȗȘș'
    'ȚțȞȟȦȧȨȩȪȫȬȭȮȯȰȱȲȳ'
)
EXTENDED_TO = (
    'aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiiijjkkllllll'
    'llnnnnnnoooooorrrrrrssssssssttttuuuuuuuuuuuuwwyyyzzzzzzoouua'
    'aiioouuuuuuuuuuaaaaggkkoooojggnnaaaaaaeeeeiiiioooorrrruuuuss'
    'tthhaaeeooooooooyy'
)
LATIN1_ACCENTS = "[À-ÃÆ-ÕØ-ãæ-õø-ÿ]"  # Latin-1's letters with accents, but not Å Ä Ö å ä ö
EXTENDED_ACCENTS = "[Ā-ɏ]"  # Latin Extended-A and -B

DOCUMENT = "coalesce(title, '') || ' ' || coalesce(text, '')"
FOLDED_EXTENDED = (f"CASE WHEN {DOCUMENT} ~ '{EXTENDED_ACCENTS}' THEN translate({DOCUMENT}, "
                   f"'{EXTENDED_FROM}', '{EXTENDED_TO}') ELSE {DOCUMENT} END")
FOLDED = (f"CASE WHEN {DOCUMENT} ~ '{LATIN1_ACCENTS}' THEN translate({FOLDED_EXTENDED}, "
          f"'{LATIN1_FROM}', '{LATIN1_TO}') ELSE {FOLDED_EXTENDED} END")


def _postgres() -> None:
    op.execute(
        "ALTER TABLE mentions ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
        f"(to_tsvector('swedish'::regconfig, {FOLDED})) STORED")
    op.execute("CREATE INDEX ix_mentions_search_vector ON mentions USING gin (search_vector)")


def _sqlite() -> None:
    # The domain's own stemmer and folding, named rather than imported (core imports no domain
    # package): the rows must be what monitor.fulltext writes at ingest.
    fulltext = importlib.import_module("monitor.fulltext")
    op.execute("CREATE VIRTUAL TABLE mention_text USING fts5(stems, words, "
               "tokenize = 'unicode61 remove_diacritics 0')")
    op.execute("CREATE TRIGGER mention_text_delete AFTER DELETE ON mentions BEGIN "
               "DELETE FROM mention_text WHERE rowid = old.id; END")
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(sa.text(
            "SELECT id, title, text FROM mentions WHERE id > :last ORDER BY id LIMIT :n"),
            {"last": last, "n": BATCH}).all()
        if not rows:
            return
        values = []
        for mention_id, title, text in rows:
            raw = f"{title or ''}\n{text or ''}"
            values.append({"id": mention_id, "stems": fulltext.stems(raw),
                           "words": fulltext.folded_text(raw)})
        bind.execute(sa.text("INSERT INTO mention_text (rowid, stems, words) "
                             "VALUES (:id, :stems, :words)"), values)
        last = rows[-1][0]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _postgres()
    else:
        _sqlite()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_mentions_search_vector")
        op.execute("ALTER TABLE mentions DROP COLUMN search_vector")
    else:
        op.execute("DROP TRIGGER mention_text_delete")
        op.execute("DROP TABLE mention_text")

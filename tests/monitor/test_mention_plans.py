"""On PostgreSQL the log's pages are read from an index in the log's order: the first page, a
party's and an issue's newest mentions never sort the table, and a search reads the full-text
index, never the table (EXPLAIN on a seeded, analysed table; the planner's choice, nothing
forced)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.dialects import postgresql

from core import migrate
from core.db import Database
from monitor.mention_search import MentionFilter, Position, filtered, page_query

pytestmark = pytest.mark.postgres

MENTIONS = 6000
WATCHLISTS = 40

SEED = [
    f"INSERT INTO watchlists (id, name, query, priority, active, created_at, updated_at) "
    f"SELECT g, 'Fråga ' || g, 'ord' || g, 'normal', true, now(), now() "
    f"FROM generate_series(1, {WATCHLISTS}) g",
    # Two years of mentions, ten an hour; a fifth unpublished; a text as long as an article's.
    f"INSERT INTO mentions (id, title, outlet, source_kind, text, published_at, first_seen_at, "
    f"sort_at, hits, triage, updated_at) "
    f"SELECT g, 'Nyhet ' || g, 'Tidning ' || (g % 50), 'feed', repeat('text ', 200) || "
    f"CASE WHEN g % 200 = 0 THEN ' vårdcentralen i Arvika' ELSE '' END, "
    f"CASE WHEN g % 5 = 0 THEN NULL ELSE t END, t, t, '[]', 'new', t "
    f"FROM generate_series(1, {MENTIONS}) g, "
    f"LATERAL (SELECT timestamptz '2026-01-01 00:00Z' + g * interval '6 minutes' AS t) s",
    f"INSERT INTO mention_watchlists (mention_id, watchlist_id, sort_at) "
    f"SELECT id, 1 + id % {WATCHLISTS}, sort_at FROM mentions",
    "INSERT INTO mention_parties (mention_id, party, sort_at) "
    "SELECT id, 'V', sort_at FROM mentions WHERE id % 2 = 0 UNION ALL "
    "SELECT id, 'S', sort_at FROM mentions WHERE id % 3 = 0 UNION ALL "
    "SELECT id, 'SD', sort_at FROM mentions WHERE id % 7 = 0",
    "ANALYZE",
]


@pytest.fixture
def seeded(postgres_url: str) -> Iterator[Database]:
    migrate.upgrade(postgres_url)
    db = Database(postgres_url)
    with db.engine.begin() as conn:
        for statement in SEED:
            conn.execute(text(statement))
    yield db
    db.dispose()


def _plan(db: Database, filters: MentionFilter) -> dict[str, Any]:
    query = filtered(filters, postgres=True).ordered().limit(25)
    sql = str(query.compile(dialect=postgresql.dialect(),
                            compile_kwargs={"literal_binds": True}))
    with db.engine.connect() as conn:
        return conn.execute(text(f"EXPLAIN (FORMAT JSON) {sql}")).scalar_one()[0]["Plan"]


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _nodes(child)


def _assert_read_in_order(plan: dict[str, Any], index: str) -> None:
    nodes = list(_nodes(plan))
    for node in nodes:
        if node["Node Type"] in ("Sort", "Incremental Sort"):
            below = list(_nodes(node))
            assert not any(n["Node Type"] == "Seq Scan" and n.get("Relation Name") == "mentions"
                           for n in below), plan
    assert not any(n["Node Type"] == "Sort" for n in nodes), plan
    assert any(n["Node Type"] in ("Index Scan", "Index Only Scan")
               and n.get("Index Name") == index and n.get("Scan Direction") == "Backward"
               for n in nodes), plan
    assert not any(n["Node Type"] == "Seq Scan" and n.get("Relation Name") == "mentions"
                   for n in nodes), plan


def test_the_first_page_reads_the_sort_time_index_backwards(seeded: Database):
    _assert_read_in_order(_plan(seeded, MentionFilter()), "ix_mentions_sort_at_id")


def test_a_party_page_reads_the_party_index_backwards(seeded: Database):
    _assert_read_in_order(_plan(seeded, MentionFilter(party="SD")),
                          "ix_mention_parties_party_sort_at")


def test_an_issue_page_reads_the_issue_index_backwards(seeded: Database):
    _assert_read_in_order(_plan(seeded, MentionFilter(watchlist_id=7)),
                          "ix_mention_watchlists_watchlist_id_sort_at")


def test_a_page_deep_down_starts_at_its_position_in_the_index(seeded: Database):
    """Paging on from a position ten thousand rows down reads from there, with no sort and no
    count of the rows above it (what OFFSET would do)."""
    with seeded.engine.connect() as conn:
        at, ident = conn.execute(text(
            "SELECT sort_at, id FROM mentions ORDER BY sort_at DESC, id DESC OFFSET 3000 LIMIT 1"
        )).one()
    for filters, index in ((MentionFilter(), "ix_mentions_sort_at_id"),
                           (MentionFilter(party="SD"), "ix_mention_parties_party_sort_at")):
        query = page_query(filtered(filters), older_than=Position(at, ident)).limit(26)
        sql = str(query.compile(dialect=postgresql.dialect(),
                                compile_kwargs={"literal_binds": True}))
        with seeded.engine.connect() as conn:
            plan = conn.execute(text(f"EXPLAIN (FORMAT JSON) {sql}")).scalar_one()[0]["Plan"]
        _assert_read_in_order(plan, index)
        assert any("Index Cond" in n and "sort_at" in n["Index Cond"] for n in _nodes(plan)), plan


def test_a_search_reads_the_full_text_index_and_never_the_whole_table(seeded: Database):
    """A word in one mention in two hundred: the GIN index finds them, then only those are
    read and put in order (a top-N of the matches, not a sort of the table)."""
    for words in ("vårdcentral", '"vårdcentralen i Arvika"', "vårdcentr*"):
        plan = _plan(seeded, MentionFilter(text=words))
        nodes = list(_nodes(plan))
        assert any(n["Node Type"] == "Bitmap Index Scan"
                   and n.get("Index Name") == "ix_mentions_search_vector" for n in nodes), plan
        assert not any(n["Node Type"] == "Seq Scan" for n in nodes), plan


@pytest.fixture
def with_ours(seeded: Database) -> Database:
    """One mention in a hundred is our own account's post."""
    with seeded.engine.begin() as conn:
        conn.execute(text("INSERT INTO organisations (name, kind, created_at) "
                          "VALUES ('Distriktet', 'district', now())"))
        conn.execute(text(
            "INSERT INTO accounts (platform, name, handle, external_id, organisation_id, "
            "credentials_sealed, active, credentials_status, created_at) "
            "SELECT 'x', 'V Värmland', 'vpvarmland', '42', min(id), '', true, 'ok', now() "
            "FROM organisations"))
        conn.execute(text("UPDATE mentions SET own_account_id = (SELECT min(id) FROM accounts) "
                          "WHERE id % 100 = 0"))
        conn.execute(text("ANALYZE"))
    return seeded


def test_only_ours_reads_the_partial_index_backwards_and_hidden_the_log_order(with_ours):
    _assert_read_in_order(_plan(with_ours, MentionFilter(own="only")), "ix_mentions_own_sort_at")
    _assert_read_in_order(_plan(with_ours, MentionFilter(own="hide")), "ix_mentions_sort_at_id")


def test_the_report_leaves_ours_out_through_the_partial_index(with_ours):
    """What the report counts (reports.board: every query) passes monitor.own.coverage: a
    hash anti-join against the ids in ix_mentions_own_sort_at, read from that index alone,
    never a look-up of each counted row's mention."""
    from sqlalchemy import func, select

    from monitor.models import MentionWatchlist
    from monitor.own import coverage

    query = (select(MentionWatchlist.watchlist_id, func.count())
             .where(coverage(MentionWatchlist.mention_id))
             .group_by(MentionWatchlist.watchlist_id))
    sql = str(query.compile(dialect=postgresql.dialect(),
                            compile_kwargs={"literal_binds": True}))
    with with_ours.engine.connect() as conn:
        plan = conn.execute(text(f"EXPLAIN (FORMAT JSON) {sql}")).scalar_one()[0]["Plan"]
    nodes = list(_nodes(plan))
    assert any(n["Node Type"] == "Hash Join" and n.get("Join Type") == "Anti"
               for n in nodes), plan
    assert any(n["Node Type"] == "Index Only Scan"
               and n.get("Index Name") == "ix_mentions_own_sort_at" for n in nodes), plan

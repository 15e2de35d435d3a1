"""B4's seed (bench/b4_web.py) is consistent: the benchmark's figures mean something only if the
rows it times are rows the application could have written. The COPY runs without row-by-row
foreign-key checks and with the secondary indexes dropped, so this checks what those would have."""

from __future__ import annotations

import psycopg
import pytest

from bench.b4_web import fill, libpq, read_schema, secondary_indexes

pytestmark = pytest.mark.postgres

TABLES = ("mentions", "sightings", "mention_watchlists", "mention_parties", "mention_people",
          "posts", "deliveries", "delivery_events", "sources", "watchlists", "people", "outlets")


def test_the_seed_is_consistent_and_leaves_the_schema_as_migrated(postgres_url: str) -> None:
    with psycopg.connect(libpq(postgres_url)) as conn:
        indexes_before = sorted(secondary_indexes(conn, TABLES))

    fill(postgres_url, 400, 60)

    with psycopg.connect(libpq(postgres_url)) as conn:
        schema = read_schema(conn)
        one = lambda query: conn.execute(query).fetchone()[0]  # noqa: E731
        assert sorted(secondary_indexes(conn, TABLES)) == indexes_before
        assert one("SELECT count(*) FROM mentions") == 400
        assert one("SELECT count(*) FROM posts") == 60
        # every foreign key holds, as if it had been checked row by row
        for table, column, parent in (("sightings", "mention_id", "mentions"),
                                      ("sightings", "source_id", "sources"),
                                      ("mention_watchlists", "mention_id", "mentions"),
                                      ("mention_watchlists", "watchlist_id", "watchlists"),
                                      ("mentions", "assigned_to_id", "users"),
                                      ("deliveries", "post_id", "posts"),
                                      ("deliveries", "account_id", "accounts"),
                                      ("delivery_events", "delivery_id", "deliveries"),
                                      ("posts", "author_id", "users")):
            assert one(f"SELECT count(*) FROM {table} c WHERE c.{column} IS NOT NULL AND NOT "
                       f"EXISTS (SELECT 1 FROM {parent} p WHERE p.id = c.{column})") == 0
        # one sighting and one to three issues a mention, as the data has
        assert one("SELECT count(*) FROM mentions m WHERE (SELECT count(*) FROM sightings s "
                   "WHERE s.mention_id = m.id) <> 1") == 0
        assert one("SELECT count(*) FROM mentions m WHERE (SELECT count(*) FROM "
                   "mention_watchlists w WHERE w.mention_id = m.id) NOT BETWEEN 1 AND 3") == 0
        assert one("SELECT count(DISTINCT outlet) FROM mentions") <= 50
        # the named parties agree wherever the schema keeps them
        if "parties" in schema["mentions"].columns and "mention_parties" in schema:
            assert one("SELECT count(*) FROM mentions m WHERE (SELECT array_agg(party ORDER BY "
                       "party) FROM mention_parties p WHERE p.mention_id = m.id) IS DISTINCT "
                       "FROM (SELECT array_agg(code ORDER BY code) FROM unnest(string_to_array("
                       "nullif(m.parties, ''), ',')) code)") == 0
        if "parties" in schema["mentions"].columns:
            assert one("SELECT count(*) FROM mentions WHERE parties LIKE '%V%'") > 0
        if "sort_at" in schema["mentions"].columns:
            assert one("SELECT count(*) FROM mentions WHERE sort_at IS DISTINCT FROM "
                       "coalesce(published_at, first_seen_at)") == 0
        # the sequences moved past the copied ids: the application can add rows
        conn.execute("INSERT INTO watchlists (name, query, priority, active, created_at, "
                     "updated_at) VALUES ('Ny fråga', 'ny', 'normal', true, now(), now())")
        assert one("SELECT max(id) FROM watchlists") == 201

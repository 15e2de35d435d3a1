"""Migration 0008 carries the comma-separated parties and people of 0007 over into rows, stores
each mention's sort time on it and its issue links, fills the outlets, and leaves every other
row where it was (on SQLite the mentions table is rebuilt: nothing may cascade). The downgrade
writes the rows back as strings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, create_engine, select, text

from core import migrate
from core.db import Database, UTCDateTime
from monitor.models import Mention, MentionWatchlist, Outlet, Sighting

BEFORE = "0007"
MOMENT = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # any fixed moment: the night DST begins


def _at_0007(url: str) -> dict[str, int]:
    """A database at 0007 with three mentions written as 0007 wrote them, in plain SQL."""
    migrate.upgrade(url, BEFORE)
    engine = create_engine(url)
    when = [bindparam(name, type_=UTCDateTime()) for name in ("pub", "seen")]
    insert_mention = text(
        "INSERT INTO mentions (id, title, url, normalized_url, outlet, source_kind, text, "
        "published_at, first_seen_at, signature, hits, parties, people, triage, updated_at) "
        "VALUES (:id, :title, NULL, NULL, :outlet, 'feed', '', :pub, :seen, NULL, '[]', "
        ":parties, :people, 'new', :seen)").bindparams(*when)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO people (id, name, aliases, party, title) VALUES "
                          "(3, 'Anna Lind', '', 'V', ''), (7, 'Erik Berg', '', 'V', '')"))
        conn.execute(text("INSERT INTO watchlists (id, name, query, priority, active, "
                          "created_at, updated_at) VALUES (1, 'Bussarna', 'buss*', 'normal', "
                          ":t, :now, :now)").bindparams(bindparam("now", type_=UTCDateTime())),
                     {"now": MOMENT, "t": True})
        conn.execute(insert_mention, [
            {"id": 1, "title": "Tre partier", "outlet": "NWT", "parties": "V,S,M",
             "people": "3,7", "pub": MOMENT - timedelta(days=2), "seen": MOMENT},
            {"id": 2, "title": "Ingen part", "outlet": "VF", "parties": "", "people": "",
             "pub": None, "seen": MOMENT - timedelta(hours=1)},
            {"id": 3, "title": "En borttagen person", "outlet": "", "parties": "SD",
             "people": "7,99", "pub": MOMENT - timedelta(minutes=5), "seen": MOMENT},
            {"id": 4, "title": "Samma tidning", "outlet": "NWT", "parties": "KD,M",
             "people": "3", "pub": None, "seen": MOMENT},
        ])
        conn.execute(text("INSERT INTO mention_watchlists (mention_id, watchlist_id) VALUES "
                          "(1, 1), (2, 1)"))
        conn.execute(text("INSERT INTO sightings (id, mention_id, source_id, item_key, url, "
                          "normalized_url, title, outlet, seen_at) VALUES (1, 1, NULL, 'k1', "
                          "NULL, NULL, 'Tre partier', 'NWT', :seen)")
                     .bindparams(bindparam("seen", type_=UTCDateTime())), {"seen": MOMENT})
    engine.dispose()
    return {"three": 1, "none": 2, "gone": 3, "same": 4}


def test_parties_people_and_times_are_carried_over_and_back(any_empty_db_url: str):
    ids = _at_0007(any_empty_db_url)
    migrate.upgrade(any_empty_db_url)
    db = Database(any_empty_db_url)
    try:
        with db.session() as session:
            found = {m.id: m for m in session.scalars(select(Mention))}
            assert found[ids["three"]].party_codes == ["V", "S", "M"]
            assert found[ids["three"]].person_ids == [3, 7]
            assert found[ids["none"]].party_codes == [] and found[ids["none"]].person_ids == []
            assert found[ids["gone"]].party_codes == ["SD"]
            assert found[ids["gone"]].person_ids == [7]  # person 99 no longer exists
            assert found[ids["same"]].party_codes == ["KD", "M"]
            # published, else first seen; every link row carries its mention's time
            assert found[ids["three"]].sort_at == MOMENT - timedelta(days=2)
            assert found[ids["none"]].sort_at == MOMENT - timedelta(hours=1)
            for mention in found.values():
                rows = mention.party_rows + mention.person_rows + mention.watchlists
                assert {row.sort_at for row in rows} <= {mention.sort_at}
            links = session.execute(select(MentionWatchlist.mention_id,
                                           MentionWatchlist.sort_at)).all()
            assert sorted(links) == [(1, MOMENT - timedelta(days=2)),
                                     (2, MOMENT - timedelta(hours=1))]
            assert sorted(session.scalars(select(Outlet.name))) == ["NWT", "VF"]
            # rebuilding the mentions table (SQLite) deleted nothing that refers to it
            assert session.scalars(select(Sighting.mention_id)).all() == [1]
    finally:
        db.dispose()

    migrate.downgrade(any_empty_db_url, BEFORE)
    engine = create_engine(any_empty_db_url)
    with engine.connect() as conn:
        strings = dict((row[0], (row[1], row[2])) for row in conn.execute(
            text("SELECT id, parties, people FROM mentions")))
        assert conn.scalar(text("SELECT count(*) FROM mention_watchlists")) == 2
        assert conn.scalar(text("SELECT count(*) FROM sightings")) == 1
    engine.dispose()
    assert strings == {1: ("V,S,M", "3,7"), 2: ("", ""), 3: ("SD", "7"), 4: ("KD,M", "3")}
    migrate.upgrade(any_empty_db_url)  # and up again

"""Ingest: what becomes a mention, what is stored with it, and what an update changes."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import select, update

from core.db import Database
from monitor.highlight import document
from monitor.mentions import ingest_items
from monitor.models import Mention, MentionWatchlist, Sighting, SourceKind, Watchlist
from tests.monitor.stories import (
    AKUTEN,
    AKUTEN_SISTER,
    BUSSEN,
    count,
    make_person,
    make_source,
    make_watchlist,
    matcher_for,
    mentions,
    run,
    sightings,
    story,
)

ARTICLE = "https://www.nwt.se/2025-01-14/akuten-i-arvika-kan-stanga-nattetid"
PUBLISHED = datetime(2025, 1, 14, 7, 12, tzinfo=UTC)


def _linked(db: Database, mention_id: int) -> set[int]:
    with db.session() as session:
        return set(session.scalars(select(MentionWatchlist.watchlist_id)
                                   .where(MentionWatchlist.mention_id == mention_id)))


def test_an_item_that_matches_no_watchlist_is_not_stored(db: Database):
    make_watchlist(db, "Arvika")
    feed = make_source(db, "VF")
    assert run(db, feed, [story("vf-1", "Dyrare buss", BUSSEN, "https://vf.se/buss")]) == []
    assert count(db, Mention) == 0 and count(db, Sighting) == 0


def test_a_new_mention_keeps_what_the_log_and_reports_need(db: Database):
    akut = make_watchlist(db, "Arvika AND akut*", name="Akuten i Arvika")
    region = make_watchlist(db, "regionråd*", name="Regionen")
    make_watchlist(db, "kollektivtrafik*", name="Bussarna")
    anna = make_person(db, "Anna Svensson")
    feed = make_source(db, "NWT")
    [mention_id] = run(db, feed, [story("nwt-1", "  Akuten i Arvika\n kan stänga ", AKUTEN,
                                        ARTICLE + "?utm_source=rss", published_at=PUBLISHED)])
    [mention] = mentions(db)
    assert mention.id == mention_id
    assert mention.title == "Akuten i Arvika kan stänga"  # white space folded
    assert mention.text == AKUTEN
    assert mention.url == ARTICLE + "?utm_source=rss"
    assert mention.normalized_url == "https://nwt.se/2025-01-14/akuten-i-arvika-kan-stanga-nattetid"
    assert (mention.outlet, mention.source_kind) == ("NWT", SourceKind.FEED)
    assert mention.published_at == PUBLISHED
    assert _linked(db, mention.id) == {akut.id, region.id}
    assert set(mention.party_codes) >= {"V", "S"}
    assert mention.person_ids == [anna.id]
    assert mention.sort_at == PUBLISHED
    assert {row.sort_at for row in mention.party_rows + mention.person_rows
            + mention.watchlists} == {PUBLISHED}
    # The hits point into the title and text as the log shows them.
    doc = document(mention.title, mention.text)
    hits = json.loads(mention.hits)
    words = {doc[h["start"]:h["end"]].lower() for h in hits}
    assert {"arvika", "akutmottagningen", "regionråd"} <= words
    assert all(set(h) >= {"term", "start", "end"} for h in hits)
    [sighting] = mention.sightings
    assert (sighting.item_key, sighting.outlet, sighting.source_id) == ("nwt-1", "NWT", feed.id)
    assert sighting.normalized_url == mention.normalized_url


def test_polling_the_same_feed_again_changes_nothing(db: Database):
    make_watchlist(db, "Arvika")
    feed = make_source(db, "NWT")
    items = [story("nwt-1", "Akuten", AKUTEN, ARTICLE), story("nwt-2", "Bussen", BUSSEN)]
    assert len(run(db, feed, items)) == 1
    before = mentions(db)[0].updated_at
    for _ in range(3):
        assert run(db, feed, items) == []
    assert count(db, Mention) == 1 and count(db, Sighting) == 1
    assert mentions(db)[0].updated_at == before


def test_an_update_that_matches_another_watchlist_adds_it(db: Database):
    arvika = make_watchlist(db, "Arvika")
    glava = make_watchlist(db, "Glava")
    feed = make_source(db, "NWT")
    item = story("nwt-1", "Akuten", AKUTEN, ARTICLE)
    [mention_id] = run(db, feed, [item])
    with db.session() as session:
        done = ingest_items(session, session.get(type(feed), feed.id),
                            [story("nwt-1", "Akuten", AKUTEN + " Även Glava berörs.", ARTICLE)],
                            matcher_for(db))
    assert (done.new, done.grown, done.updated) == ([], [mention_id], 1)
    assert _linked(db, mention_id) == {arvika.id, glava.id}


def test_a_copy_adds_a_sighting_and_its_watchlists_to_the_story(db: Database):
    arvika = make_watchlist(db, "Arvika")
    tidning = make_watchlist(db, '"Arvika Nyheter"')
    nwt, an = make_source(db, "NWT"), make_source(db, "Arvika Nyheter")
    [mention_id] = run(db, nwt, [story("nwt-1", "Akuten", AKUTEN, ARTICLE)])
    with db.session() as session:
        done = ingest_items(session, session.get(type(an), an.id),
                            [story("an-1", "Akuten", AKUTEN_SISTER, "https://an.se/1",
                                   "Arvika Nyheter")], matcher_for(db))
    assert (done.new, done.grown, done.sightings) == ([], [mention_id], 1)
    assert _linked(db, mention_id) == {arvika.id, tidning.id}
    assert [s.outlet for s in sightings(db)] == ["NWT", "Arvika Nyheter"]


def test_a_watchlist_switched_off_after_the_matcher_was_built_is_not_linked(db: Database):
    kept = make_watchlist(db, "Arvika")
    gone = make_watchlist(db, "akut*")
    matcher = matcher_for(db)
    with db.session() as session:
        session.execute(update(Watchlist).where(Watchlist.id == gone.id).values(active=False))
    feed = make_source(db, "NWT")
    [mention_id] = run(db, feed, [story("nwt-1", "Akuten", AKUTEN, ARTICLE)], matcher=matcher)
    assert _linked(db, mention_id) == {kept.id}
    # Only the switched-off watchlist matches: not a mention.
    assert run(db, feed, [story("nwt-2", "Akut", "Akutmottagningen i Torsby har långa köer "
                                                 "i vinter, säger personalen.")],
               matcher=matcher) == []


def test_a_clipping_entered_by_hand_goes_through_the_same_path(db: Database):
    make_watchlist(db, "Arvika")
    clipping = story("manual:1", "Insändare om akuten", AKUTEN_SISTER, None,
                     "Arvika Nyheter (papper)", kind=SourceKind.MANUAL)
    [mention_id] = run(db, None, [clipping])
    assert run(db, None, [clipping]) == []  # entered twice: the same clipping
    [mention] = mentions(db)
    assert (mention.id, mention.source_kind, mention.url) == (mention_id, SourceKind.MANUAL, None)
    assert mention.sightings[0].source_id is None
    # The story then turns up online: a sighting of the clipping's mention.
    feed = make_source(db, "NWT")
    assert run(db, feed, [story("nwt-1", "Akuten", AKUTEN, ARTICLE)]) == []
    assert len(mentions(db)[0].sightings) == 2


def test_ids_returned_are_only_new_mentions(db: Database):
    make_watchlist(db, "Arvika OR kollektivtrafik*")
    feed = make_source(db, "NWT")
    first = run(db, feed, [story("1", "Akuten", AKUTEN, ARTICLE)])
    second = run(db, feed, [story("1", "Akuten", AKUTEN, ARTICLE),
                            story("2", "Bussen", BUSSEN, "https://nwt.se/buss")])
    assert len(first) == 1 and len(second) == 1 and first != second
    with db.session() as session:
        assert sorted(session.scalars(select(Mention.id))) == sorted(first + second)

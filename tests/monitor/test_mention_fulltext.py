"""Searching the mention log in Swedish, on both databases: inflected forms, phrases, prefixes,
NOT and OR, accents, combined with the other filters, ranked or by time, kept in step when a
story changes or goes; and a malformed search refused with where and why.

Mentions are stored through the real ingest path (monitor.mentions.ingest with a matcher built
from a parsed watchlist query), so the search index is filled the way production fills it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select, text

from core import migrate
from core.auth import create_user
from core.db import Database
from core.users import Role
from monitor import fulltext
from monitor.highlight import document
from monitor.items import Item
from monitor.matcher import Matcher
from monitor.mention_search import MentionFilter, Position, search
from monitor.mentions import ingest
from monitor.models import Mention, SourceKind, Watchlist
from monitor.query import QueryError, parse

MOMENT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

# key: (title, text); each names Värmland, which the one watchlist looks for.
STORIES = {
    "closing": ("Vårdcentralen i Torsby kan stänga",
                "Regionen Värmland utreder att stänga vårdcentralen. Patienterna oroas."),
    "plural": ("Fler vårdcentraler behövs",
               "Värmland behöver nya vårdcentraler, säger Vänsterpartiet."),
    "phrase": ("Debatt om vården i Arvika",
               "Politikerna i Värmland diskuterade vården i Arvika i går kväll."),
    "apart": ("Arvika får ny skola",
              "Vården i Värmland får mer pengar. I Arvika byggs en skola."),
    "buses": ("Bussarna står still",
              "Busslinjerna i Värmland dras in; kollektivtrafiken krymper."),
    "trains": ("Tåg till Karlstad är sent",
               "Pendlare i Värmland väntar på tåg. Moderaterna vill sälja banan."),
    "idea": ("En idé om kollektivtrafik",
             "Idéerna för Värmland presenterades av Moderaterna och Vänsterpartiet."),
    "e-health": ("E-hälsa i glesbygd", "Värmland satsar på e-hälsa för äldre."),
    "care-title": ("Vårdcentral, vårdcentral, vårdcentral",
                   "Tre vårdcentraler i Värmland: vårdcentralen i Kil, i Sunne och i Årjäng."),
}


@dataclass
class World:
    db: Database
    user: object
    watchlist_id: int
    ids: dict[str, int]


def _items(stories: dict[str, tuple[str, str]]) -> list[Item]:
    return [Item(item_key=f"https://example.org/{key}", url=f"https://example.org/{key}",
                 title=title, text=body, published_at=MOMENT - timedelta(hours=n),
                 outlet="NWT", source_kind=SourceKind.FEED)
            for n, (key, (title, body)) in enumerate(stories.items())]


def _ingest(db: Database, watchlist_id: int, stories: dict[str, tuple[str, str]],
            now: datetime = MOMENT) -> None:
    with db.session() as session:
        matcher = Matcher.build([(watchlist_id, parse("Värmland"))])
        ingest(session, None, _items(stories), matcher, now=now)


@pytest.fixture
def world(any_db_url: str) -> Iterator[World]:
    db = Database(any_db_url)
    with db.session() as session:
        user = create_user(session, email="sok@example.org", name="Sökare",
                           password="correct horse battery", role=Role.COMMS)
        watchlist = Watchlist(name="Värmland", query="Värmland")
        session.add(watchlist)
        session.flush()
        watchlist_id = watchlist.id
    _ingest(db, watchlist_id, STORIES)
    with db.session() as session:
        ids = {m.url.rsplit("/", 1)[1]: m.id for m in session.scalars(select(Mention))}
    yield World(db, user, watchlist_id, ids)
    db.dispose()


def _found(world: World, words: str, order: str = "time", **filters: object) -> list[str]:
    names = {v: k for k, v in world.ids.items()}
    with world.db.session() as session:
        page = search(session, world.user, MentionFilter(text=words, **filters),
                      per_page=50, order=order)
        return [names[m.id] for m in page.items]


def test_a_word_finds_its_inflected_forms(world: World):
    everything = {"closing", "plural", "care-title"}
    assert set(_found(world, "vårdcentral")) == everything
    assert set(_found(world, "vårdcentralen")) == everything
    assert set(_found(world, "Vårdcentraler")) == everything
    assert set(_found(world, "busslinje")) == {"buses"}


def test_a_phrase_needs_its_words_together_and_in_order(world: World):
    assert _found(world, '"vården i Arvika"') == ["phrase"]
    assert set(_found(world, "vården Arvika")) == {"phrase", "apart"}
    assert _found(world, '"Arvika i vården"') == []


def test_prefixes_not_and_or_and_brackets(world: World):
    assert set(_found(world, "buss*")) == {"buses"}
    assert set(_found(world, "kollektivtrafik")) == {"buses", "idea"}
    assert set(_found(world, "kollektivtrafik -moderaterna")) == {"buses"}
    assert set(_found(world, "kollektivtrafik NOT Moderaterna")) == {"buses"}
    assert set(_found(world, "tåg OR busslinjerna")) == {"trains", "buses"}
    assert set(_found(world, "(tåg OR buss*) Moderaterna")) == {"trains"}
    assert set(_found(world, "vänsterpartiet")) == {"plural", "idea"}


def test_accents_and_punctuation_as_the_watchlists_read_them(world: World):
    assert set(_found(world, "idé")) == {"idea"}
    assert set(_found(world, "ide")) == {"idea"}
    assert set(_found(world, "IDÉERNA")) == {"idea"}
    assert set(_found(world, "e-hälsa")) == {"e-health"}
    assert _found(world, "Årjäng") == ["care-title"]
    assert _found(world, "arjang") == []  # å, ä and ö are letters of their own


def test_a_search_combines_with_the_other_filters(world: World):
    other = Watchlist(name="Annat", query="Arvika")
    with world.db.session() as session:
        session.add(other)
        session.flush()
        other_id = other.id
    assert _found(world, "Arvika", watchlist_id=other_id) == []
    assert set(_found(world, "Arvika", watchlist_id=world.watchlist_id)) == {"phrase", "apart"}
    assert _found(world, "Arvika", outlet="VF") == []


def test_by_time_newest_first_and_by_relevance_best_first(world: World):
    # The stories were published an hour apart in the order written: by time, newest first.
    assert _found(world, "vårdcentral") == ["closing", "plural", "care-title"]
    # Ranked: the story that says it five times, in the headline too, comes first.
    assert _found(world, "vårdcentral", order="relevance")[0] == "care-title"


def test_search_pages_follow_the_keyset(world: World):
    with world.db.session() as session:
        first = search(session, world.user, MentionFilter(text="Värmland"), per_page=4)
        assert len(first.items) == 4 and first.older is not None and first.total.value == 9
        rest = search(session, world.user, MentionFilter(text="Värmland"), per_page=4,
                      older_than=first.older)
        last = search(session, world.user, MentionFilter(text="Värmland"), per_page=4,
                      older_than=rest.older)
        seen = [m.id for page in (first, rest, last) for m in page.items]
        assert sorted(seen) == sorted(world.ids.values()) and len(set(seen)) == 9
        assert last.older is None
        back = search(session, world.user, MentionFilter(text="Värmland"), per_page=4,
                      newer_than=Position(rest.items[0].sort_at, rest.items[0].id))
        assert [m.id for m in back.items] == [m.id for m in first.items]


def test_a_changed_story_is_found_by_its_new_words_only(world: World):
    changed = {"buses": ("Bussarna rullar igen", "Värmlandstrafik och Värmland: spårvagnar.")}
    _ingest(world.db, world.watchlist_id, changed, now=MOMENT + timedelta(hours=1))
    assert _found(world, "spårvagn") == ["buses"]
    assert _found(world, "busslinje") == []


def test_a_deleted_mention_leaves_no_trace_in_the_index(world: World):
    with world.db.session() as session:
        session.execute(delete(Mention).where(Mention.id == world.ids["trains"]))
        if session.get_bind().dialect.name == "sqlite":
            rows = session.scalar(text("SELECT count(*) FROM mention_text WHERE rowid = :id"),
                                  {"id": world.ids["trains"]})
            assert rows == 0
    assert _found(world, "tåg") == []


@pytest.mark.parametrize("words, position, reason", [
    ('"vården i Arvika', 0, "never closed"),
    ("(buss OR tåg", 0, "never closed"),
    ("NOT buss", 0, "only excludes"),
    ("buss NEAR/3 tåg", 5, "NEAR works in watchlists"),
    ("bu*", 0, "at least 3 letters"),
    ("buss AND", 5, None),
    ("x" * 201, 200, "at most 200"),
])
def test_a_malformed_search_is_refused_with_where_and_why(world: World, words: str,
                                                           position: int, reason: str | None):
    with world.db.session() as session, pytest.raises(QueryError) as refused:
        search(session, world.user, MentionFilter(text=words))
    assert refused.value.position == position
    if reason:
        assert reason in refused.value.reason


def test_the_searched_words_are_marked_in_their_inflected_forms():
    searched = fulltext.parse_search('vårdcentral "vården i Arvika" buss* -tåg')
    doc = document("Vårdcentralen och bussarna", "Om vården i Arvika, vårdcentraler och tåg.")
    marked = [doc[s["start"]:s["end"]] for s in fulltext.spans(doc, searched)]
    assert marked == ["Vårdcentralen", "bussarna", "vården", "Arvika", "vårdcentraler"]


def test_existing_mentions_are_indexed_by_the_migration(any_empty_db_url: str):
    migrate.upgrade(any_empty_db_url, "0008")
    db = Database(any_empty_db_url)
    with db.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO mentions (title, outlet, source_kind, text, first_seen_at, sort_at, "
            "hits, triage, updated_at) VALUES ('Vårdcentralen stänger', 'NWT', 'feed', "
            "'Idéerna om kollektivtrafiken', :t, :t, '[]', 'new', :t)"),
            {"t": MOMENT.replace(tzinfo=None)})
    db.dispose()
    migrate.upgrade(any_empty_db_url)
    db = Database(any_empty_db_url)
    with db.session() as session:
        user = create_user(session, email="a@example.org", name="A",
                           password="correct horse battery", role=Role.COMMS)
        for words in ("vårdcentral", "idé", "kollektivtrafik*"):
            page = search(session, user, MentionFilter(text=words))
            assert [m.title for m in page.items] == ["Vårdcentralen stänger"], words
        assert session.scalar(select(func.count()).select_from(Mention)) == 1
    db.dispose()


def test_a_search_beyond_the_exact_count_is_estimated(world: World, monkeypatch):
    """Past the threshold the count of a search is the planner's estimate (PostgreSQL) or the
    bound (SQLite), said to be inexact; the page itself is as always."""
    import monitor.mention_search as mention_search

    monkeypatch.setattr(mention_search, "EXACT_COUNT_UP_TO", 3)
    with world.db.session() as session:
        page = search(session, world.user, MentionFilter(text="Värmland"), per_page=5)
    assert len(page.items) == 5 and not page.total.exact and page.total.value >= 4


def test_each_mention_is_given_its_tone_at_ingest_and_again_when_it_changes(world: World):
    from monitor.sentiment import score

    with world.db.session() as session:
        for mention in session.scalars(select(Mention)):
            expected = score(f"{mention.title}\n{mention.text}")
            assert (mention.sentiment, mention.tone) == (round(expected.score, 4),
                                                         expected.label), mention.title
    changed = {"buses": ("Bussarna rullar igen", "Värmland får bättre och fantastisk trafik.")}
    _ingest(world.db, world.watchlist_id, changed, now=MOMENT + timedelta(hours=1))
    with world.db.session() as session:
        assert session.get(Mention, world.ids["buses"]).tone == "positive"

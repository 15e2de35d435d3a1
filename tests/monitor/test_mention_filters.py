"""The log's filters, alone and combined, return exactly what a plain reading of the seeded rows
says, in the log's order, on both databases; and the stored sort time follows publication.

The seed is a few hundred varied mentions (issues, parties, people, outlets, kinds, triage,
assignees, times with ties and around midnight in Stockholm), written as rows. The expectation
is computed in Python from the seed itself, never with monitor.mention_search.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, text

from core import migrate
from core.auth import create_user
from core.clock import STOCKHOLM
from core.db import Database
from core.users import Role
from monitor import mention_search
from monitor.mention_search import (
    BadCursor,
    Count,
    MentionFilter,
    Position,
    filtered,
    outlets,
    search,
)
from monitor.mentions import remember_outlet
from monitor.models import (
    Mention,
    MentionParty,
    MentionPerson,
    MentionWatchlist,
    Person,
    SourceKind,
    Triage,
    Watchlist,
)
from monitor.parties import CODES

MOMENT = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # a fixed moment: the night DST ends
COUNT = 300
OUTLETS = ("NWT", "VF", "P4 Värmland", "SVT Värmland", "Arvika Nyheter")
KINDS = tuple(SourceKind)
TRIAGES = tuple(Triage)


@dataclass(frozen=True)
class Seeded:
    """What was written, per mention, as plain Python values."""

    id: int
    sort_at: datetime
    first_seen_at: datetime
    watchlists: frozenset[int]
    parties: frozenset[str]
    people: frozenset[int]
    outlet: str
    kind: SourceKind
    triage: Triage
    assignee: int | None


@dataclass
class World:
    db: Database
    user: object
    watchlists: list[int]
    people: list[int]
    assignees: list[int]
    mentions: list[Seeded]


@pytest.fixture
def world(any_db_url: str) -> Iterator[World]:
    migrate.upgrade(any_db_url)
    db = Database(any_db_url)
    rng = random.Random(16)
    with db.session() as session:
        user = create_user(session, email="lasare@example.org", name="Läsare",
                           password="correct horse battery", role=Role.ADMIN)
        helpers = [create_user(session, email=f"hjalp{i}@example.org", name=f"Hjälp {i}",
                               password="correct horse battery", role=Role.ADMIN)
                   for i in range(2)]
        watchlists = [Watchlist(name=f"Fråga {i}", query=f"ord{i}") for i in range(4)]
        people = [Person(name=f"Person {i}", party="V") for i in range(3)]
        session.add_all(watchlists + people)
        session.flush()
        seeded_rows = []
        for n in range(COUNT):
            # Times spread over 20 days, some equal (ties broken by id), some unpublished.
            seen = MOMENT - timedelta(minutes=rng.randrange(0, 20 * 24 * 60, 7))
            published = None if rng.random() < 0.2 else seen - timedelta(
                minutes=rng.choice((0, 0, 5, 90, 600)))
            mention = Mention(
                title=f"Nyhet {n}", outlet=rng.choice(OUTLETS), source_kind=rng.choice(KINDS),
                text="", published_at=published, first_seen_at=seen,
                triage=rng.choice(TRIAGES),
                assigned_to_id=rng.choice([None, None, helpers[0].id, helpers[1].id]),
                watchlists=[MentionWatchlist(watchlist_id=w.id)
                            for w in rng.sample(watchlists, rng.randint(1, 3))],
                party_rows=[MentionParty(party=c) for c in rng.sample(CODES, rng.randint(0, 3))],
                person_rows=[MentionPerson(person_id=p.id)
                             for p in rng.sample(people, rng.choice((0, 0, 1, 2)))])
            session.add(mention)
            remember_outlet(session, mention.outlet)
            seeded_rows.append(mention)
        session.flush()
        mentions = [Seeded(m.id, m.published_at or m.first_seen_at, m.first_seen_at,
                           frozenset(w.watchlist_id for w in m.watchlists),
                           frozenset(p.party for p in m.party_rows),
                           frozenset(p.person_id for p in m.person_rows),
                           m.outlet, m.source_kind, m.triage, m.assigned_to_id)
                    for m in seeded_rows]
        found = World(db, user, [w.id for w in watchlists], [p.id for p in people],
                      [h.id for h in helpers], mentions)
    yield found
    db.dispose()


def _expected(world: World, f: MentionFilter, order: str = "time") -> list[int]:
    def day(moment: datetime) -> date:
        return moment.astimezone(STOCKHOLM).date()

    kept = [m for m in world.mentions
            if (f.watchlist_id is None or f.watchlist_id in m.watchlists)
            and (f.party is None or f.party in m.parties)
            and (f.person_id is None or f.person_id in m.people)
            and (f.outlet is None or m.outlet == f.outlet)
            and (f.source_kind is None or m.kind == f.source_kind)
            and (f.triage is None or m.triage == f.triage)
            and (f.assignee_id is None or m.assignee == f.assignee_id)
            and (f.date_from is None or day(m.sort_at) >= f.date_from)
            and (f.date_to is None or day(m.sort_at) <= f.date_to)]
    key = (lambda m: (m.first_seen_at, m.id)) if order == "arrival" else (
        lambda m: (m.sort_at, m.id))
    return [m.id for m in sorted(kept, key=key, reverse=True)]


def _found(world: World, f: MentionFilter, order: str = "time") -> list[int]:
    with world.db.session() as session:
        return [m.id for m in session.scalars(filtered(f, order).ordered())]


def _choices(world: World) -> dict[str, list[object]]:
    days = sorted({m.sort_at.astimezone(STOCKHOLM).date() for m in world.mentions})
    return {
        "watchlist_id": world.watchlists[:2],
        "party": ["V", "SD", "KD"],
        "person_id": world.people[:2],
        "outlet": ["NWT", "P4 Värmland"],
        "source_kind": [SourceKind.FEED, SourceKind.MANUAL],
        "triage": [Triage.NEW, Triage.NOT_RELEVANT],
        "assignee_id": world.assignees,
        "date_from": [days[5], days[-1]],
        "date_to": [days[3], days[12]],
    }


def test_each_filter_and_their_combinations_match_the_rows(world: World):
    choices = _choices(world)
    cases = [MentionFilter()]
    cases += [MentionFilter(**{name: value}) for name, values in choices.items()
              for value in values]
    rng = random.Random(2026)
    combinations = [names for size in (2, 3, 4) for names in itertools.combinations(choices, size)]
    for names in combinations[:120] + rng.sample(combinations[120:], 40):
        cases.append(MentionFilter(**{n: rng.choice(choices[n]) for n in names}))
    cases.append(MentionFilter(**{n: values[0] for n, values in choices.items()}))
    nonempty = 0
    for case in cases:
        expected = _expected(world, case)
        assert _found(world, case) == expected, case
        nonempty += bool(expected)
    assert nonempty > len(cases) // 2  # the combinations are not all trivially empty
    # "Latest arrivals first" takes the same filters, ordered by first seen
    for case in cases[:25]:
        assert _found(world, case, "arrival") == _expected(world, case, "arrival"), case


def _walk(session, world: World, filters: MentionFilter, per_page: int, order: str = "time",
          between=None) -> list[int]:  # noqa: ANN001
    """Every id, page by page down the log through the `older` positions; `between(n)` runs
    after page n (new mentions arriving while someone reads)."""
    seen: list[int] = []
    page = search(session, world.user, filters, per_page=per_page, order=order)
    assert page.newer is None
    pages = 0
    while True:
        seen += [m.id for m in page.items]
        pages += 1
        if between:
            between(pages)
        if page.older is None:
            return seen
        page = search(session, world.user, filters, per_page=per_page, order=order,
                      older_than=page.older)


def test_search_pages_and_counts_over_the_same_rows(world: World):
    party = MentionFilter(party="V", watchlist_id=world.watchlists[0])
    expected = _expected(world, party)
    assert len(expected) > 30
    with world.db.session() as session:
        first = search(session, world.user, party, per_page=25)
        second = search(session, world.user, party, per_page=25, older_than=first.older)
        assert first.total == Count(len(expected), True)
        assert [m.id for m in first.items + second.items] == expected[:50]
        back = search(session, world.user, party, per_page=25, newer_than=second.newer)
        assert [m.id for m in back.items] == expected[:25] and back.newer is None
        assert outlets(session) == sorted(OUTLETS, key=str.casefold)


@pytest.mark.parametrize("order", ["time", "arrival"])
def test_keyset_pages_give_every_mention_once_in_order_while_new_ones_arrive(world: World,
                                                                          order: str):
    """Paging down while new mentions arrive (newest first, and late-found older ones): every
    mention that was there when reading began is shown exactly once, in the log's order."""
    filters_to_try = [MentionFilter(), MentionFilter(party="S"),
                      MentionFilter(watchlist_id=world.watchlists[1], triage=Triage.NEW)]
    for filters in filters_to_try:
        before = _expected(world, filters, order)
        with world.db.session() as session:
            def arrive(page_number: int) -> None:
                with world.db.session() as writer:  # another worker's ingest, committed
                    seen = MOMENT + timedelta(minutes=page_number)
                    writer.add_all([
                        Mention(title=f"Ny {page_number}", outlet="NWT",
                                source_kind=SourceKind.FEED, text="", first_seen_at=seen,
                                published_at=seen),
                        Mention(title=f"Sent funnen {page_number}", outlet="VF",
                                source_kind=SourceKind.FEED, text="", first_seen_at=seen,
                                published_at=MOMENT - timedelta(days=10, minutes=page_number),
                                party_rows=[MentionParty(party="S")])])

            shown = _walk(session, world, filters, per_page=7, order=order, between=arrive)
        assert len(shown) == len(set(shown)), "a mention was shown twice"
        assert [i for i in shown if i in set(before)] == before, filters


def test_a_deep_jump_goes_to_a_stockholm_day_and_pages_on_from_there(world: World):
    days = sorted({m.sort_at.astimezone(STOCKHOLM).date() for m in world.mentions})
    day = days[len(days) // 2]
    everything = _expected(world, MentionFilter())
    start = next(i for i, m in enumerate(sorted(world.mentions, key=lambda m: (m.sort_at, m.id),
                                                reverse=True))
                 if m.sort_at.astimezone(STOCKHOLM).date() <= day)
    with world.db.session() as session:
        page = search(session, world.user, MentionFilter(), per_page=10, on_or_before=day)
        assert [m.id for m in page.items] == everything[start:start + 10]
        assert page.newer is not None and page.older is not None
        newer = search(session, world.user, MentionFilter(), per_page=10,
                       newer_than=page.newer)
        assert [m.id for m in newer.items] == everything[max(0, start - 10):start]


def test_a_position_link_that_cannot_be_read_is_refused_clearly():
    assert Position.parse(Position(MOMENT, 42).token()) == Position(MOMENT, 42)
    for bad in ("", "abc", "12_", "_3", "1.5_2", "99999999999999999999999_1", "12-3",
                "1_99999999999999999999"):
        with pytest.raises(BadCursor):
            Position.parse(bad)


def test_the_count_is_exact_while_small_and_an_estimate_beyond(world: World, monkeypatch):
    few = MentionFilter(person_id=world.people[0], party="V")
    expected = len(_expected(world, few))
    assert 0 < expected < 100
    monkeypatch.setattr(mention_search, "EXACT_COUNT_UP_TO", expected)
    with world.db.session() as session:
        small = search(session, world.user, few, per_page=5)
        large = search(session, world.user, MentionFilter(), per_page=5)
    assert small.total == Count(expected, True)
    # Beyond the threshold: PostgreSQL's planner estimate, SQLite only the bound; never exact.
    assert not large.total.exact and large.total.value > expected


def test_far_beyond_the_threshold_the_estimate_is_taken_without_counting(world: World,
                                                                          monkeypatch):
    """A filter the planner expects to match far more than the threshold is not counted up to
    it first (PostgreSQL); a small one still is, exactly, whatever the planner thinks."""
    monkeypatch.setattr(mention_search, "ESTIMATE_ONLY_ABOVE", COUNT // 2)
    few = MentionFilter(person_id=world.people[0], party="V")
    with world.db.session() as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("ANALYZE"))  # the planner's figures, as in production
        everything = search(session, world.user, MentionFilter(), per_page=5).total
        small = search(session, world.user, few, per_page=5).total
    if session.get_bind().dialect.name == "postgresql":
        assert not everything.exact and 0.5 * COUNT <= everything.value <= 2 * COUNT
    else:
        assert everything == Count(COUNT, True)
    assert small == Count(len(_expected(world, few)), True)


def test_sort_time_follows_publication_onto_every_link_row(world: World):
    unpublished = next(m for m in world.mentions
                       if m.sort_at == m.first_seen_at and m.parties and m.watchlists)
    later = MOMENT + timedelta(days=3)
    with world.db.session() as session:
        mention = session.get(Mention, unpublished.id)
        mention.published_at = later
        mention.party_rows.append(MentionParty(party="X"))  # a new row, in the same flush
    with world.db.session() as session:
        times = set(session.scalars(text(
            "SELECT sort_at FROM mentions WHERE id = :id UNION ALL "
            "SELECT sort_at FROM mention_parties WHERE mention_id = :id UNION ALL "
            "SELECT sort_at FROM mention_watchlists WHERE mention_id = :id UNION ALL "
            "SELECT sort_at FROM mention_people WHERE mention_id = :id")
            .columns(sort_at=Mention.sort_at.type), {"id": unpublished.id}))
        assert times == {later}
        newest = session.scalars(filtered(MentionFilter(party="X")).ordered()).first()
        assert newest is not None and newest.id == unpublished.id
        assert session.scalar(select(Mention.sort_at).where(Mention.id == unpublished.id)) \
            == later


def test_words_with_a_nul_byte_are_searched_without_it(world: World):
    """PostgreSQL refuses NUL in a query parameter; a pasted one must not cost the page."""
    with world.db.session() as session:
        found = search(session, world.user, MentionFilter(text="Nyhet\x00 1"), per_page=5)
    assert found.items and all("Nyhet" in m.title for m in found.items)

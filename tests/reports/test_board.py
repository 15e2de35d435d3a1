"""Every number in the board's report equals what a plain count of the seeded rows says, on both
databases: totals, the period before, buckets per Stockholm day (March, with the clock change),
issues, share of voice overall and per issue, outlets, top stories by outlets, people.

The seed is a few hundred mentions over February and March 2026 written as rows, with times
near Stockholm midnights; the expectations are computed in Python from the seed, never with
reports.board.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import update

from core.auth import create_user, district
from core.clock import STOCKHOLM
from core.db import Database
from core.users import Role
from monitor.models import (
    Mention,
    MentionParty,
    MentionPerson,
    MentionWatchlist,
    Person,
    Sighting,
    SourceKind,
    Watchlist,
)
from monitor.parties import CODES
from publisher.models import Account, Platform
from reports import tables
from reports.board import board_report
from reports.period import Period, parse

MARCH = Period(date(2026, 3, 1), date(2026, 3, 31), "month")
OUTLETS = ("NWT", "VF", "P4 Värmland", "SVT Värmland", "Arvika Nyheter")


@dataclass(frozen=True)
class Seeded:
    id: int
    at: datetime  # the stored time: published, else first seen
    issues: frozenset[int]
    parties: frozenset[str]
    people: frozenset[int]
    outlet: str
    kind: SourceKind
    sighting_outlets: tuple[str, ...]
    tone: str | None


@dataclass
class World:
    db: Database
    user: object
    issue_names: dict[int, str]
    people: dict[int, str]
    mentions: list[Seeded]


def _day(moment: datetime) -> date:
    return moment.astimezone(STOCKHOLM).date()


@pytest.fixture
def world(any_db_url: str) -> Iterator[World]:
    db = Database(any_db_url)
    rng = random.Random(15)
    with db.session() as session:
        user = create_user(session, email="styrelse@example.org", name="Styrelse",
                           password="correct horse battery", role=Role.BOARD)
        issues = [Watchlist(name=f"Fråga {i}", query=f"ord{i}") for i in range(5)]
        people = [Person(name=f"Kandidat {i}", party="V") for i in range(4)]
        session.add_all(issues + people)
        session.flush()
        seeded = []
        start = datetime(2026, 1, 25, tzinfo=UTC)  # from late January to early April
        for n in range(400):
            at = start + timedelta(minutes=rng.randrange(0, 70 * 24 * 60, 13))
            if n % 10 == 0:  # near a Stockholm midnight, on either side
                midnight = datetime.combine(_day(at), datetime.min.time(), tzinfo=STOCKHOLM)
                at = midnight.astimezone(UTC) + timedelta(minutes=rng.choice((-1, 0, 1)))
            published = None if n % 7 == 0 else at
            seen = at if published is None else at + timedelta(minutes=rng.randrange(0, 90))
            outlets = tuple(rng.sample(OUTLETS, rng.choice((1, 1, 1, 2, 3))))
            mention = Mention(
                title=f"Nyhet {n}", outlet=outlets[0], source_kind=rng.choice(tuple(SourceKind)),
                text="", published_at=published, first_seen_at=seen, hits="[]",
                updated_at=seen, tone=rng.choice(("positive", "neutral", "negative", None)),
                watchlists=[MentionWatchlist(watchlist_id=w.id)
                            for w in rng.sample(issues, rng.randint(1, 2))],
                party_rows=[MentionParty(party=c) for c in rng.sample(CODES, rng.randint(0, 3))],
                person_rows=[MentionPerson(person_id=p.id)
                             for p in rng.sample(people, rng.choice((0, 0, 1, 2)))],
                sightings=[Sighting(item_key=f"{n}-{i}", outlet=o, title=f"Nyhet {n}",
                                    seen_at=seen)
                           for i, o in enumerate(outlets + outlets[:1] * (n % 3 == 0))])
            session.add(mention)
            seeded.append(mention)
        session.flush()
        mentions = [Seeded(m.id, m.published_at or m.first_seen_at,
                           frozenset(w.watchlist_id for w in m.watchlists),
                           frozenset(p.party for p in m.party_rows),
                           frozenset(p.person_id for p in m.person_rows), m.outlet,
                           m.source_kind, tuple(s.outlet for s in m.sightings), m.tone)
                    for m in seeded]
        found = World(db, user, {w.id: w.name for w in issues},
                      {p.id: p.name for p in people}, mentions)
    yield found
    db.dispose()


def _within(world: World, period: Period) -> list[Seeded]:
    return [m for m in world.mentions if period.first <= _day(m.at) <= period.last]


def test_totals_buckets_issues_and_outlets_equal_plain_counts(world: World):
    with world.db.session() as session:
        report = board_report(session, world.user, MARCH)
    now, before = _within(world, MARCH), _within(world, MARCH.previous())
    assert report.previous.first == date(2026, 2, 1) and report.previous.last == date(2026, 2, 28)
    assert report.total == len(now) and report.previous_total == len(before)
    per_day = Counter(_day(m.at) for m in now)
    assert len(report.buckets) == 31
    assert report.series == [per_day[date(2026, 3, d)] for d in range(1, 32)]
    # 29 March, when the clocks go forward, is a day of 23 hours.
    assert report.buckets[28].end - report.buckets[28].start == timedelta(hours=23)

    issues_now = Counter(w for m in now for w in m.issues)
    issues_before = Counter(w for m in before for w in m.issues)
    assert {r.watchlist_id: (r.count, r.previous) for r in report.issues} == {
        w: (issues_now[w], issues_before[w]) for w in set(issues_now) | set(issues_before)}
    for row in report.issues:
        daily = Counter(_day(m.at) for m in now if row.watchlist_id in m.issues)
        assert row.series == [daily[date(2026, 3, d)] for d in range(1, 32)]
    grown = max((r for r in report.issues if r.count > r.previous),
                key=lambda r: (r.count - r.previous, r.count), default=None)
    assert report.grew_most == grown

    outlets_now = Counter((m.outlet, m.kind) for m in now)
    assert {(r.outlet, r.kind): r.count for r in report.outlets} == dict(
        sorted(outlets_now.items(),
               key=lambda kv: (-kv[1], kv[0][0].casefold(), kv[0][1].value))[:15])
    assert report.top_outlet.count == max(outlets_now.values())
    for outlet, by_issue in report.outlet_issues.items():
        assert by_issue == dict(Counter(w for m in now if m.outlet == outlet for w in m.issues))


def test_share_of_voice_overall_per_issue_and_over_time(world: World):
    with world.db.session() as session:
        report = board_report(session, world.user, MARCH, own_party="V")
    now, before = _within(world, MARCH), _within(world, MARCH.previous())
    namings = Counter(p for m in now for p in m.parties)
    namings_before = Counter(p for m in before for p in m.parties)
    whole, whole_before = sum(namings.values()), sum(namings_before.values())
    assert [(v.party, v.count) for v in report.voice] == [(c, namings[c]) for c in CODES]
    for v in report.voice:
        assert v.share == pytest.approx(namings[v.party] / whole)
        assert v.previous_share == pytest.approx(namings_before[v.party] / whole_before)
    assert report.own_share.party == "V"
    for watchlist_id, rows in report.voice_by_issue.items():
        counted = Counter(p for m in now if watchlist_id in m.issues for p in m.parties)
        assert {v.party: v.count for v in rows if v.count} == dict(counted)
    for party, series in report.voice_series.items():
        daily = Counter(_day(m.at) for m in now if party in m.parties)
        assert series == [daily[date(2026, 3, d)] for d in range(1, 32)]


def test_top_stories_rank_by_outlets_and_people_by_mentions(world: World):
    with world.db.session() as session:
        report = board_report(session, world.user, MARCH)
    now = _within(world, MARCH)
    ranked = sorted(now, key=lambda m: (-len(set(m.sighting_outlets)),
                                        -len(m.sighting_outlets), -m.id))[:10]
    assert [(s.mention_id, s.outlets, s.sightings) for s in report.stories] == [
        (m.id, len(set(m.sighting_outlets)), len(m.sighting_outlets)) for m in ranked]
    named = Counter(p for m in now for p in m.people)
    assert {r.person_id: r.count for r in report.people} == dict(named)
    assert [r.count for r in report.people] == sorted(named.values(), reverse=True)


def test_a_week_long_period_and_a_quarter_are_counted_alike(world: World):
    week = parse("2026-03-02..2026-03-08", date(2026, 4, 1))
    quarter = parse("2026-Q1", date(2026, 4, 1))
    with world.db.session() as session:
        for period, grain, buckets in ((week, "day", 7), (quarter, "week", 14)):
            report = board_report(session, world.user, period)
            assert period.grain == grain and len(report.buckets) == buckets
            assert report.total == len(_within(world, period)) == sum(report.series)
            assert report.previous_total == len(_within(world, period.previous()))


def test_the_csv_tables_hold_the_reports_rows(world: World):
    with world.db.session() as session:
        report = board_report(session, world.user, MARCH)
    header, rows = tables.rows(report, "issues")
    assert header[:3] == ["watchlist_id", "issue", "mentions"]
    assert [(r[0], r[2]) for r in rows] == [(i.watchlist_id, i.count) for i in report.issues]
    header, rows = tables.rows(report, "series")
    assert sum(r[2] for r in rows) == report.total and rows[0][0] == "2026-03-01"
    header, rows = tables.rows(report, "voice_series")
    assert header[2:] == list(CODES)
    assert [sum(r[2 + i] for r in rows) for i in range(len(CODES))] == [
        v.count for v in report.voice]  # each party's namings over the days = its total
    for table in tables.TABLES:
        header, rows = tables.rows(report, table)
        assert all(len(row) == len(header) for row in rows), table


def test_tone_per_issue_and_over_time(world: World):
    with world.db.session() as session:
        report = board_report(session, world.user, MARCH)
    now = _within(world, MARCH)
    for watchlist_id in world.issue_names:
        counted = Counter(m.tone or "unscored" for m in now if watchlist_id in m.issues)
        assert report.tone_by_issue.get(watchlist_id, {}) == dict(counted)
    for tone in ("positive", "neutral", "negative", "unscored"):
        daily = Counter(_day(m.at) for m in now if (m.tone or "unscored") == tone)
        assert report.tone_series[tone] == [daily[date(2026, 3, d)] for d in range(1, 32)]


def test_our_own_accounts_posts_count_in_no_figure(world: World):
    """The district's own tweets found by X search are ours, not coverage: with forty of them
    added across both periods (naming issues, parties and people, widely seen), every figure of
    the report is what it was; the same rows, not ours, would change them."""
    with world.db.session() as session:
        before = board_report(session, world.user, MARCH)
        account = Account(platform=Platform.X, name="Vänsterpartiet Värmland", handle="vpvarmland",
                          external_id="4242", organisation_id=district(session).id,
                          credentials_sealed="")
        session.add(account)
        session.flush()
        issues, people = sorted(world.issue_names), sorted(world.people)
        for n in range(40):
            at = datetime(2026, 2, 10, 12, tzinfo=UTC) + timedelta(days=n, minutes=7 * n)
            session.add(Mention(
                title=f"@vpvarmland: Vårt inlägg {n}", outlet="X", source_kind=SourceKind.X_SEARCH,
                text="", published_at=at, first_seen_at=at, hits="[]", updated_at=at,
                tone="positive", own_account_id=account.id, author_platform="x",
                author_id="4242", author_handle="vpvarmland",
                watchlists=[MentionWatchlist(watchlist_id=issues[n % len(issues)])],
                party_rows=[MentionParty(party="V"), MentionParty(party=CODES[n % len(CODES)])]
                if CODES[n % len(CODES)] != "V" else [MentionParty(party="V")],
                person_rows=[MentionPerson(person_id=people[n % len(people)])],
                sightings=[Sighting(item_key=f"own-{n}-{i}", outlet=o, title="", seen_at=at)
                           for i, o in enumerate(OUTLETS)]))
    with world.db.session() as session:
        assert board_report(session, world.user, MARCH) == before
        session.execute(update(Mention).where(Mention.own_account_id.is_not(None))
                        .values(own_account_id=None))
        counted = board_report(session, world.user, MARCH)
    in_march = sum(1 for n in range(40) if (datetime(2026, 2, 10, 12, tzinfo=UTC)
                                            + timedelta(days=n, minutes=7 * n)).month == 3)
    assert counted.total == before.total + in_march
    assert counted.previous_total == before.previous_total + 40 - in_march
    assert counted.own_share.count > before.own_share.count
    assert sum(r.count for r in counted.issues) == sum(r.count for r in before.issues) + in_march
    assert counted.stories[0].outlets == len(OUTLETS) and counted.stories != before.stories

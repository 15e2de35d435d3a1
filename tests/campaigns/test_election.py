"""The election plan: the default election day by the rule under fixed clocks (around election
day and midnight in Stockholm), a chosen day, and the weekly counts per account equal to plain
counts of seeded rows, on both databases, in a bounded number of queries."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event, insert

from campaigns.election import (
    default_election_day,
    election,
    plan,
    second_sunday_of_september,
    set_election_day,
)
from campaigns.models import Campaign, Event, EventKind, TargetKind
from core.auth import NotAllowed, create_user, district
from core.clock import STOCKHOLM
from core.db import Database
from core.i18n import ValidationErrors
from core.users import Organisation, OrganisationKind, Role, User
from publisher.deliveries import OPEN
from publisher.models import Account, Delivery, DeliveryState, Platform, Post

S = DeliveryState
# 2030-03-20 11:00 in Stockholm (a Wednesday, ISO week 12), before the clocks go forward on
# Sunday 31 March; the rule's election that year is Sunday 8 September (week 36).
NOW = datetime(2030, 3, 20, 10, 0, tzinfo=UTC)
ELECTION_2030 = date(2030, 9, 8)


@pytest.mark.parametrize(("today", "expected"), [
    (date(2010, 5, 1), date(2014, 9, 14)),
    (date(2014, 9, 14), date(2014, 9, 14)),
    (date(2014, 9, 15), date(2018, 9, 9)),
    (date(2018, 1, 1), date(2018, 9, 9)),
    (date(2021, 12, 31), date(2022, 9, 11)),
    (date(2022, 9, 12), date(2026, 9, 13)),
    (date(2026, 9, 12), date(2026, 9, 13)),
    (date(2026, 9, 13), date(2026, 9, 13)),  # on election day: today is the day
    (date(2026, 9, 14), date(2030, 9, 8)),  # the day after: the next one
    (date(2027, 2, 28), date(2030, 9, 8)),
    (date(2030, 9, 8), date(2030, 9, 8)),
    (date(2030, 9, 9), date(2034, 9, 10)),
])
def test_the_default_election_day_is_the_second_sunday_of_september_every_fourth_year(
        today, expected):
    found = default_election_day(today)
    assert found == expected
    assert found.weekday() == 6 and found.month == 9 and 8 <= found.day <= 14
    assert (found.year - 2014) % 4 == 0


def test_the_elections_sweden_held():
    assert [second_sunday_of_september(y) for y in (2014, 2018, 2022)] == [
        date(2014, 9, 14), date(2018, 9, 9), date(2022, 9, 11)]


@pytest.fixture
def db(any_db_url: str) -> Iterator[Database]:
    database = Database(any_db_url)
    yield database
    database.dispose()


def _user(db: Database, role: Role, organisation: Organisation | None = None) -> User:
    with db.session() as session:
        org = session.get(Organisation, organisation.id) if organisation else None
        user = create_user(session, email=f"{role.value}-{id(org)}@example.org", name="Test",
                           password="correct horse battery", role=role, organisation=org)
        session.flush()
        session.refresh(user)
        return user


def _election(db: Database, now: datetime):
    with db.session() as session:
        return election(session, now)


@pytest.mark.parametrize(("now", "expected", "days_left"), [
    # 23:59 on election day in Stockholm (summer time, UTC+2): still the day.
    (datetime(2026, 9, 13, 21, 59, tzinfo=UTC), date(2026, 9, 13), 0),
    # Midnight in Stockholm: the next election, although it is still the 13th in UTC.
    (datetime(2026, 9, 13, 22, 0, tzinfo=UTC), date(2030, 9, 8), 1455),
    (datetime(2026, 9, 12, 22, 0, tzinfo=UTC), date(2026, 9, 13), 0),
    (datetime(2026, 9, 12, 21, 59, tzinfo=UTC), date(2026, 9, 13), 1),
])
def test_the_clock_is_read_in_stockholm(db, now, expected, days_left):
    found = _election(db, now)
    assert (found.day, found.chosen, found.days_left) == (expected, False, days_left)


def test_a_chosen_day_counts_until_it_has_passed_and_only_leads_choose(db):
    lead, board = _user(db, Role.CAMPAIGN_LEAD), _user(db, Role.BOARD)
    with db.session() as session:
        association = Organisation(name="V Kil", kind=OrganisationKind.ASSOCIATION,
                                   parent=district(session))
        session.add(association)
    local_lead = _user(db, Role.CAMPAIGN_LEAD, association)
    for who in (board, local_lead):
        with db.session() as session, pytest.raises(NotAllowed):
            set_election_day(session, session.get(User, who.id), "2030-06-01", NOW)
    for text, problem in (("1 juni", "YYYY-MM-DD"), ("2030-03-19", "past"),
                          ("2036-04-01", "six years")):
        with db.session() as session, pytest.raises(ValidationErrors) as refused:
            set_election_day(session, session.get(User, lead.id), text, NOW)
        assert [e.field for e in refused.value.errors] == ["day"]
        assert problem in str(refused.value)
    assert _election(db, NOW).chosen is False
    with db.session() as session:
        chosen = set_election_day(session, session.get(User, lead.id), "2030-03-20", NOW)
    assert (chosen.day, chosen.chosen, chosen.days_left) == (date(2030, 3, 20), True, 0)
    # 23:59 in Stockholm (winter time, UTC+1): still the day; at midnight it has passed.
    assert _election(db, NOW + timedelta(hours=12, minutes=59)).day == date(2030, 3, 20)
    after = _election(db, NOW + timedelta(hours=13))
    assert (after.day, after.chosen) == (ELECTION_2030, False)
    with db.session() as session:
        set_election_day(session, session.get(User, lead.id), "2030-05-01", NOW)
    with db.session() as session:
        back = set_election_day(session, session.get(User, lead.id), "  ", NOW)
    assert (back.day, back.chosen) == (ELECTION_2030, False)


def _local(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=STOCKHOLM).astimezone(UTC)


def _week(moment: datetime) -> tuple[int, int]:
    iso = moment.astimezone(STOCKHOLM).isocalendar()
    return iso.year, iso.week


@dataclass
class World:
    db: Database
    board: User
    local: User  # a comms user of the first association
    accounts: dict[int, int]  # account id -> organisation id
    # (ISO year, week, account id) -> [published, planned], from the seed
    expected: Counter[tuple[int, int, int, str]]
    event_weeks: set[tuple[int, int]]
    campaign_weeks: dict[str, set[tuple[int, int]]]


@pytest.fixture
def world(db: Database) -> World:
    """Three accounts, 4,000 deliveries in every state from February to October 2030 (before
    this week, in it, up to and after election week, across the spring clock change), two
    campaigns and a few events, leaving some weeks with nothing."""
    rng = random.Random(13)
    with db.session() as session:
        home = district(session)
        clubs = [Organisation(name=f"V {town}", kind=OrganisationKind.ASSOCIATION, parent=home)
                 for town in ("Karlstad", "Arvika")]
        session.add_all(clubs)
        session.flush()
        board = create_user(session, email="board@example.org", name="Styrelse",
                            password="correct horse battery", role=Role.BOARD)
        local = create_user(session, email="local@example.org", name="Karlstad",
                            password="correct horse battery", role=Role.COMMS,
                            organisation=clubs[0])
        accounts = [Account(platform=platform, name=f"{org.name} {platform.value}",
                            external_id=f"{org.id}-{platform.value}", organisation_id=org.id,
                            credentials_sealed="-")
                    for org, platform in ((home, Platform.X), (clubs[0], Platform.FACEBOOK),
                                          (clubs[1], Platform.X))]
        session.add_all(accounts)
        session.flush()
        # Weeks 18-21 and 30-33 stay empty: only failed and cancelled posts there.
        quiet = {18, 19, 20, 21, 30, 31, 32, 33}
        start, end = _local(2030, 2, 1, 0), _local(2030, 10, 15, 0)
        span = int((end - start).total_seconds() // 60)
        moments = [start + timedelta(minutes=rng.randrange(span)) for _ in range(2000)]
        # Either side of the spring change's Sunday midnight, and of this week's Monday.
        moments += [_local(2030, 3, 31, 23, 30), _local(2030, 4, 1, 0, 10),
                    _local(2030, 3, 17, 23, 59), _local(2030, 3, 18, 0, 0),
                    _local(2030, 9, 8, 23, 59), _local(2030, 9, 9, 0, 0)]
        posts = []
        for n, at in enumerate(moments):
            post = Post(author_id=board.id, text=f"Inlägg {n}", scheduled_at=at)
            posts.append((post, at))
        session.add_all(p for p, _ in posts)
        session.flush()
        expected: Counter[tuple[int, int, int, str]] = Counter()
        first_monday, after_election = _local(2030, 3, 18, 0), _local(2030, 9, 9, 0)
        rows = []
        for post, at in posts:
            for account in rng.sample(accounts, rng.randint(1, 3)):
                if _week(at)[1] in quiet and at.year == 2030:
                    state = rng.choice((S.FAILED, S.CANCELLED))
                else:
                    state = rng.choice(sorted(S))
                went_out = at + timedelta(seconds=rng.randrange(0, 90)) \
                    if state is S.PUBLISHED else None
                rows.append(dict(post_id=post.id, account_id=account.id, state=state,
                                 due_at=at, next_attempt_at=at, published_at=went_out,
                                 updated_at=at, attempts=0))
                moment = went_out if state is S.PUBLISHED else at
                kind = "published" if state is S.PUBLISHED else "planned" \
                    if state in OPEN else None
                if kind and first_monday <= moment < after_election:
                    expected[(*_week(moment), account.id, kind)] += 1
        session.execute(insert(Delivery), rows)
        events = [("Medlemsmöte", _local(2030, 5, 8, 19)), ("Valkonferens", _local(2030, 8, 1, 10)),
                  ("Inställt möte", _local(2030, 8, 8, 10)),
                  ("Förra veckan", _local(2030, 3, 17, 18))]
        for title, at in events:
            session.add(Event(title=title, kind=EventKind.MEETING, starts_at=at,
                              ends_at=at + timedelta(hours=2), organiser_id=home.id,
                              cancelled_at=at if title.startswith("Inställt") else None))
        campaigns = {"Vår": (date(2030, 3, 1), date(2030, 4, 10)),
                     "Val": (date(2030, 8, 26), date(2030, 9, 8))}
        for name, (first, last) in campaigns.items():
            session.add(Campaign(name=name, slug=name.lower(), starts_on=first, ends_on=last,
                                 deadline=NOW, target_kind=TargetKind.ALL,
                                 utm_campaign=name.lower()))
        session.flush()
        campaign_weeks = {name: {(d.isocalendar().year, d.isocalendar().week)
                                 for d in (first + timedelta(n) for n in
                                           range((last - first).days + 1))
                                 if d >= date(2030, 3, 18)}
                          for name, (first, last) in campaigns.items()}
        return World(db, board, local, {a.id: a.organisation_id for a in accounts}, expected,
                     {(2030, 19), (2030, 31)}, campaign_weeks)


def _plan(world: World, user: User):
    with world.db.session() as session:
        return plan(session, session.get(User, user.id), NOW)


def test_each_week_counts_each_accounts_posts_as_plain_counts_do(world):
    found = _plan(world, world.board)
    assert found.election.day == ELECTION_2030 and not found.election.chosen
    assert [(w.year, w.number) for w in found.weeks] == [(2030, n) for n in range(12, 37)]
    assert found.weeks[-1].election and not any(w.election for w in found.weeks[:-1])
    counted: Counter[tuple[int, int, int, str]] = Counter()
    for week in found.weeks:
        for row in week.accounts:
            counted[(week.year, week.number, row.account_id, "published")] += row.published
            counted[(week.year, week.number, row.account_id, "planned")] += row.planned
    assert +counted == +world.expected
    assert sum(world.expected.values()) > 1000
    # Either side of Monday midnight after the spring change: weeks 13 and 14.
    week13, week14 = found.weeks[1], found.weeks[2]
    assert week13.start == _local(2030, 3, 25, 0) and week14.start == _local(2030, 4, 1, 0)
    assert week14.start - week13.start == timedelta(days=7, hours=-1)


def test_weeks_with_nothing_planned_are_the_empty_ones(world):
    found = _plan(world, world.board)
    empty = {w.number for w in found.weeks if w.empty}
    assert empty == {18, 20, 21, 30, 32, 33}  # 19 and 31 have an event
    assert found.empty_weeks == 6
    by_number = {w.number: w for w in found.weeks}
    assert [e.title for e in by_number[19].events] == ["Medlemsmöte"]
    assert [e.title for e in by_number[31].events] == ["Valkonferens"]
    assert not by_number[32].events  # the cancelled meeting is not planned
    assert not any(e.title == "Förra veckan" for w in found.weeks for e in w.events)
    rows = [[w.number for w in s.weeks] for s in found.stretches]
    assert [20, 21] in rows and [32, 33] in rows and [18] in rows and [30] in rows
    for name, weeks in world.campaign_weeks.items():
        assert {(w.year, w.number) for w in found.weeks
                if name in [c[1] for c in w.campaigns]} == weeks


def test_an_associations_user_sees_its_own_accounts_only(world):
    found = _plan(world, world.local)
    own = {a for a, org in world.accounts.items() if org == world.local.organisation_id}
    seen = {row.account_id for week in found.weeks for row in week.accounts}
    assert seen == own
    assert sum(r.published + r.planned for w in found.weeks for r in w.accounts) == sum(
        n for (_y, _w, account, _k), n in world.expected.items() if account in own)


def test_the_plan_takes_the_same_few_queries_however_many_posts(world):
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(world.db.engine, "before_cursor_execute", count)
    try:
        _plan(world, world.board)
    finally:
        event.remove(world.db.engine, "before_cursor_execute", count)
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) <= 8

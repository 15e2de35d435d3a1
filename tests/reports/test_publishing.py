"""What we said beside what media wrote: every publishing figure of the board's report equals a
plain count of the seeded rows, on both databases.

The seed: the district and two associations with an X account and a Facebook Page each, a few
hundred posts over February and March 2026 sent to one or more accounts (published, failed or
still waiting), metrics fetched several times for published ones (growing, some without
impressions), words that the issues' watchlist queries match. Posts are filed under issues by
reports.post_issues, as the scheduler does; the expectations are computed in Python from the
seed, never with reports.publishing.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from core.auth import create_user, district
from core.clock import STOCKHOLM
from core.db import Database
from core.users import Organisation, OrganisationKind, Role
from monitor.models import Watchlist
from publisher.metrics import PostMetric
from publisher.models import Account, Delivery, DeliveryState, Platform, Post, PostPart
from reports import snapshots, tables
from reports.board import board_report
from reports.period import Period
from reports.post_issues import PostWatchlist, classify_due

MARCH = Period(date(2026, 3, 1), date(2026, 3, 31), "month")
# Watchlist query -> a word that matches it, and one that does not.
ISSUES = {"buss* OR kollektivtrafik": "bussarna", "\"hyra lägenhet\"": "hyra lägenhet",
          "vård*": "vårdcentralen", "skola": "skola"}


@dataclass(frozen=True)
class Sent:
    delivery_id: int
    post_id: int
    organisation_id: int
    at: datetime | None  # when it went out; None if it did not
    issues: frozenset[int]
    engagement: int
    reach: int


@dataclass
class World:
    db: Database
    board: object
    association_user: object
    association_id: int
    sent: list[Sent]
    issue_names: dict[int, str]


def _day(moment: datetime) -> date:
    return moment.astimezone(STOCKHOLM).date()


@pytest.fixture
def world(any_db_url: str) -> Iterator[World]:
    db = Database(any_db_url)
    rng = random.Random(7)
    with db.session() as session:
        home = district(session)
        clubs = [Organisation(name=f"V {town}", kind=OrganisationKind.ASSOCIATION, parent=home)
                 for town in ("Karlstad", "Arvika")]
        session.add_all(clubs)
        session.flush()
        board = create_user(session, email="styrelse@example.org", name="Styrelse",
                            password="correct horse battery", role=Role.BOARD)
        member = create_user(session, email="karlstad@example.org", name="Karlstad",
                             password="correct horse battery", role=Role.COMMS,
                             organisation=clubs[0])
        accounts = [Account(platform=platform, name=f"{org.name} {platform.value}",
                            external_id=f"{org.id}-{platform.value}", organisation_id=org.id,
                            credentials_sealed="-")
                    for org in (home, *clubs) for platform in (Platform.X, Platform.FACEBOOK)]
        issues = [Watchlist(name=f"Fråga {i}", query=query) for i, query in enumerate(ISSUES)]
        session.add_all(accounts + issues)
        session.flush()
        words = list(ISSUES.values())
        sent: list[Sent] = []
        start = datetime(2026, 1, 28, tzinfo=UTC)
        for n in range(300):
            at = start + timedelta(minutes=rng.randrange(0, 66 * 24 * 60, 7))
            chosen = rng.sample(range(len(issues)), rng.choice((0, 1, 1, 2)))
            text = " ".join(["Vi säger", *(words[i] for i in chosen), f"inlägg {n}"])
            part = None
            if chosen and rng.random() < 0.2:  # the issue's words only in the thread's part
                text, part = f"Inlägg {n}", text
            post = Post(author_id=board.id, text=text, scheduled_at=at,
                        parts=[PostPart(position=1, text=part)] if part else [])
            session.add(post)
            session.flush()
            for account in rng.sample(accounts, rng.randint(1, 3)):
                state = rng.choice((DeliveryState.PUBLISHED,) * 6 + (
                    DeliveryState.FAILED, DeliveryState.SCHEDULED))
                went_out = at + timedelta(seconds=rng.randrange(0, 300)) \
                    if state is DeliveryState.PUBLISHED else None
                delivery = Delivery(post_id=post.id, account_id=account.id, state=state,
                                    due_at=at, next_attempt_at=at, published_at=went_out,
                                    external_id=f"ext-{n}-{account.id}" if went_out else None,
                                    external_url=f"https://example.org/{n}/{account.id}"
                                    if went_out else None, updated_at=at)
                session.add(delivery)
                session.flush()
                fetches: list[dict[str, int | None]] = []
                if went_out is not None:
                    for fetch in range(rng.choice((0, 1, 3))):
                        grow = fetch + 1
                        figures = {"likes": 2 * grow, "reposts": grow, "replies": n % 3,
                                   "quotes": grow // 2, "comments": grow % 2 * 5,
                                   "impressions": None if account.platform is Platform.FACEBOOK
                                   else 100 * grow + n}
                        session.add(PostMetric(delivery_id=delivery.id,
                                               fetched_at=went_out + timedelta(hours=grow),
                                               **figures))
                        fetches.append(figures)
                # The highest of each figure over the fetches (comments peak on the first).
                engagement = sum(max(f[k] or 0 for f in fetches) for k in
                                 ("likes", "reposts", "replies", "quotes", "comments")
                                 ) if fetches else 0
                reach = max((f["impressions"] or 0 for f in fetches), default=0)
                sent.append(Sent(delivery.id, post.id, account.organisation_id, went_out,
                                 frozenset(issues[i].id for i in chosen), engagement, reach))
        session.flush()
        while classify_due(session, limit=100) == 100:
            pass
        found = World(db, board, member, clubs[0].id, sent, {w.id: w.name for w in issues})
    yield found
    db.dispose()


def _out_in(world: World, period: Period, organisation_id: int | None = None) -> list[Sent]:
    return [s for s in world.sent if s.at is not None and period.first <= _day(s.at) <= period.last
            and organisation_id in (None, s.organisation_id)]


def test_publications_reach_and_engagement_equal_plain_counts(world: World):
    with world.db.session() as session:
        report = board_report(session, world.board, MARCH)
    ours = report.publishing
    now, before = _out_in(world, MARCH), _out_in(world, MARCH.previous())
    assert ours.scope == ""
    assert ours.count == len(now) > 0 and ours.previous == len(before) > 0
    per_day = Counter(_day(s.at) for s in now)
    assert ours.series == [per_day[date(2026, 3, d)] for d in range(1, 32)]
    assert ours.engagement == sum(s.engagement for s in now) > 0
    assert ours.reach == sum(s.reach for s in now) > 0
    # Failed and waiting deliveries are not publications.
    assert len(now) < len([s for s in world.sent if s.at is None]) + len(now)


def test_posts_are_filed_under_issues_by_the_watchlist_queries(world: World):
    with world.db.session() as session:
        report = board_report(session, world.board, MARCH)
    now = _out_in(world, MARCH)
    expected = {w: [s for s in now if w in s.issues] for w in world.issue_names}
    assert {w: row.count for w, row in report.publishing.by_issue.items()} == {
        w: len(rows) for w, rows in expected.items() if rows}
    for w, row in report.publishing.by_issue.items():
        daily = Counter(_day(s.at) for s in expected[w])
        assert row.series == [daily[date(2026, 3, d)] for d in range(1, 32)]
        assert row.engagement == sum(s.engagement for s in expected[w])
        assert row.reach == sum(s.reach for s in expected[w])
    with world.db.session() as session:
        filed = set(session.execute(select(PostWatchlist.post_id, PostWatchlist.watchlist_id)))
    assert filed == {(s.post_id, w) for s in world.sent if s.at is not None for w in s.issues}


def test_each_organisation_and_the_top_posts(world: World):
    with world.db.session() as session:
        report = board_report(session, world.board, MARCH)
    ours = report.publishing
    now, before = _out_in(world, MARCH), _out_in(world, MARCH.previous())
    counted = Counter(s.organisation_id for s in now)
    assert {r.organisation_id: (r.count, r.previous, r.engagement) for r in ours.by_organisation
            } == {org: (counted[org], sum(1 for s in before if s.organisation_id == org),
                        sum(s.engagement for s in now if s.organisation_id == org))
                  for org in {s.organisation_id for s in now + before}}
    assert ours.by_organisation[0].kind == "district"
    ranked = sorted(now, key=lambda s: (-s.engagement, -s.reach, -s.at.timestamp(),
                                        -s.delivery_id))[:10]
    assert [p.delivery_id for p in ours.top] == [s.delivery_id for s in ranked]
    assert [p.engagement for p in ours.top] == [s.engagement for s in ranked]
    for post, seed in zip(ours.top, ranked, strict=True):
        assert post.likes + post.reposts + post.replies + post.quotes + post.comments \
            == seed.engagement
        assert post.issues == sorted(seed.issues) and post.url


def test_an_associations_user_sees_its_own_publishing_beside_all_coverage(world: World):
    with world.db.session() as session:
        everyone = board_report(session, world.board, MARCH)
        own = board_report(session, world.association_user, MARCH)
    mine = _out_in(world, MARCH, world.association_id)
    assert own.publishing.scope == "V Karlstad"
    assert own.publishing.count == len(mine) < everyone.publishing.count
    assert [r.organisation_id for r in own.publishing.by_organisation] == [world.association_id]
    assert {p.delivery_id for p in own.publishing.top} <= {s.delivery_id for s in mine}
    # The coverage is the district's, the same for both.
    assert own.total == everyone.total and own.issues == everyone.issues


def test_the_snapshot_keeps_publishing_and_each_scope_has_its_own(world: World):
    now = datetime(2026, 4, 2, 8, tzinfo=UTC)
    with world.db.session() as session:
        counted, _ = snapshots.cached_report(session, world.board, MARCH, now=now)
        mine, _ = snapshots.cached_report(session, world.association_user, MARCH, now=now)
    with world.db.session() as session:
        again, at = snapshots.cached_report(session, world.board, MARCH,
                                            now=now + timedelta(minutes=1))
        mine_again, _ = snapshots.cached_report(session, world.association_user, MARCH,
                                                now=now + timedelta(minutes=1))
    assert at == now  # served from the snapshot
    assert again.publishing == counted.publishing
    assert mine_again.publishing == mine.publishing != counted.publishing


def test_a_changed_query_files_the_posts_again(world: World):
    with world.db.session() as session:
        watchlist = session.scalar(select(Watchlist).where(Watchlist.query == "skola"))
        watchlist.query = "skola OR bussarna"
        session.flush()
        refiled = 0
        while (done := classify_due(session, limit=100)):
            refiled += done
        filed = {post for post, in session.execute(
            select(PostWatchlist.post_id).where(PostWatchlist.watchlist_id == watchlist.id))}
    published = {s.post_id for s in world.sent if s.at is not None}
    assert refiled == len(published)
    bus = next(w for w, q in zip(world.issue_names, ISSUES, strict=True) if q.startswith("buss"))
    school = next(w for w, q in zip(world.issue_names, ISSUES, strict=True) if q == "skola")
    assert filed == {s.post_id for s in world.sent if s.at is not None
                     and (bus in s.issues or school in s.issues)}


def test_the_csv_tables_hold_the_publishing_rows(world: World):
    with world.db.session() as session:
        report = board_report(session, world.board, MARCH)
    header, rows = tables.rows(report, "posts")
    assert header[:3] == ["watchlist_id", "issue", "mentions"]
    assert {r[0]: r[3] for r in rows} == {
        w: report.publishing.by_issue[w].count if w in report.publishing.by_issue else 0
        for w in {r[0] for r in rows}}
    header, rows = tables.rows(report, "top_posts")
    assert [r[0] for r in rows] == [p.delivery_id for p in report.publishing.top]
    header, rows = tables.rows(report, "publishers")
    assert sum(r[3] for r in rows) == report.publishing.count


def test_a_post_published_through_the_sandbox_stands_beside_the_coverage(
        services, sandbox, make_user, make_org, make_account):
    """The whole path: queued, published by the dispatcher through the real clients, its
    numbers fetched from the network, filed under its issue, counted in the report."""
    import requests

    from core.clock import utcnow
    from publisher.dispatch import Dispatcher
    from publisher.metrics import collect_due_metrics
    from reports.period import parse
    from tests.factories import deliveries, queue_post

    club = make_org("V Arvika")
    x, _ = make_account(Platform.X)
    page, _ = make_account(Platform.FACEBOOK, organisation=club)
    board = make_user(Role.BOARD)
    with services.db.session() as session:
        session.add(Watchlist(name="Kollektivtrafik", query="buss* OR kollektivtrafik"))
    queue_post(services.db, make_user(Role.COMMS), [x, page],
               text="Bussarna i Värmland måste gå oftare!")
    Dispatcher(services.db, services.platforms, services.box, "w1").run_once()
    tweet, page_post = sorted(deliveries(services.db), key=lambda d: d.account_id)
    for delivery, figures in ((tweet, {"likes": 40, "reposts": 6, "quotes": 2,
                                       "impressions": 900}),
                              (page_post, {"likes": 12, "reposts": 3})):
        requests.post(f"{sandbox.url}/sandbox/api/posts/{delivery.external_id}/metrics",
                      json=figures, timeout=10).raise_for_status()
    collect_due_metrics(services.db, services.box, services.platforms,
                        now=utcnow() + timedelta(minutes=16))
    with services.db.session() as session:
        assert classify_due(session) == 1
        assert classify_due(session) == 0  # filed once
        today = utcnow().astimezone(STOCKHOLM).date()
        report = board_report(session, session.merge(board), parse("this-week", today))
        issue = session.scalar(select(Watchlist.id).where(Watchlist.name == "Kollektivtrafik"))
    ours = report.publishing
    assert ours.count == 2 and ours.engagement == 40 + 6 + 2 + 12 + 3 and ours.reach == 900
    assert ours.by_issue[issue].count == 2
    assert [(o.name, o.count) for o in ours.by_organisation] == [
        (ours.by_organisation[0].name, 1), ("V Arvika", 1)]
    assert [(p.account, p.engagement, p.impressions) for p in ours.top] == [
        (x.name, 48, 900), (page.name, 15, None)]
    assert ours.top[0].url == tweet.external_url

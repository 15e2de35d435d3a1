"""After publishing, each post's numbers are fetched on a thinning schedule through the real
clients, kept as a time series, and never fetched twice at once or after the post is gone."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from core.auth import create_user
from core.clock import utcnow
from core.users import Role
from publisher.dispatch import Dispatcher
from publisher.metrics import (
    MetricsSchedule,
    PostMetric,
    collect_due_metrics,
    fetch_interval,
    metrics_series,
    metrics_summary,
    next_fetch_at,
)
from publisher.models import Account, DeliveryState, Platform
from tests.conftest import PASSWORD, build_services, connect_sandbox_account
from tests.factories import deliveries, queue_post
from tests.publisher.sandbox_faults import set_faults

H, M, D = timedelta(hours=1), timedelta(minutes=1), timedelta(days=1)
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(("fetched_at_age", "next_at_age"), [
    (None, 15 * M),  # first fetch 15 min after publishing
    (15 * M, 30 * M),
    (1 * H + 50 * M, 2 * H + 5 * M),  # every 15 min in the first 2 h
    (2 * H, 3 * H),  # hourly to 24 h
    (23 * H + 30 * M, 24 * H + 30 * M),
    (24 * H, 30 * H),  # every 6 h to 7 days
    (6 * D + 23 * H, 7 * D + 5 * H),
    (7 * D, 8 * D),  # daily to 30 days
    (29 * D + 12 * H, 30 * D),  # the last fetch falls on day 30 exactly
    (30 * D, None),  # then never
    (45 * D, None),
])
def test_schedule_thins_out_as_the_post_ages(fetched_at_age, next_at_age):
    fetched_at = T0 + fetched_at_age if fetched_at_age is not None else None
    expected = T0 + next_at_age if next_at_age is not None else None
    assert next_fetch_at(T0, fetched_at) == expected


def test_fetch_interval_table():
    assert [fetch_interval(age) for age in (0 * M, 119 * M, 2 * H, 23 * H, 24 * H, 6 * D,
                                            7 * D, 29 * D, 30 * D)] == [
        15 * M, 15 * M, H, H, 6 * H, 6 * H, D, D, None]


# -- against the sandbox ---------------------------------------------------------------------

def age_post(sandbox_url: str, post_id: str, **body) -> dict:
    response = requests.post(f"{sandbox_url}/sandbox/api/posts/{post_id}/metrics", json=body,
                             timeout=10)
    response.raise_for_status()
    return response.json()


def publish(services, author, accounts, text: str) -> list:
    queue_post(services.db, author, accounts, text=text)
    Dispatcher(services.db, services.platforms, services.box, "w1").run_once()
    published = {d.account_id: d for d in deliveries(services.db) if d.post.text == text}
    assert {d.state for d in published.values()} == {DeliveryState.PUBLISHED}
    return [published[a.id] for a in accounts]


def collect(services, at: datetime, **kwargs):
    return collect_due_metrics(services.db, services.box, services.platforms, now=at, **kwargs)


def rows(services, delivery_id: int) -> list[PostMetric]:
    with services.db.session() as session:
        return metrics_series(session, delivery_id)


def schedule(services, delivery_id: int) -> MetricsSchedule:
    with services.db.session() as session:
        return session.get(MetricsSchedule, delivery_id)


def test_published_tweet_and_page_post_get_metrics_that_grow(services, sandbox, make_user,
                                                             make_account):
    x, _ = make_account(Platform.X)
    fb, _ = make_account(Platform.FACEBOOK)
    tweet, page_post = publish(services, make_user(Role.COMMS), [x, fb], "Mät mig")
    start = utcnow()
    assert collect(services, start).claimed == 0  # not due before 15 minutes

    for d in (tweet, page_post):
        age_post(sandbox.url, d.external_id, age_s=20 * 60)
    first = collect(services, start + 16 * M)
    assert (first.claimed, first.fetched) == (2, 2)
    [x1], [fb1] = rows(services, tweet.id), rows(services, page_post.id)
    sandbox_now = requests.get(f"{sandbox.url}/sandbox/api/posts/{tweet.external_id}/metrics",
                               timeout=10).json()
    assert x1.likes <= sandbox_now["likes"] and x1.impressions is not None
    assert x1.impressions <= sandbox_now["impressions"]
    assert fb1.impressions is None and fb1.quotes == 0  # the Graph fields give no impressions
    assert schedule(services, tweet.id).next_fetch_at == start + 31 * M

    assert collect(services, start + 25 * M).claimed == 0  # not due again yet
    for d in (tweet, page_post):
        age_post(sandbox.url, d.external_id, age_s=3 * 3600)
    second = collect(services, start + 32 * M)
    assert second.fetched == 2
    x2, fb2 = rows(services, tweet.id)[-1], rows(services, page_post.id)[-1]
    assert x2.likes > x1.likes and x2.impressions > x1.impressions
    assert fb2.likes > fb1.likes
    assert x2.fetched_at == start + 32 * M
    with services.db.session() as session:
        summary = metrics_summary(session, tweet.id)
    assert summary is not None and summary.fetches == 2 and summary.latest.likes == x2.likes


def test_fixed_numbers_come_through_exactly(services, sandbox, make_user, make_account):
    x, _ = make_account(Platform.X)
    fb, _ = make_account(Platform.FACEBOOK)
    tweet, page_post = publish(services, make_user(), [x, fb], "Exakta siffror")
    age_post(sandbox.url, tweet.external_id, likes=42, reposts=7, quotes=3, impressions=1234)
    age_post(sandbox.url, page_post.external_id, likes=12, reposts=5)
    collect(services, utcnow() + 16 * M)
    [x1], [fb1] = rows(services, tweet.id), rows(services, page_post.id)
    assert (x1.likes, x1.reposts, x1.quotes, x1.impressions, x1.replies) == (42, 7, 3, 1234, 0)
    assert (fb1.likes, fb1.reposts, fb1.comments, fb1.impressions) == (12, 5, 0, None)


def test_deleted_posts_stop_being_fetched(services, sandbox, make_user, make_account):
    x, _ = make_account(Platform.X)
    fb, _ = make_account(Platform.FACEBOOK)
    author = make_user()
    gone_tweet, gone_post = publish(services, author, [x, fb], "Tas bort")
    kept_tweet, = publish(services, author, [x], "Står kvar")
    with services.db.session() as session:
        x_secrets = services.box.open(session.get(Account, x.id).credentials_sealed)
        fb_secrets = services.box.open(session.get(Account, fb.id).credentials_sealed)
    services.platforms.x.delete(x_secrets, gone_tweet.external_id)
    services.platforms.facebook.delete(fb_secrets, gone_post.external_id)

    run = collect(services, utcnow() + 16 * M)
    assert (run.fetched, run.gone) == (1, 2)  # the live tweet came in the same X call
    assert len(rows(services, kept_tweet.id)) == 1
    for d in (gone_tweet, gone_post):
        assert rows(services, d.id) == []
        noted = schedule(services, d.id)
        assert noted.gone_at is not None and noted.next_fetch_at is None
    later = collect(services, utcnow() + 3 * H)
    assert later.claimed == 1 and later.gone == 0  # only the live one is asked for again


def test_rate_limit_defers_the_account_until_the_reset(services, sandbox, make_user,
                                                       make_account):
    x, creds = make_account(Platform.X)
    tweet, = publish(services, make_user(), [x], "Begränsad")
    set_faults(sandbox.url, creds["user_id"], error_rate=1.0, error_status=429)
    at = utcnow() + 16 * M
    run = collect(services, at)
    assert (run.fetched, run.deferred) == (0, 1)
    waiting = schedule(services, tweet.id)
    assert waiting.next_fetch_at > at and waiting.claimed_by is None
    assert "Too Many Requests" in (waiting.last_error or "")
    set_faults(sandbox.url, creds["user_id"])
    assert collect(services, waiting.next_fetch_at).fetched == 1


def test_refused_token_defers_quietly_and_asks_for_a_token_check(services, sandbox, make_user,
                                                                make_account):
    x, creds = make_account(Platform.X)
    tweet, = publish(services, make_user(), [x], "Token slutar fungera")
    set_faults(sandbox.url, creds["user_id"], expire_token=True)
    at = utcnow() + 16 * M
    assert collect(services, at).deferred == 1
    assert schedule(services, tweet.id).next_fetch_at == at + H
    assert deliveries(services.db)[0].state is DeliveryState.PUBLISHED  # nothing failed


# -- two collectors at once, on both databases -----------------------------------------------

@pytest.fixture
def db_services(any_db_url: str, tmp_path: Path, sandbox):
    built = build_services(tmp_path / "instance", any_db_url, sandbox.url)
    yield built
    built.db.dispose()


def test_two_concurrent_collectors_never_fetch_the_same_post_twice(db_services, sandbox):
    services = db_services
    accounts = [connect_sandbox_account(services, Platform.X) for _ in range(2)]
    accounts += [connect_sandbox_account(services, Platform.FACEBOOK)]
    for _, creds in accounts:
        set_faults(sandbox.url, creds.get("user_id") or creds["page_id"], latency_ms=150)
    with services.db.session() as session:
        author = create_user(session, email=f"{uuid.uuid4().hex[:8]}@example.org",
                             name="Testare", password=PASSWORD, role=Role.COMMS)
    for n in range(4):
        queue_post(services.db, author, [a for a, _ in accounts], text=f"Parallellt {n}")
    Dispatcher(services.db, services.platforms, services.box, "w1", concurrency=8).run_once()
    published = [d.id for d in deliveries(services.db)]
    assert len(published) == 12

    at = utcnow() + 16 * M
    start = threading.Barrier(2)
    runs = []

    def worker(name: str) -> None:
        start.wait()
        runs.append(collect(services, at, limit=8, worker_id=name))

    threads = [threading.Thread(target=worker, args=(f"c{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sum(r.claimed for r in runs) == 12 and all(r.claimed > 0 for r in runs)
    with services.db.session() as session:
        per_delivery = Counter(session.scalars(select(PostMetric.delivery_id)))
    assert per_delivery == Counter({d: 1 for d in published})

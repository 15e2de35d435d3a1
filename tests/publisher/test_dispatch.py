"""Due deliveries go out through the real clients to the sandbox, exactly once, or end in the
state and with the reason a user should see."""

import threading
import time
from datetime import UTC, datetime, timedelta

import requests
import tweepy
from sqlalchemy import update

from core.clock import STOCKHOLM, utcnow
from core.users import Role, User
from publisher.accounts import connect_account
from publisher.adapters.redirect import RewriteSession
from publisher.deliveries import claim_due, history
from publisher.dispatch import Dispatcher
from publisher.models import Account, CredentialStatus, Delivery, DeliveryState, Platform
from tests.factories import deliveries, queue_post
from tests.publisher.sandbox_faults import set_faults, stored_posts

S = DeliveryState


def dispatcher(services, worker="w1", later: int = 0) -> Dispatcher:
    """A worker; `later` runs it that many seconds in the future (past reconcile delays)."""
    return Dispatcher(services.db, services.platforms, services.box, worker, concurrency=4,
                      clock=lambda: utcnow() + timedelta(seconds=later))


def states(services) -> list[DeliveryState]:
    return [d.state for d in deliveries(services.db)]


def edit_delivery(services, delivery_id: int, **values) -> None:
    with services.db.session() as session:
        session.execute(update(Delivery).where(Delivery.id == delivery_id).values(**values))


def test_due_post_is_published_on_x_and_facebook_with_links(services, sandbox, make_user,
                                                             make_account):
    x, x_creds = make_account(Platform.X)
    fb, fb_creds = make_account(Platform.FACEBOOK)
    queue_post(services.db, make_user(Role.COMMS), [x, fb], text="Kollektivtrafiken i Värmland",
               link="https://vansterpartiet.se/varmland")
    assert dispatcher(services).run_once() == 2

    published = {d.account_id: d for d in deliveries(services.db)}
    assert {d.state for d in published.values()} == {S.PUBLISHED}
    tweet = stored_posts(sandbox.url, x_creds["user_id"])
    assert len(tweet) == 1 and tweet[0]["text"].startswith("Kollektivtrafiken i Värmland")
    assert published[x.id].external_id == str(tweet[0]["id"])
    assert requests.get(published[x.id].external_url, timeout=10).status_code == 200
    page_post = stored_posts(sandbox.url, fb_creds["page_id"])
    assert published[fb.id].external_id == str(page_post[0]["id"])
    assert "Kollektivtrafiken" in requests.get(published[fb.id].external_url, timeout=10).text


def test_a_slow_call_holds_up_nothing_and_what_went_out_shows_at_once(
        services, sandbox, make_user, make_account):
    """Four publishing threads, one stuck in a slow platform call: the other account's posts all
    go out meanwhile, and each shows as published long before the slow call returns (successes
    are recorded a few at a time, but none waits for long)."""
    slow, slow_creds = make_account(Platform.X)
    fast, _ = make_account(Platform.FACEBOOK)
    set_faults(sandbox.url, slow_creds["user_id"], latency_ms=6000)
    user = make_user()
    queue_post(services.db, user, [slow], text="Långsam")
    for n in range(5):
        queue_post(services.db, user, [fast], text=f"Snabb {n}")
    worker = Dispatcher(services.db, services.platforms, services.box, "w1", concurrency=4)
    running = threading.Thread(target=worker.run_once)
    running.start()
    try:
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline and any(
                d.state is not S.PUBLISHED for d in deliveries(services.db)
                if d.account_id == fast.id):
            time.sleep(0.05)
        by_account = {}
        for d in deliveries(services.db):
            by_account.setdefault(d.account_id, []).append(d.state)
        assert running.is_alive(), "the slow call should still be in progress"
        assert by_account == {slow.id: [S.SENDING], fast.id: [S.PUBLISHED] * 5}
    finally:
        running.join(timeout=30)
    assert states(services) == [S.PUBLISHED] * 6


def test_nothing_is_sent_before_it_is_due(services, make_user, make_account):
    x, _ = make_account(Platform.X)
    later = (datetime.now(STOCKHOLM) + timedelta(hours=2)).replace(tzinfo=None, microsecond=0)
    queue_post(services.db, make_user(), [x], at_local=later)
    assert dispatcher(services).run_once() == 0
    assert states(services) == [S.SCHEDULED]


def test_expired_token_holds_the_whole_account_until_it_is_reconnected(
        services, sandbox, make_user, make_account):
    x, creds = make_account(Platform.X)
    later = (datetime.now(STOCKHOLM) + timedelta(hours=1)).replace(tzinfo=None, microsecond=0)
    user = make_user()
    queue_post(services.db, user, [x], text="Nu")
    queue_post(services.db, user, [x], text="Sedan", at_local=later)
    set_faults(sandbox.url, creds["user_id"], expire_token=True)
    dispatcher(services).run_once()

    assert states(services) == [S.HELD, S.HELD]
    first = deliveries(services.db)[0]
    assert (first.error_kind, first.error_message) == ("auth", "Unauthorized")
    with services.db.session() as session:
        account = session.get(Account, x.id)
        assert account.credentials_status is CredentialStatus.BROKEN
        assert [e.to_state for e in history(session, first.id)] == ["scheduled", "sending", "held"]

    set_faults(sandbox.url, creds["user_id"])  # the token works again: reconnect
    with services.db.session() as session:
        connect_account(session, box=services.box, platforms=services.platforms,
                        user=session.get(User, user.id), platform=Platform.X, name=x.name,
                        organisation_id=x.organisation_id, credentials=creds)
    assert states(services) == [S.SCHEDULED, S.SCHEDULED]
    dispatcher(services).run_once()
    assert states(services) == [S.PUBLISHED, S.SCHEDULED]


def test_duplicate_text_published_before_fails_as_duplicate(services, make_user, make_account):
    x, _ = make_account(Platform.X)
    user = make_user()
    queue_post(services.db, user, [x], text="Samma text två gånger")
    dispatcher(services).run_once()
    queue_post(services.db, user, [x], text="Samma text två gånger")
    dispatcher(services).run_once()
    dispatcher(services, later=10).run_once()
    second = deliveries(services.db)[1]
    assert (second.state, second.error_kind) == (S.FAILED, "duplicate")


def test_duplicate_refusal_after_our_own_lost_attempt_is_reconciled_to_published(
        services, sandbox, make_user, make_account):
    x, creds = make_account(Platform.X)
    queue_post(services.db, make_user(), [x], text="Vår egen text")
    delivery = deliveries(services.db)[0]
    # An earlier attempt of ours got the tweet out, but its answer was never recorded.
    edit_delivery(services, delivery.id, first_attempt_at=utcnow() - timedelta(seconds=30))
    client = tweepy.Client(**{k: creds[k] for k in ("consumer_key", "consumer_secret",
                                                    "access_token", "access_token_secret")})
    client.session = RewriteSession(sandbox.url)
    tweet_id = client.create_tweet(text="Vår egen text", user_auth=True).data["id"]

    dispatcher(services).run_once()  # X refuses the duplicate → reconciled, found
    dispatcher(services, later=10).run_once()
    done = deliveries(services.db)[0]
    assert (done.state, done.external_id) == (S.PUBLISHED, str(tweet_id))
    assert len(stored_posts(sandbox.url, creds["user_id"])) == 1


def test_dropped_response_is_reconciled_to_published_without_resending(
        services, sandbox, make_user, make_account):
    x, creds = make_account(Platform.X)
    fb, fb_creds = make_account(Platform.FACEBOOK)
    set_faults(sandbox.url, creds["user_id"], drop_response_rate=1.0)
    set_faults(sandbox.url, fb_creds["page_id"], drop_response_rate=1.0)
    queue_post(services.db, make_user(), [x, fb], text="Svaret försvann")
    dispatcher(services).run_once()
    assert states(services) == [S.UNCERTAIN, S.UNCERTAIN]
    dispatcher(services, later=10).run_once()
    assert states(services) == [S.PUBLISHED, S.PUBLISHED]
    assert len(stored_posts(sandbox.url, creds["user_id"])) == 1
    assert len(stored_posts(sandbox.url, fb_creds["page_id"])) == 1
    published = deliveries(services.db)[0]
    with services.db.session() as session:
        assert [e.to_state for e in history(session, published.id)] == [
            "scheduled", "sending", "uncertain", "published"]


def test_server_error_is_reconciled_then_retried_and_published_once(
        services, sandbox, make_user, make_account):
    x, creds = make_account(Platform.X)
    set_faults(sandbox.url, creds["user_id"], error_rate=1.0, error_status=503)
    queue_post(services.db, make_user(), [x], text="Efter stormen")
    dispatcher(services).run_once()
    assert states(services) == [S.UNCERTAIN]
    dispatcher(services, later=10).run_once()  # the platform can't be asked: ask again later
    delivery = deliveries(services.db)[0]
    assert delivery.state is S.UNCERTAIN
    assert delivery.next_attempt_at > utcnow() + timedelta(seconds=20)

    set_faults(sandbox.url, creds["user_id"])
    edit_delivery(services, delivery.id, next_attempt_at=utcnow())
    dispatcher(services).run_once()  # reconcile: not there → queued again with backoff
    retry = deliveries(services.db)[0]
    assert retry.state is S.RETRY_WAIT and retry.next_attempt_at > utcnow()
    edit_delivery(services, retry.id, next_attempt_at=utcnow())
    dispatcher(services).run_once()
    assert states(services) == [S.PUBLISHED]
    assert len(stored_posts(sandbox.url, creds["user_id"])) == 1


def test_rate_limit_waits_for_the_reset_and_pauses_only_that_account(
        services, sandbox, make_user, make_account):
    limited, creds = make_account(Platform.X)
    other, _ = make_account(Platform.X)
    set_faults(sandbox.url, creds["user_id"], error_rate=1.0, error_status=429)
    user = make_user()
    queue_post(services.db, user, [limited], text="Ett")
    queue_post(services.db, user, [limited, other], text="Två")
    started = utcnow()
    dispatcher(services).run_once()
    rows = deliveries(services.db)
    by_account = {(d.post_id, d.account_id): d for d in rows}
    waiting = [d for d in rows if d.account_id == limited.id]
    assert any(d.state is S.RETRY_WAIT and d.error_kind == "rate_limited" for d in waiting)
    assert all(d.state in (S.RETRY_WAIT, S.SCHEDULED) for d in waiting)
    assert by_account[(rows[-1].post_id, other.id)].state is S.PUBLISHED
    with services.db.session() as session:
        # Until the reset the sandbox named (the next whole second): later than any call.
        assert session.get(Account, limited.id).rate_limited_until > started


def test_a_post_more_than_30_minutes_late_fails_and_is_not_sent(services, sandbox, make_user,
                                                                make_account):
    x, creds = make_account(Platform.X)
    queue_post(services.db, make_user(), [x], text="För sent")
    delivery = deliveries(services.db)[0]
    long_ago = utcnow() - timedelta(minutes=31)
    edit_delivery(services, delivery.id, due_at=long_ago, next_attempt_at=long_ago)
    dispatcher(services).run_once()
    late = deliveries(services.db)[0]
    assert (late.state, late.error_kind) == (S.FAILED, "too_late")
    assert stored_posts(sandbox.url, creds["user_id"]) == []


def test_autumn_dst_night_0230_goes_out_once(services, sandbox, make_user, make_account):
    """02:30 on 2026-10-25 happens twice in Stockholm; the post goes out once, at the first."""
    x, creds = make_account(Platform.X)
    queue_post(services.db, make_user(), [x], text="Natten då klockan går tillbaka",
               at_local=datetime(2026, 10, 25, 2, 30),
               now=datetime(2026, 10, 24, 12, 0, tzinfo=UTC))
    assert deliveries(services.db)[0].due_at == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    for wall_clock_utc, expected in [
        (datetime(2026, 10, 25, 0, 29, 50, tzinfo=UTC), S.SCHEDULED),  # 02:29:50 CEST
        (datetime(2026, 10, 25, 0, 30, 5, tzinfo=UTC), S.PUBLISHED),  # the first 02:30
        (datetime(2026, 10, 25, 1, 30, 5, tzinfo=UTC), S.PUBLISHED),  # the second 02:30 (CET)
    ]:
        Dispatcher(services.db, services.platforms, services.box, "w1",
                   clock=lambda at=wall_clock_utc: at).run_once()
        assert states(services) == [expected]
    assert len(stored_posts(sandbox.url, creds["user_id"])) == 1


def test_two_workers_never_claim_the_same_delivery(services, make_user, make_account):
    x, _ = make_account(Platform.X)
    user = make_user()
    for n in range(6):
        queue_post(services.db, user, [x], text=f"Inlägg {n}")
    first = claim_due(services.db, "w1", limit=4)
    second = claim_due(services.db, "w2", limit=4)
    assert len(first) == 4 and len(second) == 2 and not set(first) & set(second)

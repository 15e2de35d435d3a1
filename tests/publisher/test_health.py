"""Publishing is healthy unless posts due minutes ago are not out; then it says whether any
worker is alive. Held, paused and not-yet-due work is never 'late'."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from core.clock import utcnow
from core.users import Role
from core.workers import beat
from publisher.health import LATE_AFTER, PublishingState, publishing_health
from publisher.models import Account, Delivery, DeliveryState, Platform
from publisher.services import Services
from tests.factories import deliveries, queue_post


@pytest.fixture
def services(services_on_any_db: Services) -> Services:
    return services_on_any_db


def health(services, now):
    with services.db.session() as session:
        return publishing_health(session, now)


def test_posts_late_with_no_worker_mean_publishing_has_stopped(services, make_user,
                                                                make_account):
    x, _ = make_account(Platform.X)
    queue_post(services.db, make_user(Role.COMMS), [x], text="Borde ha gått ut")
    due = deliveries(services.db)[0].next_attempt_at
    assert health(services, due + LATE_AFTER - timedelta(seconds=1)).state is PublishingState.OK
    later = due + timedelta(minutes=5)
    stalled = health(services, later)
    assert (stalled.state, stalled.late, stalled.workers, stalled.last_seen) == (
        PublishingState.STALLED, 1, 0, None)
    assert stalled.late_since == due
    beat(services.db, "w1", now=later - timedelta(seconds=10))
    behind = health(services, later)
    assert (behind.state, behind.workers) == (PublishingState.BEHIND, 1)
    assert behind.as_dict()["state"] == "behind"


def test_held_paused_claimed_and_future_work_is_not_late(services, make_user, make_account):
    user = make_user(Role.COMMS)
    held, _ = make_account(Platform.FACEBOOK)
    paused, _ = make_account(Platform.X)
    sending, _ = make_account(Platform.X)
    for account in (held, paused, sending):
        queue_post(services.db, user, [account], text=f"Till {account.name}")
    later = utcnow() + timedelta(minutes=10)
    queue_post(services.db, user, [sending], text="Sedan",
               at_local=None, now=later - timedelta(minutes=1))  # due a minute before `later`
    with services.db.session() as session:
        first: dict[int, int] = {}
        for d in deliveries(services.db):
            first.setdefault(d.account_id, d.id)
        session.execute(update(Delivery).where(Delivery.id == first[held.id])
                        .values(state=DeliveryState.HELD))
        session.execute(update(Account).where(Account.id == paused.id)
                        .values(rate_limited_until=later + timedelta(hours=1)))
        session.execute(update(Delivery).where(Delivery.id == first[sending.id])
                        .values(state=DeliveryState.SENDING,
                                lease_expires_at=later + timedelta(minutes=1)))
    assert health(services, later).state is PublishingState.OK

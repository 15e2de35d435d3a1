"""A post's clashes on its own accounts: the same words within a week, or another post within a
quarter of an hour; what failed or was cancelled clashes with nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import update

from core.clock import STOCKHOLM
from core.users import Role
from publisher.clashes import clashes
from publisher.models import Delivery, DeliveryState, Platform, Post
from publisher.services import Services
from tests.factories import queue_post


@pytest.fixture
def services(services_on_any_db: Services) -> Services:
    return services_on_any_db


def tomorrow(hour: int, minute: int = 0) -> datetime:
    day = datetime.now(STOCKHOLM) + timedelta(days=1)
    return day.replace(hour=hour, minute=minute, second=0, microsecond=0, tzinfo=None)


def clashes_of(services: Services, post: Post) -> list[tuple[str, str, bool]]:
    with services.db.session() as session:
        return [(c.account, c.text, c.same_words)
                for c in clashes(session, session.get(Post, post.id))]


def test_the_same_words_on_the_same_account_within_a_week(services, make_user, make_account):
    x, _ = make_account(Platform.X, name="Distriktet på X")
    fb, _ = make_account(Platform.FACEBOOK, name="Karlstad")
    author = make_user(Role.COMMS)
    queue_post(services.db, author, [x], text="Kom till torget!", at_local=tomorrow(9))
    queue_post(services.db, author, [fb], text="Kom till torget!", at_local=tomorrow(9))
    queue_post(services.db, author, [x], text="Kom till torget!",
               at_local=tomorrow(9) + timedelta(days=8))
    again = queue_post(services.db, author, [x], text="Kom till torget!",
                       at_local=tomorrow(18))
    assert clashes_of(services, again) == [("Distriktet på X", "Kom till torget!", True)]


def test_another_post_within_a_quarter_of_an_hour(services, make_user, make_account):
    page, _ = make_account(Platform.FACEBOOK, name="Arvika")
    author = make_user(Role.COMMS)
    queue_post(services.db, author, [page], text="Möte i kväll", at_local=tomorrow(12, 10))
    queue_post(services.db, author, [page], text="Fika efteråt", at_local=tomorrow(12, 20))
    queue_post(services.db, author, [page], text="I morgon", at_local=tomorrow(12, 31))
    post = queue_post(services.db, author, [page], text="Valstugan", at_local=tomorrow(12))
    assert clashes_of(services, post) == [("Arvika", "Möte i kväll", False)]


@pytest.mark.parametrize("state", [DeliveryState.FAILED, DeliveryState.CANCELLED])
def test_what_failed_or_was_cancelled_clashes_with_nothing(services, make_user, make_account,
                                                           state):
    x, _ = make_account(Platform.X)
    author = make_user(Role.COMMS)
    earlier = queue_post(services.db, author, [x], text="Samma ord", at_local=tomorrow(9))
    with services.db.session() as session:
        session.execute(update(Delivery).where(Delivery.post_id == earlier.id)
                        .values(state=state))
    post = queue_post(services.db, author, [x], text="Samma ord", at_local=tomorrow(9, 5))
    assert clashes_of(services, post) == []

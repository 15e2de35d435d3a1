"""Composing: every bad input gives a clear message on its field and saves nothing."""

from datetime import UTC, datetime, timedelta

import pytest

from core.auth import NotAllowed
from core.i18n import ValidationErrors
from core.users import Role
from publisher.models import Delivery, DeliveryState, Platform, Post
from tests.factories import count, queue_post

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.fixture
def x_account(make_account):
    return make_account(Platform.X)[0]


@pytest.fixture
def fb_account(make_account):
    return make_account(Platform.FACEBOOK)[0]


def _refused(db, user, accounts, **kwargs) -> dict[str | None, str]:
    with pytest.raises(ValidationErrors) as caught:
        queue_post(db, user, accounts, now=NOW, **kwargs)
    assert count(db, Post) == 0 and count(db, Delivery) == 0
    return {e.field: str(e) for e in caught.value.errors}


def test_a_post_gets_one_scheduled_delivery_per_account(db, make_user, x_account, fb_account):
    post = queue_post(db, make_user(Role.COMMS), [x_account, fb_account], now=NOW,
                      at_local=datetime(2026, 11, 24, 14, 30))
    assert post.scheduled_at == datetime(2026, 11, 24, 13, 30, tzinfo=UTC)  # CET = UTC+1
    assert [d.state for d in post.deliveries] == [DeliveryState.SCHEDULED] * 2
    assert {d.account_id for d in post.deliveries} == {x_account.id, fb_account.id}


def test_empty_text_is_refused(db, make_user, x_account):
    errors = _refused(db, make_user(), [x_account], text="   \n ")
    assert "Write something" in errors["text"]


def test_no_account_chosen_is_refused(db, make_user):
    assert "at least one account" in _refused(db, make_user(), [])["accounts"]


def test_too_long_for_x_counts_links_as_23(db, make_user, x_account):
    link = "https://www.example.org/" + "a" * 80
    errors = _refused(db, make_user(), [x_account], text="b" * 256, link=link)
    assert "281 of 280" in errors["text"]  # 256 + two line breaks + 23 for the link


def test_exactly_280_weighted_fits(db, make_user, x_account):
    post = queue_post(db, make_user(), [x_account], text="b" * 255,
                      link="https://www.example.org/" + "a" * 80, now=NOW)
    assert post.id


def test_swedish_letters_weigh_one_but_cjk_weighs_two(db, make_user, x_account):
    assert queue_post(db, make_user(), [x_account], text="å" * 280, now=NOW).id
    assert "282 of 280" in _refused_after(db, make_user(), [x_account], text="日" * 141)


def _refused_after(db, user, accounts, **kwargs) -> str:
    with pytest.raises(ValidationErrors) as caught:
        queue_post(db, user, accounts, now=NOW, **kwargs)
    return str(caught.value)


def test_long_text_is_fine_for_facebook_only(db, make_user, fb_account):
    assert queue_post(db, make_user(), [fb_account], text="ord " * 200, now=NOW).id


def test_a_time_in_the_past_is_refused(db, make_user, x_account):
    errors = _refused(db, make_user(), [x_account], at_local=datetime(2026, 11, 24, 9, 0))
    assert "already passed" in errors["scheduled_at"]


def test_a_time_in_the_spring_gap_is_refused(db, make_user, x_account):
    errors = _refused(db, make_user(), [x_account], at_local=datetime(2027, 3, 28, 2, 30))
    assert "2027-03-28 02:30 does not exist" in errors["scheduled_at"]


def test_a_bad_link_is_refused(db, make_user, x_account):
    errors = _refused(db, make_user(), [x_account], link="javascript:alert(1)")
    assert "https://" in errors["link"]


def test_all_problems_are_reported_together(db, make_user, x_account):
    errors = _refused(db, make_user(), [x_account], text="", link="ftp://x",
                      at_local=datetime(2020, 1, 1, 12, 0))
    assert set(errors) == {"text", "link", "scheduled_at"}


def test_board_members_cannot_post(db, make_user, x_account):
    with pytest.raises(NotAllowed):
        queue_post(db, make_user(Role.BOARD), [x_account], now=NOW)


def test_association_lead_cannot_post_to_another_association(db, make_user, make_org,
                                                             make_account):
    arvika, kil = make_org("VP Arvika"), make_org("VP Kil")
    kil_account = make_account(Platform.FACEBOOK, organisation=kil)[0]
    lead = make_user(Role.CAMPAIGN_LEAD, organisation=arvika)
    with pytest.raises(NotAllowed):
        queue_post(db, lead, [kil_account], now=NOW)
    own = make_account(Platform.FACEBOOK, organisation=arvika)[0]
    assert queue_post(db, lead, [own], now=NOW).id


def test_empty_time_means_now(db, make_user, x_account):
    post = queue_post(db, make_user(), [x_account], now=NOW)
    assert post.scheduled_at == NOW
    assert post.deliveries[0].due_at <= NOW + timedelta(seconds=1)

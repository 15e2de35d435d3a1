"""Posting schedules (issue 17, point 2): each account's weekly slots, Stockholm wall clock, and
the next one no post holds, on the DST nights too. Fixed dates far from today: `now` is given."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

from core.auth import NotAllowed
from core.clock import local_to_utc
from core.i18n import ValidationErrors
from core.users import Role, User
from publisher.models import Delivery, DeliveryState, Platform
from publisher.posting_slots import (
    PostingSlot,
    add_slot,
    next_free_slot,
    occurrences,
    remove_slot,
    slots_for,
)
from publisher.services import Services
from tests.factories import queue_post

MONDAY, SATURDAY, SUNDAY = "0", "5", "6"
# 2040: the clocks jump from 02:00 to 03:00 on Sunday 25 March and go back from 03:00 to
# 02:00 on Sunday 28 October.


@pytest.fixture
def services(services_on_any_db: Services) -> Services:
    return services_on_any_db


def stockholm(text: str, fold: int = 0) -> datetime:
    """A Stockholm wall-clock time as UTC."""
    return local_to_utc(datetime.fromisoformat(text).replace(fold=fold))


def slots(services, user, account, *times: tuple[str, str]) -> None:
    with services.db.session() as session:
        author = session.get(User, user.id)
        for weekday, clock in times:
            add_slot(session, author, account.id, weekday, clock)


def next_slot(services, user, accounts, now: datetime) -> datetime | None:
    with services.db.session() as session:
        return next_free_slot(session, session.get(User, user.id), [a.id for a in accounts],
                              now=now)


def test_the_next_slot_is_the_first_time_of_the_week_still_ahead(services, make_user,
                                                                 make_account):
    x, _ = make_account(Platform.X)
    comms = make_user(Role.COMMS)
    slots(services, comms, x, (MONDAY, "08:00"), (MONDAY, "12:30"), ("2", "7.15"))
    monday_morning = stockholm("2040-05-07 09:00")  # a Monday
    assert next_slot(services, comms, [x], monday_morning) == stockholm("2040-05-07 12:30")
    assert next_slot(services, comms, [x], stockholm("2040-05-07 12:30")) \
        == stockholm("2040-05-09 07:15")  # the minute itself has come: the next one
    with services.db.session() as session:
        listed = slots_for(session, session.get(User, comms.id), x.id)
        assert [(s.weekday, f"{s.clock:%H:%M}") for s in listed] \
            == [(0, "08:00"), (0, "12:30"), (2, "07:15")]


def test_a_slot_a_post_holds_is_skipped_a_cancelled_post_holds_none(services, make_user,
                                                                    make_account):
    x, _ = make_account(Platform.X)
    fb, _ = make_account(Platform.FACEBOOK)
    comms = make_user(Role.COMMS)
    slots(services, comms, x, (MONDAY, "08:00"), (MONDAY, "12:30"))
    now = stockholm("2040-05-07 09:00")
    post = queue_post(services.db, comms, [x], "Redan på 12.30",
                      at_local=datetime(2040, 5, 7, 12, 30), now=now)
    queue_post(services.db, comms, [fb], "Annat konto", at_local=datetime(2040, 5, 14, 8, 0),
               now=now)
    assert next_slot(services, comms, [x], now) == stockholm("2040-05-14 08:00")
    with services.db.session() as session:
        session.execute(update(Delivery).where(Delivery.post_id == post.id)
                        .values(state=DeliveryState.CANCELLED))
    assert next_slot(services, comms, [x], now) == stockholm("2040-05-07 12:30")


def test_several_accounts_share_a_slot_free_on_each(services, make_user, make_account):
    x, _ = make_account(Platform.X)
    fb, _ = make_account(Platform.FACEBOOK)
    unscheduled, _ = make_account(Platform.X)
    comms = make_user(Role.COMMS)
    slots(services, comms, x, (MONDAY, "08:00"), (MONDAY, "12:30"))
    slots(services, comms, fb, (MONDAY, "12:30"), (MONDAY, "18:00"))
    now = stockholm("2040-05-07 07:00")
    assert next_slot(services, comms, [x, fb, unscheduled], now) \
        == stockholm("2040-05-07 12:30")
    queue_post(services.db, comms, [fb], "Tar fb:s 12.30", at_local=datetime(2040, 5, 7, 12, 30),
               now=now)
    assert next_slot(services, comms, [x, fb], now) == stockholm("2040-05-14 12:30")
    assert next_slot(services, comms, [unscheduled], now) is None


def test_a_slot_in_the_spring_gap_is_passed_over(services, make_user, make_account):
    x, _ = make_account(Platform.X)
    comms = make_user(Role.COMMS)
    slots(services, comms, x, (SUNDAY, "02:30"), (SUNDAY, "03:30"))
    saturday = stockholm("2040-03-24 12:00")
    found = next_slot(services, comms, [x], saturday)
    assert found == datetime(2040, 3, 25, 1, 30, tzinfo=UTC)  # 03:30 summer time, not 02:30
    after = list(occurrences([(6, 150)], saturday, days=8))
    assert after == [datetime(2040, 4, 1, 0, 30, tzinfo=UTC)]  # the week after, summer time


def test_a_slot_in_the_doubled_autumn_hour_is_its_first_occurrence(services, make_user,
                                                                     make_account):
    x, _ = make_account(Platform.X)
    comms = make_user(Role.COMMS)
    slots(services, comms, x, (SUNDAY, "02:30"))
    saturday = stockholm("2040-10-27 12:00")
    first = datetime(2040, 10, 28, 0, 30, tzinfo=UTC)  # 02:30 summer time (UTC+2)
    assert next_slot(services, comms, [x], saturday) == first
    assert first == stockholm("2040-10-28 02:30", fold=0)
    # taken: the second 02:30 (winter time) is not a slot of its own; next Sunday is
    queue_post(services.db, comms, [x], "Första 02.30", at_local=datetime(2040, 10, 28, 2, 30),
               now=saturday)
    assert next_slot(services, comms, [x], saturday) == stockholm("2040-11-04 02:30")
    assert list(occurrences([(6, 150)], first, days=1)) == []  # not again at 01:30 UTC


def test_bad_input_is_refused_at_its_field_and_nothing_is_saved(services, make_user,
                                                                make_account):
    x, _ = make_account(Platform.X)
    comms = make_user(Role.COMMS)
    slots(services, comms, x, (MONDAY, "08:00"))
    for weekday, clock, fields in (("7", "08:00", {"weekday"}), ("", "25:00",
                                                                 {"weekday", "time"}),
                                   (MONDAY, "", {"time"}), (MONDAY, "12:60", {"time"})):
        with services.db.session() as session, pytest.raises(ValidationErrors) as refused:
            add_slot(session, session.get(User, comms.id), x.id, weekday, clock)
        assert {e.field for e in refused.value.errors} == fields
    with services.db.session() as session:
        assert len(list(session.scalars(select(PostingSlot)))) == 1


def test_only_the_comms_team_sets_slots_and_only_on_its_own_accounts(services, make_user,
                                                                       make_org, make_account):
    karlstad, arvika = make_org("Karlstad"), make_org("Arvika")
    theirs, _ = make_account(Platform.X, organisation=arvika)
    ours, _ = make_account(Platform.X, organisation=karlstad)
    board, lead = make_user(Role.BOARD), make_user(Role.CAMPAIGN_LEAD)
    karlstad_comms = make_user(Role.COMMS, organisation=karlstad)
    for who, account in ((board, ours), (lead, ours), (karlstad_comms, theirs)):
        with services.db.session() as session, pytest.raises(NotAllowed):
            add_slot(session, session.get(User, who.id), account.id, MONDAY, "08:00")
    slots(services, karlstad_comms, ours, (MONDAY, "08:00"))
    with services.db.session() as session:
        slot_id = session.scalar(select(PostingSlot.id))
        with pytest.raises(NotAllowed):
            remove_slot(session, session.get(User, karlstad_comms.id), theirs.id, slot_id)
        with pytest.raises(NotAllowed):
            slots_for(session, session.get(User, karlstad_comms.id), theirs.id)
        assert remove_slot(session, session.get(User, karlstad_comms.id), ours.id, slot_id)
        assert not remove_slot(session, session.get(User, karlstad_comms.id), ours.id, slot_id)

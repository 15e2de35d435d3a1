"""The calendar (issue 17, point 3): Stockholm days from a Monday, across the DST nights; the
filters; moving a post through the post edit service. Fixed dates, `now` given."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select, update

from core.auth import NotAllowed
from core.clock import local_to_utc
from core.entered_time import EnteredTime
from core.i18n import ValidationErrors
from core.users import Role, User
from publisher.calendar import Filters, authors, day_slots, entries, grid, move_post
from publisher.models import Delivery, DeliveryState, Platform, Post
from publisher.posting_slots import add_slot
from publisher.services import Services
from tests.factories import queue_post

NOW = local_to_utc(datetime(2040, 3, 1, 9, 0))  # long before every post below


@pytest.fixture
def services(services_on_any_db: Services) -> Services:
    return services_on_any_db


def shown(services, user, view: str, day: date, filters: Filters | None = None):
    with services.db.session() as session:
        found = entries(session, session.get(User, user.id), grid(view, day),
                        filters or Filters())
        return {day: [(e.post.text, [d.account_id for d in e.deliveries]) for e in listed]
                for day, listed in found.items()}


def test_a_week_is_monday_to_sunday_in_stockholm_days_across_the_spring_night():
    week = grid("week", date(2040, 3, 22))  # a Thursday; the clocks jump on Sunday 25 March
    assert week.days[0] == date(2040, 3, 19) and week.days[-1] == date(2040, 3, 25)
    assert [d.weekday() for d in week.days] == list(range(7))
    assert week.end - week.start == timedelta(days=7, hours=-1)  # the Sunday has 23 hours
    assert week.start == local_to_utc(datetime(2040, 3, 19))
    assert (week.previous, week.following) == (date(2040, 3, 15), date(2040, 3, 29))


def test_a_month_is_whole_weeks_and_the_autumn_day_has_25_hours():
    month = grid("month", date(2040, 10, 17))
    assert month.days[0] == date(2040, 10, 1)  # a Monday
    assert month.days[-1] == date(2040, 11, 4)
    assert len(month.weeks) == 5 and all(len(w) == 7 for w in month.weeks)
    assert month.end - month.start == timedelta(days=35, hours=1)
    assert month.in_view(date(2040, 10, 31)) and not month.in_view(date(2040, 11, 1))
    assert (month.previous, month.following) == (date(2040, 9, 1), date(2040, 11, 1))
    february = grid("month", date(2041, 2, 10))
    assert february.days[0] == date(2041, 1, 28) and february.days[-1] == date(2041, 3, 3)


def test_posts_fall_on_their_stockholm_day_around_the_dst_nights(services, make_user,
                                                                 make_account):
    x, _ = make_account(Platform.X)
    comms = make_user(Role.COMMS)
    for text, at in (("Söndag sent", datetime(2040, 3, 25, 23, 30)),
                     ("Måndag tidigt", datetime(2040, 3, 26, 0, 30)),
                     ("Söndag 03.30", datetime(2040, 3, 25, 3, 30)),
                     ("Höstnatten", datetime(2040, 10, 28, 23, 45))):
        queue_post(services.db, comms, [x], text, at_local=at, now=NOW)
    week = shown(services, comms, "week", date(2040, 3, 25))
    assert week == {date(2040, 3, 25): [("Söndag 03.30", [x.id]), ("Söndag sent", [x.id])]}
    assert shown(services, comms, "week", date(2040, 3, 26)) == {
        date(2040, 3, 26): [("Måndag tidigt", [x.id])]}
    assert shown(services, comms, "month", date(2040, 10, 1)) == {
        date(2040, 10, 28): [("Höstnatten", [x.id])]}


def test_filters_narrow_by_account_association_state_author_and_posts(services, make_user,
                                                                      make_org, make_account):
    karlstad = make_org("Karlstad")
    x, _ = make_account(Platform.X)
    fb, _ = make_account(Platform.FACEBOOK, organisation=karlstad)
    anna, bo = make_user(Role.COMMS), make_user(Role.CAMPAIGN_LEAD)
    day = date(2040, 5, 8)
    both = queue_post(services.db, anna, [x, fb], "Till båda", at_local=datetime(2040, 5, 8, 9),
                      now=NOW)
    queue_post(services.db, bo, [x], "Bos inlägg", at_local=datetime(2040, 5, 8, 12), now=NOW)
    with services.db.session() as session:
        session.execute(update(Delivery).where(Delivery.account_id == fb.id)
                        .values(state=DeliveryState.FAILED))
    everything = shown(services, anna, "week", day)
    assert everything == {day: [("Till båda", [x.id, fb.id]), ("Bos inlägg", [x.id])]}
    assert shown(services, anna, "week", day, Filters(account_id=fb.id)) == {
        day: [("Till båda", [fb.id])]}
    assert shown(services, anna, "week", day, Filters(organisation_id=karlstad.id)) == {
        day: [("Till båda", [fb.id])]}
    assert shown(services, anna, "week", day, Filters(state=DeliveryState.FAILED)) == {
        day: [("Till båda", [fb.id])]}
    assert shown(services, anna, "week", day, Filters(author_id=bo.id)) == {
        day: [("Bos inlägg", [x.id])]}
    assert shown(services, anna, "week", day, Filters(post_ids=[both.id])) == {
        day: [("Till båda", [x.id, fb.id])]}
    assert shown(services, anna, "week", day, Filters(post_ids=[])) == {}
    karlstad_board = make_user(Role.BOARD, organisation=karlstad)
    assert shown(services, karlstad_board, "week", day) == {day: [("Till båda", [fb.id])]}
    with services.db.session() as session:
        assert {u.id for u in authors(session, session.get(User, anna.id))} == {anna.id, bo.id}
        assert [u.id for u in authors(session, session.get(User, karlstad_board.id))] \
            == [anna.id]


def test_week_slots_are_the_accounts_times_that_exist_that_day(services, make_user,
                                                               make_account):
    x, _ = make_account(Platform.X)
    comms = make_user(Role.COMMS)
    with services.db.session() as session:
        for clock in ("02:30", "09:00"):
            add_slot(session, session.get(User, comms.id), x.id, "6", clock)
    with services.db.session() as session:
        spring = day_slots(session, grid("week", date(2040, 3, 25)), [x.id])
        later = day_slots(session, grid("week", date(2040, 4, 1)), [x.id])
    assert spring[date(2040, 3, 25)] == [time(9, 0)]  # 02:30 never happens that night
    assert later[date(2040, 4, 1)] == [time(2, 30), time(9, 0)]
    assert later[date(2040, 3, 26)] == []


def move(services, user, post_id: int, day: str, clock: str, reading: str = "") -> Post:
    with services.db.session() as session:
        return move_post(session, session.get(User, user.id), post_id,
                         EnteredTime(day, clock, reading), now=NOW)


def test_moving_a_post_changes_the_time_of_every_waiting_delivery(services, make_user,
                                                                  make_account):
    x, _ = make_account(Platform.X)
    fb, _ = make_account(Platform.FACEBOOK)
    comms = make_user(Role.COMMS)
    post = queue_post(services.db, comms, [x, fb], "Flyttas", at_local=datetime(2040, 5, 8, 9),
                      link="https://example.org/a", now=NOW)
    with services.db.session() as session:
        session.execute(update(Delivery).where(Delivery.account_id == fb.id)
                        .values(state=DeliveryState.FAILED))
    move(services, comms, post.id, "2040-05-10", "14:30")
    moved = local_to_utc(datetime(2040, 5, 10, 14, 30))
    with services.db.session() as session:
        saved = session.get(Post, post.id)
        assert saved.scheduled_at == moved and saved.link == "https://example.org/a"
        by_account = {d.account_id: d for d in saved.deliveries}
        assert by_account[x.id].due_at == moved
        assert by_account[x.id].state is DeliveryState.SCHEDULED
        assert by_account[fb.id].state is DeliveryState.FAILED  # not queued again by a move


@pytest.mark.parametrize("state", [DeliveryState.SENDING, DeliveryState.PUBLISHED])
def test_a_post_out_or_going_out_is_not_moved(services, make_user, make_account, state):
    x, _ = make_account(Platform.X)
    comms = make_user(Role.COMMS)
    post = queue_post(services.db, comms, [x], "Redan ute", at_local=datetime(2040, 5, 8, 9),
                      now=NOW)
    with services.db.session() as session:
        session.execute(update(Delivery).values(state=state))
    with pytest.raises(ValidationErrors) as refused:
        move(services, comms, post.id, "2040-05-10", "14:30")
    assert "can no longer be changed" in refused.value.errors[0].message
    with services.db.session() as session:
        assert session.scalar(select(Post.scheduled_at)) == local_to_utc(datetime(2040, 5, 8, 9))


def test_a_move_is_checked_like_any_time_and_refused_outside_the_scope(services, make_user,
                                                                       make_org, make_account):
    arvika = make_org("Arvika")
    theirs, _ = make_account(Platform.X, organisation=arvika)
    comms = make_user(Role.COMMS)
    post = queue_post(services.db, comms, [theirs], "Deras", at_local=datetime(2040, 5, 8, 9),
                      now=NOW)
    for day, clock, field in (("2040-03-25", "02:30", "scheduled_at"),
                              ("2040-02-01", "10:00", "scheduled_at"),
                              ("2040-10-28", "02:30", "scheduled_at_reading"),
                              ("2040-13-01", "10:00", "scheduled_at")):
        with pytest.raises(ValidationErrors) as refused:
            move(services, comms, post.id, day, clock)
        assert refused.value.errors[0].field == field
    move(services, comms, post.id, "2040-10-28", "02:30", reading="winter")
    with services.db.session() as session:
        assert session.scalar(select(Post.scheduled_at)) == local_to_utc(
            datetime(2040, 10, 28, 2, 30, fold=1))
    outsider = make_user(Role.COMMS, organisation=make_org("Kil"))
    with pytest.raises(NotAllowed):
        move(services, outsider, post.id, "2040-05-11", "10:00")
    with pytest.raises(NotAllowed):
        move(services, make_user(Role.BOARD), post.id, "2040-05-11", "10:00")

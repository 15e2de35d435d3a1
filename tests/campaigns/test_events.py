"""Events: created, changed and cancelled by those allowed (checked on the server, per
organiser); announced by ordinary posts at Stockholm wall-clock times that follow the event
across a change of summer time; cancelled with the event unless already out; and published as
iCalendar that two independent readers parse. On both databases."""

from __future__ import annotations

from datetime import UTC, datetime

import icalendar
import pytest
import vobject
from sqlalchemy import select

from campaigns import events as service
from campaigns.calendar import calendar
from campaigns.event_models import Announcement, EventAnnouncement
from campaigns.models import Event, Municipality
from core.auth import NotAllowed, district
from core.entered_time import EnteredTime
from core.i18n import ValidationErrors
from core.users import Role, User
from publisher.deliveries import claim_due, transition
from publisher.models import Delivery, DeliveryState, Platform, Post
from publisher.posts import PostDraft, edit_post
from publisher.services import Services

S = DeliveryState
# A fixed calendar, years ahead (the suite runs under faketime +365d too): the clocks go back
# from 03:00 to 02:00 in Stockholm on Sunday 2031-10-26.
NOW = datetime(2031, 10, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def services(services_on_any_db: Services) -> Services:
    return services_on_any_db


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def draft(organiser_id: int, *, title: str = "Valkonferens i Karlstad",
          start: tuple[str, str] = ("2031-10-25", "18:00"),
          end: tuple[str, str] = ("2031-10-25", "21:00"), **extra) -> service.EventDraft:
    return service.EventDraft(title=title, organiser_id=organiser_id,
                              starts=EnteredTime(*start), ends=EnteredTime(*end),
                              place="Folkets hus, Karlstad", link="https://example.org/valkonf",
                              **extra)


def as_user(session, user: User) -> User:
    return session.get(User, user.id)


def new_event(services, user: User, organiser_id: int, **kwargs) -> int:
    with services.db.session() as session:
        return service.create_event(session, as_user(session, user),
                                    draft(organiser_id, **kwargs), now=NOW).id


def announcement_times(services, event_id: int) -> dict[Announcement, tuple[datetime, set]]:
    with services.db.session() as session:
        found = {}
        for link, post in service.announcements_of(session, event_id):
            found[link.which] = (post.scheduled_at, {d.state for d in post.deliveries},
                                 {d.due_at for d in post.deliveries}, post.text)
        return found


def test_leads_create_and_change_any_event_an_association_only_its_own(services, make_user,
                                                                       make_org):
    with services.db.session() as session:
        district_id = district(session).id
        karlstad = session.scalar(select(Municipality).where(Municipality.name == "Karlstad"))
        karlstad_id = karlstad.id
    kil, arvika = make_org(), make_org()
    lead = make_user(Role.CAMPAIGN_LEAD)
    kil_comms, arvika_comms = make_user(Role.COMMS, kil), make_user(Role.COMMS, arvika)
    board = make_user(Role.BOARD)

    district_event = new_event(services, lead, district_id, municipality_id=karlstad_id)
    kil_event = new_event(services, kil_comms, kil.id, title="Vänsterskolan i Kil")
    with services.db.session() as session:
        event = session.get(Event, district_event)
        assert (event.starts_at, event.ends_at) == (utc("2031-10-25 16:00"),
                                                    utc("2031-10-25 19:00"))
        assert event.municipality.name == "Karlstad" and event.sequence == 0
    # The lead changes the association's event too; the association's user only its own.
    with services.db.session() as session:
        service.edit_event(session, as_user(session, lead), kil_event,
                           draft(kil.id, title="Vänsterskolan: marxism 1"), now=NOW)
    with services.db.session() as session:
        service.edit_event(session, as_user(session, kil_comms), kil_event,
                           draft(kil.id, title="Vänsterskolan: marxism 2"), now=NOW)
    for user, event_id, organiser in ((arvika_comms, kil_event, kil.id),
                                      (kil_comms, district_event, district_id),
                                      (board, kil_event, kil.id)):
        with services.db.session() as session, pytest.raises(NotAllowed):
            service.edit_event(session, as_user(session, user), event_id,
                               draft(organiser, title="Kapad"), now=NOW)
        with services.db.session() as session, pytest.raises(NotAllowed):
            service.cancel_event(session, as_user(session, user), event_id, now=NOW)
    # An association's user cannot make an event in another's name, nor the board any.
    with services.db.session() as session, pytest.raises(NotAllowed):
        service.create_event(session, as_user(session, kil_comms), draft(arvika.id), now=NOW)
    with services.db.session() as session, pytest.raises(NotAllowed):
        service.create_event(session, as_user(session, board), draft(district_id), now=NOW)
    with services.db.session() as session:
        event = session.get(Event, kil_event)
        assert event.title == "Vänsterskolan: marxism 2" and event.sequence == 2
        assert session.scalar(select(Event.title).where(Event.id == district_event)) \
            == "Valkonferens i Karlstad"
        # Everyone sees both, the board too.
        seen = service.events_for(session, as_user(session, board), now=NOW)
        assert {e.id for e in seen} == {district_event, kil_event}
        only_karlstad = service.events_for(session, as_user(session, board), now=NOW,
                                           municipality_id=karlstad_id)
        assert [e.id for e in only_karlstad] == [district_event]


def test_bad_input_is_refused_at_its_fields_and_nothing_is_saved(services, make_user):
    lead = make_user(Role.CAMPAIGN_LEAD)
    with services.db.session() as session:
        district_id = district(session).id
    with services.db.session() as session, pytest.raises(ValidationErrors) as refused:
        service.create_event(session, as_user(session, lead), service.EventDraft(
            title=" ", organiser_id=district_id, starts=EnteredTime("2031-13-01", "18:00"),
            ends=EnteredTime("2031-10-01", "25:00"), kind="party", link="ftp://x"), now=NOW)
    fields = {e.field for e in refused.value.errors}
    assert fields == {"title", "starts", "ends", "kind", "link"}
    with services.db.session() as session, pytest.raises(ValidationErrors) as refused:
        service.create_event(session, as_user(session, lead), draft(
            district_id, end=("2031-10-25", "17:00")), now=NOW)
    assert [e.field for e in refused.value.errors] == ["ends"]
    with services.db.session() as session:
        assert session.scalar(select(Event.id)) is None


def announce(services, user, event_id, accounts, now=NOW, **kwargs):
    with services.db.session() as session:
        return service.announce(session, as_user(session, user), event_id,
                                service.AnnounceDraft([a.id for a in accounts], **kwargs),
                                now=now)


def test_announcements_at_the_hour_chosen_in_stockholm_and_past_ones_skipped(
        services, make_user, make_account):
    lead = make_user(Role.CAMPAIGN_LEAD)
    x, _ = make_account(Platform.X)
    page, _ = make_account(Platform.FACEBOOK)
    with services.db.session() as session:
        district_id = district(session).id
    event_id = new_event(services, lead, district_id)
    done = announce(services, lead, event_id, [x, page], hour="08:00")
    assert len(done.posts) == 3 and done.skipped == []
    found = announcement_times(services, event_id)
    # 08:00 in Stockholm, summer time (UTC+2) every day before the 26th.
    assert found[Announcement.WEEK][0] == utc("2031-10-18 06:00")
    assert found[Announcement.DAY][0] == utc("2031-10-24 06:00")
    assert found[Announcement.MORNING][0] == utc("2031-10-25 06:00")
    for _due, states, dues, _text in found.values():
        assert states == {S.SCHEDULED} and len(dues) == 1
    assert found[Announcement.DAY][3] == ("I morgon: Valkonferens i Karlstad, lördag 25 oktober "
                                          "kl. 18:00, Folkets hus, Karlstad. Välkommen! "
                                          "https://example.org/valkonf")
    # Two days before, the week's and the day's moments have passed: only the morning's.
    later = new_event(services, lead, district_id, title="Föredrag med Kommunal")
    done = announce(services, lead, later, [x], now=utc("2031-10-24 08:00"), hour="09:30",
                    language="en")
    assert done.skipped == [Announcement.WEEK, Announcement.DAY]
    found = announcement_times(services, later)
    assert list(found) == [Announcement.MORNING]
    assert found[Announcement.MORNING][0] == utc("2031-10-25 07:30")
    assert found[Announcement.MORNING][3].startswith(
        "Today: Föredrag med Kommunal, Saturday 25 October at 18:00")
    # A board member may not announce; an hour in the night is refused.
    with pytest.raises(NotAllowed):
        announce(services, make_user(Role.BOARD), event_id, [x])
    with pytest.raises(ValidationErrors, match="HH:MM"):
        announce(services, lead, event_id, [x], hour="03:00")


def publish(services, post_id: int, at: datetime) -> None:
    """The announcement goes out: claimed when due and recorded through the state machine."""
    claimed = claim_due(services.db, "w-events", now=at)
    with services.db.session() as session:
        mine = session.scalars(select(Delivery.id).where(Delivery.post_id == post_id)).all()
        assert set(mine) <= set(claimed)
        for delivery_id in mine:
            assert transition(session, delivery_id, S.SENDING, S.PUBLISHED, holder="w-events",
                              published_at=at, external_id=f"ext-{delivery_id}")


def test_an_event_moved_across_the_autumn_change_moves_its_waiting_announcements(
        services, make_user, make_account, make_org):
    lead = make_user(Role.CAMPAIGN_LEAD)
    x, _ = make_account(Platform.X)
    with services.db.session() as session:
        district_id = district(session).id
    event_id = new_event(services, lead, district_id)
    announce(services, lead, event_id, [x], hour="08:00")
    found = announcement_times(services, event_id)
    week_post = found[Announcement.WEEK]
    with services.db.session() as session:
        week_id = session.scalar(select(EventAnnouncement.post_id).where(
            EventAnnouncement.which == Announcement.WEEK))
    publish(services, week_id, utc("2031-10-18 06:00"))

    # A week later: Saturday 1 November 18:00, winter time (UTC+1) since Sunday 26 October.
    with services.db.session() as session:
        service.edit_event(session, as_user(session, lead), event_id, draft(
            district_id, start=("2031-11-01", "18:00"), end=("2031-11-01", "21:00")),
            now=utc("2031-10-20 12:00"))
    found = announcement_times(services, event_id)
    assert found[Announcement.WEEK][:3] == (week_post[0], {S.PUBLISHED}, {week_post[0]})
    # Still 08:00 on the wall clock: 07:00 UTC now, not 06:00 (a move of 7 × 24 hours).
    assert found[Announcement.DAY][:3] == (utc("2031-10-31 07:00"), {S.SCHEDULED},
                                           {utc("2031-10-31 07:00")})
    assert found[Announcement.MORNING][:3] == (utc("2031-11-01 07:00"), {S.SCHEDULED},
                                               {utc("2031-11-01 07:00")})
    assert "lördag 1 november kl. 18:00" in found[Announcement.DAY][3]
    with services.db.session() as session:
        event = session.get(Event, event_id)
        assert event.starts_at == utc("2031-11-01 17:00") and event.sequence == 1

    # Cancelled: what waits is cancelled, what went out stays out.
    with services.db.session() as session:
        cancelled = service.cancel_event(session, as_user(session, lead), event_id,
                                         now=utc("2031-10-21 09:00"))
        assert len(cancelled) == 2
    found = announcement_times(services, event_id)
    assert found[Announcement.WEEK][1] == {S.PUBLISHED}
    assert found[Announcement.DAY][1] == found[Announcement.MORNING][1] == {S.CANCELLED}
    with services.db.session() as session:
        event = session.get(Event, event_id)
        assert event.cancelled_at is not None and event.sequence == 2
        assert service.announced_accounts(session, event_id) == [x.id]
        post = service.post_cancellation(session, as_user(session, lead), event_id, [x.id],
                                         now=utc("2031-10-21 09:00"))
        assert post.text.startswith("Inställt: Valkonferens i Karlstad (lördag 1 november")
        assert post.deliveries[0].due_at == utc("2031-10-21 09:00")


def test_an_announcement_changed_by_the_comms_team_keeps_its_words_when_the_event_moves(
        services, make_user, make_account):
    lead, comms = make_user(Role.CAMPAIGN_LEAD), make_user(Role.COMMS)
    x, _ = make_account(Platform.X)
    with services.db.session() as session:
        district_id = district(session).id
    event_id = new_event(services, lead, district_id)
    announce(services, lead, event_id, [x], which=["day"], hour="10:15")

    with services.db.session() as session:
        post = session.scalar(select(Post))
        edit_post(session, as_user(session, comms), post.id, PostDraft(
            text="Egna ord om valkonferensen", account_ids=[x.id],
            scheduled_local=datetime(2031, 10, 24, 10, 15)), now=NOW)
    with services.db.session() as session:
        service.edit_event(session, as_user(session, lead), event_id, draft(
            district_id, start=("2031-10-27", "18:00"), end=("2031-10-27", "21:00")), now=NOW)
    found = announcement_times(services, event_id)
    assert found[Announcement.DAY][0] == utc("2031-10-26 09:15")  # 10:15 winter time
    assert found[Announcement.DAY][3] == "Egna ord om valkonferensen"


def test_the_calendar_parses_with_two_readers_and_follows_changes(services, make_user):
    lead = make_user(Role.CAMPAIGN_LEAD)
    with services.db.session() as session:
        district_id = district(session).id
    public_id = new_event(services, lead, district_id, partners="Kommunal Värmland")
    members_id = new_event(services, lead, district_id, title="Medlemsmöte", public=False)
    with services.db.session() as session:
        service.edit_event(session, as_user(session, lead), public_id, draft(
            district_id, start=("2031-11-01", "18:00"), end=("2031-11-01", "21:00"),
            partners="Kommunal Värmland"), now=NOW)
        service.cancel_event(session, as_user(session, lead), members_id, now=NOW)
    with services.db.session() as session:
        public = calendar(service.feed_events(session, members=False, now=NOW),
                          name="Evenemang", host="megafon.example", now=NOW)
        members = calendar(service.feed_events(session, members=True, now=NOW),
                           name="Evenemang", host="megafon.example", now=NOW)
    parsed = icalendar.Calendar.from_ical(public)
    items = parsed.walk("VEVENT")
    assert [str(e["uid"]) for e in items] == [f"event-{public_id}@megafon.example"]
    assert items[0]["dtstart"].dt == utc("2031-11-01 17:00")
    assert int(items[0]["sequence"]) == 1 and str(items[0]["status"]) == "CONFIRMED"
    read = {str(e.uid.value): e for e in vobject.readOne(members.decode()).vevent_list}
    assert read[f"event-{public_id}@megafon.example"].dtstart.value == utc("2031-11-01 17:00")
    cancelled = read[f"event-{members_id}@megafon.example"]
    assert cancelled.status.value == "CANCELLED" and cancelled.sequence.value == "1"
    assert cancelled.summary.value == "Medlemsmöte"
    assert str(cancelled.dtend.value) == "2031-10-25 19:00:00+00:00"


def test_feed_tokens_are_secret_and_replaced(services, make_user):
    reader = make_user(Role.BOARD)
    with services.db.session() as session:
        first = service.new_feed_token(session, as_user(session, reader))
    with services.db.session() as session:
        assert service.feed_user(session, first).id == reader.id
        second = service.new_feed_token(session, as_user(session, reader))
    with services.db.session() as session:
        assert service.feed_user(session, first) is None
        assert service.feed_user(session, second).id == reader.id
        assert service.feed_user(session, "") is None


def test_an_announcement_that_would_come_after_the_new_start_is_cancelled(
        services, make_user, make_account):
    lead = make_user(Role.CAMPAIGN_LEAD)
    x, _ = make_account(Platform.X)
    with services.db.session() as session:
        district_id = district(session).id
    event_id = new_event(services, lead, district_id)
    announce(services, lead, event_id, [x], which=["day", "morning"], hour="09:00")
    with services.db.session() as session:
        service.edit_event(session, as_user(session, lead), event_id, draft(
            district_id, start=("2031-10-25", "08:30"), end=("2031-10-25", "12:00")), now=NOW)
    found = announcement_times(services, event_id)
    assert found[Announcement.DAY][:2] == (utc("2031-10-24 07:00"), {S.SCHEDULED})
    assert found[Announcement.MORNING][1] == {S.CANCELLED}


def test_announcements_on_the_districts_accounts_follow_when_the_association_moves_its_event(
        services, make_user, make_account, make_org):
    kil = make_org()
    lead, kil_comms = make_user(Role.CAMPAIGN_LEAD), make_user(Role.COMMS, kil)
    district_x, _ = make_account(Platform.X)  # the district's: out of Kil's reach
    event_id = new_event(services, kil_comms, kil.id, title="Vänsterskolan i Kil")
    announce(services, lead, event_id, [district_x], which=["day"], hour="08:00")
    with services.db.session() as session:
        service.edit_event(session, as_user(session, kil_comms), event_id, draft(
            kil.id, title="Vänsterskolan i Kil", start=("2031-11-01", "18:00"),
            end=("2031-11-01", "21:00")), now=NOW)
    found = announcement_times(services, event_id)
    assert found[Announcement.DAY][:2] == (utc("2031-10-31 07:00"), {S.SCHEDULED})
    assert "lördag 1 november kl. 18:00" in found[Announcement.DAY][3]

"""The event pages: a lead creates, announces, moves and cancels an event through the forms; bad
input is answered at its field and saves nothing; another association's user is refused on the
server; the calendars answer without a login (public) and by a secret link (members). Chromium
screenshots of the list and an event's page: tests/artifacts/events-*.png."""

from __future__ import annotations

import re
from datetime import timedelta

import icalendar
import pytest
import vobject
from sqlalchemy import select

from campaigns.event_models import Announcement, EventAnnouncement
from campaigns.models import Event
from core.auth import create_user, district
from core.clock import to_local, utcnow
from core.db import Database
from core.users import Organisation, OrganisationKind, Role
from publisher.models import Delivery, DeliveryState, Platform, Post
from tests.conftest import connect_sandbox_account
from tests.factories import count
from tests.web.browser import PASSWORD, artifact, chromium
from tests.web.conftest import csrf_token


def event_form(organiser_id: int, days: int = 20, **changes) -> dict[str, object]:
    day = to_local(utcnow()).date() + timedelta(days=days)
    form = {"title": "Valkonferens 2026", "kind": "election_conference",
            "organiser_id": str(organiser_id), "start_date": f"{day}", "start_time": "10:00",
            "end_date": f"{day}", "end_time": "16:00", "place": "Folkets hus, Karlstad",
            "municipality_id": "", "description": "Vi väljer kandidater.",
            "partners": "", "public": "y", "link": "https://example.org/valkonferens",
            "campaign_id": ""}
    form.update(changes)
    return form


def district_id(db) -> int:
    with db.session() as session:
        return district(session).id


def test_a_lead_creates_announces_moves_and_cancels_an_event(logged_in, make_account, db):
    x, _ = make_account(Platform.X, name="Distriktet på X")
    client, _lead = logged_in(Role.CAMPAIGN_LEAD)
    token = csrf_token(client, "/events/new")
    response = client.post("/events/new", data={**event_form(district_id(db)),
                                                  "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    event_id = int(re.search(r"/events/(\d+)", response.location).group(1))
    page = client.get("/events").get_data(as_text=True)
    assert "Valkonferens 2026" in page and "Folkets hus, Karlstad" in page

    response = client.post(f"/events/{event_id}/announce", data={
        "csrf_token": token, "accounts": [x.id], "which": ["week", "day", "morning"],
        "hour": "08:00", "language": "sv"})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert count(db, EventAnnouncement) == 3 == count(db, Post)
    page = client.get(f"/events/{event_id}").get_data(as_text=True)
    assert page.count('data-testid="announcement-') == 3

    # Moved a day later: the announcements follow, at 08:00 Stockholm time.
    response = client.post(f"/events/{event_id}/edit", data={
        **event_form(district_id(db), days=21), "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    with db.session() as session:
        event = session.get(Event, event_id)
        assert event.sequence == 1
        for link in session.scalars(select(EventAnnouncement)):
            delivery = session.scalar(select(Delivery).where(Delivery.post_id == link.post_id))
            local = to_local(delivery.due_at)
            assert (local.hour, local.minute) == (8, 0)
            days_before = {Announcement.WEEK: 7, Announcement.DAY: 1, Announcement.MORNING: 0}
            assert local.date() == to_local(event.starts_at).date() - timedelta(
                days=days_before[link.which])

    response = client.post(f"/events/{event_id}/cancel", data={"csrf_token": token})
    assert response.status_code == 302
    with db.session() as session:
        assert set(session.scalars(select(Delivery.state))) == {DeliveryState.CANCELLED}
    page = client.get(f"/events/{event_id}").get_data(as_text=True)
    assert 'data-testid="event-cancelled"' in page and 'data-testid="cancellation-form"' in page
    response = client.post(f"/events/{event_id}/cancellation", data={
        "csrf_token": token, "cancellation_accounts": [x.id],
        "cancellation_language": "sv"})
    assert response.status_code == 302, response.get_data(as_text=True)
    with db.session() as session:
        text = session.scalar(select(Post.text).order_by(Post.id.desc()))
        assert text.startswith("Inställt: Valkonferens 2026")

    # The public calendar, without a login, parsed by two readers.
    body = client.application.test_client().get("/events.ics")
    assert body.status_code == 200 and body.mimetype == "text/calendar"
    item = icalendar.Calendar.from_ical(body.data).walk("VEVENT")[0]
    assert str(item["status"]) == "CANCELLED" and int(item["sequence"]) == 2
    assert vobject.readOne(body.get_data(as_text=True)).vevent.summary.value == \
        "Valkonferens 2026"


def test_bad_input_is_answered_at_its_field_and_nothing_is_saved(logged_in, db):
    client, _ = logged_in(Role.CAMPAIGN_LEAD)
    token = csrf_token(client, "/events/new")
    response = client.post("/events/new", data={
        **event_form(district_id(db), title="", start_date="2026-02-30", end_time="9"),
        "csrf_token": token})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert page.count('class="field-error"') >= 3
    assert count(db, Event) == 0


def test_other_associations_users_are_refused_and_the_board_only_reads(logged_in, make_org,
                                                                       db):
    kil, arvika = make_org(), make_org()
    kil_client, _ = logged_in(Role.COMMS, kil)
    token = csrf_token(kil_client, "/events/new")
    response = kil_client.post("/events/new", data={**event_form(kil.id), "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    event_id = int(re.search(r"/events/(\d+)", response.location).group(1))
    # In another's name: refused.
    response = kil_client.post("/events/new", data={**event_form(arvika.id),
                                                     "csrf_token": token})
    assert response.status_code == 403
    arvika_client, _ = logged_in(Role.COMMS, arvika)
    token = csrf_token(arvika_client, "/events/new")
    for path, data in ((f"/events/{event_id}/edit", event_form(arvika.id, title="Kapad")),
                       (f"/events/{event_id}/cancel", {}),
                       (f"/events/{event_id}/announce", {"which": ["day"], "hour": "08:00"})):
        response = arvika_client.post(path, data={**data, "csrf_token": token})
        assert response.status_code == 403, path
    assert arvika_client.get(f"/events/{event_id}/edit").status_code == 403
    board, _ = logged_in(Role.BOARD)
    assert board.get(f"/events/{event_id}").status_code == 200
    assert board.get("/events/new").status_code == 403
    with db.session() as session:
        event = session.get(Event, event_id)
        assert event.title == "Valkonferens 2026" and event.cancelled_at is None


def test_the_members_calendar_needs_the_secret_link(logged_in, make_user, db, app):
    client, _ = logged_in(Role.BOARD)
    lead, _ = logged_in(Role.CAMPAIGN_LEAD)
    token = csrf_token(lead, "/events/new")
    lead.post("/events/new", data={**event_form(district_id(db), title="Medlemsmöte",
                                                public=""), "csrf_token": token})
    lead.post("/events/new", data={**event_form(district_id(db), title="Öppet föredrag"),
                                   "csrf_token": token})
    anonymous = app.test_client()
    public = icalendar.Calendar.from_ical(anonymous.get("/events.ics").data)
    assert [str(e["summary"]) for e in public.walk("VEVENT")] == ["Öppet föredrag"]
    page = client.post("/events/calendar-link", data={"csrf_token": csrf_token(client,
                                                                               "/events")})
    link = re.search(r'data-testid="members-feed"[^>]*>([^<]+)<', page.get_data(as_text=True))
    path = link.group(1).replace("http://localhost", "")
    members = anonymous.get(path)
    assert members.status_code == 200
    read = vobject.readOne(members.get_data(as_text=True))
    assert sorted(e.summary.value for e in read.vevent_list) == ["Medlemsmöte", "Öppet föredrag"]
    assert anonymous.get("/events/members/not-a-token.ics").status_code == 404
    # A new link stops the old one.
    client.post("/events/calendar-link", data={"csrf_token": csrf_token(client, "/events")})
    assert anonymous.get(path).status_code == 404


@pytest.mark.browser
def test_screenshots_of_the_events_and_an_event(megafon):
    db = Database(megafon.database_url)
    account, _ = connect_sandbox_account(megafon.services, Platform.FACEBOOK,
                                         name="Vänsterpartiet Värmland")
    with db.session() as session:
        create_user(session, email="evenemang@example.org", name="Eva Evenemang",
                    password=PASSWORD, role=Role.CAMPAIGN_LEAD)
        session.add(Organisation(name="Vänsterpartiet Kil", kind=OrganisationKind.ASSOCIATION))
        organiser = district(session).id
    day = to_local(utcnow()).date() + timedelta(days=12)
    with chromium() as browser:
        page = browser.new_context(viewport={"width": 1280, "height": 1200},
                                   locale="sv-SE").new_page()
        page.goto(megafon.url + "/")
        page.fill("#email", "evenemang@example.org")
        page.fill("#password", PASSWORD)
        page.click("form button[type=submit].primary")
        page.wait_for_selector("nav.mainnav")
        page.click("[data-testid=nav-events]")
        page.click("[data-testid=new-event]")
        page.fill("#title", "Föredrag: facket och klimatet, med Kommunal")
        page.select_option("#kind", "lecture")
        page.select_option("#organiser_id", str(organiser))
        page.fill("#start_date", f"{day}")
        page.fill("#start_time", "18:30")
        page.fill("#end_date", f"{day}")
        page.fill("#end_time", "20:00")
        page.fill("#place", "Bibliotekets hörsal")
        page.select_option("#municipality_id", label="Arvika")
        page.fill("#partners", "Kommunal Värmland")
        page.click("[data-testid=save-event]")
        page.wait_for_selector("[data-testid=announce-form]")
        page.check(f"input[name=accounts][value='{account.id}']")
        page.click("[data-testid=announce]")
        page.wait_for_selector("[data-testid=announcement-week]")
        assert "Schemalagd" in page.inner_text("[data-testid=announcements]") or \
            page.locator("[data-testid=announcements] [data-state=scheduled]").count() == 3
        page.screenshot(path=str(artifact("events-event.png")), full_page=True)
        page.click("[data-testid=nav-events]")
        page.wait_for_selector("[data-testid=events]")
        assert "Föredrag: facket och klimatet" in page.inner_text("[data-testid=events]")
        page.screenshot(path=str(artifact("events-list.png")), full_page=True)


def test_the_district_changes_the_announcement_texts_an_association_reads_them(
        logged_in, make_org, make_account, db):
    client, _ = logged_in(Role.CAMPAIGN_LEAD)
    token = csrf_token(client, "/events/templates")
    response = client.post("/events/templates", data={
        "csrf_token": token, "language": "en", "week": "Next week: {title}, {when}. {link}",
        "day": "", "morning": "", "cancellation": ""})
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get("/events/templates?language=en").get_data(as_text=True)
    assert "Next week: {title}, {when}. {link}" in page and "Tomorrow: {title}" in page
    response = client.post("/events/templates", data={
        "csrf_token": token, "language": "sv", "week": "Om en vecka, utan rubrik"})
    assert response.status_code == 422 and "{title}" in response.get_data(as_text=True)
    # The new text is used when announcing in English.
    x, _ = make_account(Platform.X)
    response = client.post("/events/new", data={**event_form(district_id(db)),
                                                  "csrf_token": token})
    event_id = int(re.search(r"/events/(\d+)", response.location).group(1))
    client.post(f"/events/{event_id}/announce", data={
        "csrf_token": token, "accounts": [x.id], "which": ["week"], "hour": "08:00",
        "language": "en"})
    with db.session() as session:
        assert session.scalar(select(Post.text)).startswith("Next week: Valkonferens 2026, ")
    kil = make_org()
    reader, _ = logged_in(Role.COMMS, kil)
    assert reader.get("/events/templates").status_code == 200
    response = reader.post("/events/templates", data={
        "csrf_token": csrf_token(reader, "/events"), "language": "sv",
        "week": "Kapad {title}"})
    assert response.status_code == 403

"""Posting times, each account's queue and the calendar (issue 17, points 2 and 3), through the
pages and in real Chromium: the composer's "Nästa lediga tid" fills the time, a post dragged in
the calendar moves, and so does one moved with its "Flytta" form by keyboard alone."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import select, update

from core.clock import STOCKHOLM, local_to_utc, to_local, utcnow
from core.db import Database
from core.users import Role, User
from publisher.models import Delivery, DeliveryState, Platform, Post
from publisher.posting_slots import PostingSlot, add_slot
from publisher.posts import PostDraft, create_post
from tests.conftest import connect_sandbox_account
from tests.factories import queue_post
from tests.web.browser import LiveMegafon, artifact, chromium
from tests.web.conftest import csrf_token


def far_monday() -> date:
    """A Monday whose whole week lies ahead: the Monday after next (Stockholm)."""
    today = datetime.now(STOCKHOLM).date()
    return today + timedelta(days=14 - today.weekday())


def at(day: date, clock: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(clock))


def due_of(db: Database, text: str) -> datetime:
    with db.session() as session:
        return session.scalar(select(Post.scheduled_at).where(Post.text == text))


def test_the_comms_team_sets_an_accounts_posting_times(db, logged_in, make_account):
    x, _ = make_account(Platform.X)
    client, _ = logged_in(Role.COMMS)
    token = csrf_token(client, f"/accounts/{x.id}/schedule")
    added = client.post(f"/accounts/{x.id}/schedule", data={
        "csrf_token": token, "weekday": "0", "time": "8.30"})
    assert added.status_code == 302
    page = client.get(f"/accounts/{x.id}/schedule").text
    assert "måndag" in page.lower() and "08:30" in page
    refused = client.post(f"/accounts/{x.id}/schedule", data={
        "csrf_token": token, "weekday": "0", "time": "25:00"})
    assert refused.status_code == 400 and "Skriv klockslaget som TT:MM" in refused.text
    with db.session() as session:
        [slot] = session.scalars(select(PostingSlot)).all()
    removed = client.post(f"/accounts/{x.id}/schedule/remove",
                          data={"csrf_token": token, "slot_id": slot.id})
    assert removed.status_code == 302
    with db.session() as session:
        assert session.scalars(select(PostingSlot)).all() == []
    board, _ = logged_in(Role.BOARD)
    assert board.get(f"/accounts/{x.id}/schedule").status_code == 200
    assert "Lägg till en publiceringstid" not in board.get(f"/accounts/{x.id}/schedule").text


def test_an_accounts_queue_is_in_the_order_it_goes_out(db, logged_in, make_user, make_account):
    x, _ = make_account(Platform.X)
    fb, _ = make_account(Platform.FACEBOOK)
    author = make_user(Role.COMMS)
    monday = far_monday()
    for text, day in (("Tredje", 2), ("Första", 0), ("Andra", 1)):
        queue_post(db, author, [x], text, at_local=at(monday + timedelta(days=day), "09:00"))
    queue_post(db, author, [fb], "Annat konto", at_local=at(monday, "08:00"))
    client, _ = logged_in(Role.BOARD)
    page = client.get(f"/accounts/{x.id}/queue").text
    assert page.index("Första") < page.index("Andra") < page.index("Tredje")
    assert "Annat konto" not in page


def test_the_calendar_shows_swedish_days_and_filters(db, logged_in, make_user, make_account):
    x, _ = make_account(Platform.X, name="Kalender X")
    fb, _ = make_account(Platform.FACEBOOK, name="Kalender FB")
    author = make_user(Role.COMMS)
    monday = far_monday()
    queue_post(db, author, [x], "Onsdagens inlägg", at_local=at(monday + timedelta(2), "09:15"))
    queue_post(db, author, [fb], "Facebooks inlägg", at_local=at(monday + timedelta(2), "11:00"))
    published = queue_post(db, author, [x], "Redan ute", at_local=at(monday, "10:00"))
    with db.session() as session:
        session.execute(update(Delivery).where(Delivery.post_id == published.id).values(
            state=DeliveryState.PUBLISHED, external_url="https://x.example/status/1"))
    client, _ = logged_in(Role.COMMS)
    week = client.get(f"/calendar?view=week&date={monday + timedelta(3):%Y-%m-%d}")
    assert week.status_code == 200
    page = week.text
    assert "Måndag" in page and "Söndag" in page and page.index("Måndag") < page.index("Söndag")
    assert "Onsdagens inlägg" in page and "Facebooks inlägg" in page
    assert "https://x.example/status/1" in page  # a past post's result
    wednesday = page[page.index(f'data-testid="day-{monday + timedelta(2):%Y-%m-%d}"'):]
    assert wednesday.index("09:15") < wednesday.index("Onsdagens inlägg")
    only_fb = client.get(f"/calendar?date={monday:%Y-%m-%d}&account={fb.id}").text
    assert "Facebooks inlägg" in only_fb and "Onsdagens inlägg" not in only_fb
    published_only = client.get(f"/calendar?date={monday:%Y-%m-%d}&state=published").text
    assert "Redan ute" in published_only and "Onsdagens inlägg" not in published_only
    month = client.get("/calendar?view=month&date=2040-03-10").text
    assert "Mars 2040" in month
    bad = client.get("/calendar?date=2040-13-45")
    assert bad.status_code == 400 and "ÅÅÅÅ-MM-DD" in bad.text


def test_a_published_post_is_not_moved_and_says_why(db, logged_in, make_user, make_account):
    x, _ = make_account(Platform.X)
    author = make_user(Role.COMMS)
    monday = far_monday()
    post = queue_post(db, author, [x], "Ute redan", at_local=at(monday, "10:00"))
    with db.session() as session:
        session.execute(update(Delivery).values(state=DeliveryState.PUBLISHED))
    client, _ = logged_in(Role.COMMS)
    token = csrf_token(client, "/calendar")
    moved = client.post("/calendar/move", data={
        "csrf_token": token, "post_id": post.id, "date": f"{monday + timedelta(1):%Y-%m-%d}",
        "time": "10:00", "next": f"/calendar?date={monday:%Y-%m-%d}"}, follow_redirects=True)
    assert "Inlägget kan inte ändras längre" in moved.text
    assert due_of(db, "Ute redan") == local_to_utc(at(monday, "10:00"))
    away = client.post("/calendar/move", data={"csrf_token": token, "post_id": post.id,
                                                "date": "x", "time": "y",
                                                "next": "https://evil.example/"})
    assert away.status_code == 302 and away.location.endswith("/calendar")
    huge = client.post("/calendar/move", data={"csrf_token": token, "post_id": "9" * 12,
                                                "date": f"{monday:%Y-%m-%d}", "time": "10:00"})
    assert huge.status_code == 400  # the calendar again, saying what to choose
    assert "Välj ett inlägg" in huge.text
    assert client.post(f"/accounts/{x.id}/schedule/remove", data={
        "csrf_token": token, "slot_id": "9" * 12}).status_code == 302


def test_next_free_time_fills_the_composer_without_javascript(db, logged_in, make_account):
    x, _ = make_account(Platform.X)
    client, user = logged_in(Role.COMMS)
    with db.session() as session:
        add_slot(session, session.get(User, user.id), x.id, "2", "07:45")
    token = csrf_token(client, "/compose")
    page = client.post("/compose", data={"csrf_token": token, "action": "next_slot",
                                         "text": "Om bussarna", "accounts": [x.id]})
    assert page.status_code == 200
    today = datetime.now(STOCKHOLM)
    wednesday = today.date() + timedelta(days=(2 - today.weekday()) % 7)
    if at(wednesday, "07:45") <= today.replace(tzinfo=None):
        wednesday += timedelta(days=7)
    assert f'value="{wednesday:%Y-%m-%d}"' in page.text and 'value="07:45"' in page.text
    assert "Om bussarna</textarea>" in page.text
    none_chosen = client.post("/compose", data={"csrf_token": token, "action": "next_slot"})
    assert none_chosen.status_code == 400 and "Välj minst ett konto" in none_chosen.text


def test_in_chromium_next_free_time_drag_and_keyboard_move_posts(megafon: LiveMegafon,
                                                                  tmp_path: Path):
    from playwright.sync_api import expect

    services = megafon.services
    tag = tmp_path.name[-6:]
    scheduled, _ = connect_sandbox_account(services, Platform.X, name=f"Schema {tag}")
    calendar, _ = connect_sandbox_account(services, Platform.X, name=f"Kalender {tag}")
    monday = far_monday()
    with services.db.session() as session:
        admin = session.scalar(select(User).where(User.email == megafon.email))
        for weekday in range(7):
            add_slot(session, admin, scheduled.id, str(weekday), "10:00")
        add_slot(session, admin, calendar.id, "3", "12:30")  # Thursdays
        now = datetime.now(STOCKHOLM).replace(tzinfo=None)
        tens = [at(now.date() + timedelta(days=n), "10:00") for n in range(3)]
        first, second = [t for t in tens if t > now][:2]
        create_post(session, admin, PostDraft(text=f"Tar tiden {tag}",
                                              account_ids=[scheduled.id], scheduled_local=first))
        for text, day, clock in ((f"Dras {tag}", 0, "09:00"), (f"Till tiden {tag}", 1, "08:00")):
            create_post(session, admin, PostDraft(
                text=text, account_ids=[calendar.id],
                scheduled_local=at(monday + timedelta(days=day), clock)))
    database = Database(megafon.database_url)
    try:
        with chromium() as browser:
            page = browser.new_context(viewport={"width": 1280, "height": 900},
                                       locale="sv-SE").new_page()
            page.goto(megafon.url + "/login")
            page.fill("#email", megafon.email)
            page.fill("#password", megafon.password)
            page.click("form button[type=submit].primary")
            page.wait_for_selector("nav.mainnav")

            # the composer: "Nästa lediga tid" skips the time a post holds
            page.goto(megafon.url + "/compose")
            page.fill("#text", f"Nästa tid {tag}")
            page.locator("ul.checks label", has_text=f"Schema {tag}").locator("input").check()
            page.get_by_test_id("next-slot").click()
            expect(page.locator("#scheduled_date")).to_have_value(f"{second:%Y-%m-%d}")
            expect(page.locator("#scheduled_time")).to_have_value("10:00")
            expect(page.get_by_test_id("when-at")).to_be_checked()
            page.click("form.compose button[type=submit].primary")
            page.wait_for_load_state()
            assert due_of(database, f"Nästa tid {tag}") == local_to_utc(second)

            # the account's queue
            page.goto(f"{megafon.url}/accounts/{scheduled.id}/queue")
            expect(page.get_by_test_id("queue")).to_contain_text(f"Nästa tid {tag}")
            page.screenshot(path=str(artifact("account-queue.png")), full_page=True)

            # the calendar, reached from the navigation, one account's week
            page.click("nav.mainnav a[data-testid=nav-calendar]")
            page.wait_for_load_state()
            page.goto(f"{megafon.url}/calendar?view=week&date={monday:%Y-%m-%d}"
                      f"&account={calendar.id}")
            dragged = page.locator("[data-post]", has_text=f"Dras {tag}")
            wednesday = page.get_by_test_id(f"day-{monday + timedelta(2):%Y-%m-%d}")
            with page.expect_navigation():  # the move form is sent
                dragged.drag_to(wednesday.locator("h3"))
            expect(wednesday).to_contain_text(f"Dras {tag}")
            assert due_of(database, f"Dras {tag}") == local_to_utc(
                at(monday + timedelta(2), "09:00"))

            # onto Thursday's posting time
            to_slot = page.locator("[data-post]", has_text=f"Till tiden {tag}")
            with page.expect_navigation():
                to_slot.drag_to(page.get_by_test_id(
                    f"slot-{monday + timedelta(3):%Y-%m-%d}-12:30"))
            assert due_of(database, f"Till tiden {tag}") == local_to_utc(
                at(monday + timedelta(3), "12:30"))
            page.screenshot(path=str(artifact("calendar-week.png")), full_page=True)

            # by keyboard alone: "Flytta", a date and a time, Enter
            post_id = page.locator("[data-post]", has_text=f"Dras {tag}").get_attribute(
                "data-post")
            summary = page.get_by_test_id(f"move-{post_id}")
            summary.focus()
            page.keyboard.press("Enter")
            page.keyboard.press("Tab")
            page.keyboard.press("Control+A")
            page.keyboard.type(f"{monday + timedelta(4):%Y-%m-%d}")
            page.keyboard.press("Tab")
            page.keyboard.press("Control+A")
            page.keyboard.type("14:30")
            with page.expect_navigation():
                page.keyboard.press("Enter")
            friday = page.get_by_test_id(f"day-{monday + timedelta(4):%Y-%m-%d}")
            expect(friday).to_contain_text(f"Dras {tag}")
            expect(friday).to_contain_text("14:30")
            assert due_of(database, f"Dras {tag}") == local_to_utc(
                at(monday + timedelta(4), "14:30"))

            page.goto(f"{megafon.url}/calendar?view=month&date={monday:%Y-%m-%d}")
            expect(page.get_by_test_id("calendar")).to_contain_text(f"Dras {tag}")
            page.screenshot(path=str(artifact("calendar-month.png")), full_page=True)
            page.context.close()
        with database.session() as session:
            moved = session.scalars(select(Delivery).join(Post).where(
                Post.text == f"Dras {tag}")).one()
            assert moved.state is DeliveryState.SCHEDULED
            assert to_local(moved.due_at).hour == 14 and moved.due_at > utcnow()
    finally:
        database.dispose()

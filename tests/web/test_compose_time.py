"""Swedish dates and a 24-hour clock whatever the browser's language.

The server reads what is typed (core.entered_time): the spring night's missing hour is refused,
the autumn night's doubled hour asked about. Fixed dates where the domain is asked directly;
through the app, dates counted from today (the next autumn night), so that the suite passes under
`faketime -f '+365d'` too.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from core.clock import STOCKHOLM, is_doubled
from core.entered_time import (
    SUMMER_TIME,
    WINTER_TIME,
    EnteredTime,
    parse_date,
    parse_time,
    read_wall_clock,
)
from core.users import Role
from monitor.models import Mention
from publisher.models import Platform, Post
from publisher.posts import PostDraft, create_post
from tests.factories import count
from tests.web.browser import LiveMegafon, Megafon, artifact, chromium
from tests.web.conftest import csrf_token

# --- The domain, on fixed dates ---------------------------------------------------------------


@pytest.mark.parametrize(("typed", "day"), [("2026-05-04", date(2026, 5, 4)),
                                            (" 2026-5-4 ", date(2026, 5, 4)),
                                            ("20260504", date(2026, 5, 4))])
def test_a_date_is_read_the_swedish_way(typed, day):
    assert parse_date(typed) == day


@pytest.mark.parametrize("typed", ["05/04/2026", "4/5 2026", "2026-02-30", "2026-13-01", "idag"])
def test_other_dates_are_not_guessed(typed):
    assert parse_date(typed) is None


@pytest.mark.parametrize(("typed", "hour", "minute"), [("14:30", 14, 30), ("14.30", 14, 30),
                                                       ("1430", 14, 30), ("9:05", 9, 5),
                                                       ("00:00", 0, 0), ("23:59", 23, 59)])
def test_a_time_is_read_on_a_24_hour_clock(typed, hour, minute):
    assert parse_time(typed) == datetime(2026, 1, 1, hour, minute).time()


@pytest.mark.parametrize("typed", ["2:30 PM", "24:00", "12:60", "kl 14", "14"])
def test_12_hour_and_other_times_are_refused(typed):
    assert parse_time(typed) is None


def test_the_spring_gap_is_refused_with_a_clear_message():
    errors = []
    assert read_wall_clock(EnteredTime("2026-03-29", "02:30"), "scheduled_at", errors) is None
    [error] = errors
    assert error.field == "scheduled_at"
    assert str(error).startswith("2026-03-29 02:30 does not exist in Swedish time")


def test_the_doubled_autumn_hour_is_asked_about_not_guessed():
    errors = []
    assert read_wall_clock(EnteredTime("2026-10-25", "02:30"), "scheduled_at", errors) is None
    [error] = errors
    assert error.field == "scheduled_at_reading" and "happens twice" in str(error)


@pytest.mark.parametrize(("reading", "utc"), [
    (SUMMER_TIME, datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
    (WINTER_TIME, datetime(2026, 10, 25, 1, 30, tzinfo=UTC))])
def test_the_chosen_occurrence_of_the_doubled_hour_is_the_one_saved(db, make_user, make_account,
                                                                    reading, utc):
    x, _ = make_account(Platform.X)
    user = make_user(Role.COMMS)
    with db.session() as session:
        post = create_post(session, user, PostDraft(
            text="Valvaka i natt", account_ids=[x.id],
            entered_time=EnteredTime("2026-10-25", "02:30", reading)),
            now=datetime(2026, 10, 20, 12, 0, tzinfo=UTC))
        session.commit()
        assert post.scheduled_at == utc
        assert EnteredTime.showing(post.scheduled_at) == EnteredTime("2026-10-25", "02:30", reading)


def test_an_ordinary_time_is_stockholm_time_in_summer_and_winter(db, make_user, make_account):
    x, _ = make_account(Platform.X)
    user = make_user(Role.COMMS)
    now = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
    with db.session() as session:
        winter = create_post(session, user, PostDraft(
            text="Vintermöte", account_ids=[x.id],
            entered_time=EnteredTime("2026-01-15", "18:00")), now=now)
        summer = create_post(session, user, PostDraft(
            text="Sommarmöte", account_ids=[x.id],
            entered_time=EnteredTime("2026-07-15", "18:00")), now=now)
        assert winter.scheduled_at == datetime(2026, 1, 15, 17, 0, tzinfo=UTC)
        assert summer.scheduled_at == datetime(2026, 7, 15, 16, 0, tzinfo=UTC)
        soon = create_post(session, user, PostDraft(
            text="Nu", account_ids=[x.id],
            entered_time=EnteredTime("2026-07-15", "18:00", soon=True)), now=now)
        assert soon.scheduled_at == now  # as soon as possible wins over what was typed


# --- Through the form -------------------------------------------------------------------------


def next_autumn_night() -> date:
    """The next night the clocks go back (the last Sunday of October), at least two days away:
    always within the year ahead a post may be scheduled."""
    day = datetime.now(STOCKHOLM).date() + timedelta(days=2)
    while not (day.month == 10 and day.weekday() == 6 and (day + timedelta(days=7)).month == 11):
        day += timedelta(days=1)
    assert is_doubled(datetime.combine(day, datetime.min.time()).replace(hour=2, minute=30))
    return day


def compose(client, account, **fields):
    return client.post("/compose", data={"csrf_token": csrf_token(client, "/compose"),
                                         "accounts": [account.id], "link": "", **fields})


def test_the_doubled_hour_is_asked_in_the_form_and_the_answer_saved(db, logged_in,
                                                                    make_account):
    x, _ = make_account(Platform.X)
    client, _ = logged_in(Role.COMMS)
    night = f"{next_autumn_night():%Y-%m-%d}"
    fields = {"text": "Valvaka – vi ses på torget!", "when": "at", "scheduled_date": night,
              "scheduled_time": "02:30"}
    asked = compose(client, x, **fields)
    assert asked.status_code == 400 and count(db, Post) == 0
    page = html.unescape(asked.text)
    assert "inträffar två gånger den natten" in page
    assert 'data-testid="reading-summer"' in page and 'data-testid="reading-winter"' in page
    # nothing typed is lost
    assert "Valvaka – vi ses på torget!" in page
    assert f'value="{night}"' in page and 'value="02:30"' in page

    answered = compose(client, x, **fields, scheduled_reading=WINTER_TIME)
    assert answered.status_code == 302, answered.text
    with db.session() as session:
        post = session.scalar(select(Post))
        local = post.scheduled_at.astimezone(STOCKHOLM)
        assert (f"{local:%Y-%m-%d %H:%M}", local.fold, local.utcoffset()) == (
            f"{night} 02:30", 1, timedelta(hours=1))  # the second time: winter time


def test_bad_input_comes_back_with_everything_typed(db, logged_in, make_account):
    x, _ = make_account(Platform.X)
    client, _ = logged_in(Role.COMMS)
    response = compose(client, x, text="Torgmöte på lördag", link="https://example.org/torg",
                       first_comment="", when="at", scheduled_date="05/04/2027",
                       scheduled_time="2:30 PM")
    assert response.status_code == 400 and count(db, Post) == 0
    page = html.unescape(response.text)
    assert "Skriv datumet som ÅÅÅÅ-MM-DD" in page and "Skriv klockslaget som TT:MM" in page
    for typed in ("Torgmöte på lördag", 'value="https://example.org/torg"',
                  'value="05/04/2027"', 'value="2:30 PM"'):
        assert typed in page
    assert re.search(r'value="at"[^>]*checked', page)


def test_no_page_offers_the_browsers_own_date_or_time_picker(logged_in, make_account):
    make_account(Platform.X)
    client, _ = logged_in(Role.ADMIN)
    for path in ("/compose", "/clippings/new", "/mentions", "/reports"):
        page = client.get(path, follow_redirects=True).text
        assert not re.search(r'type="(date|datetime-local|time)"', page), path


# --- In Chromium, under an English browser --------------------------------------------------


@pytest.mark.browser
def test_an_english_browser_shows_and_takes_swedish_dates_and_a_24_hour_clock(
        megafon: LiveMegafon, tmp_path: Path):
    from playwright.sync_api import expect

    day = datetime.now(STOCKHOLM).date() + timedelta(days=40)
    tag = tmp_path.name[-6:]
    with chromium() as browser:
        context = browser.new_context(locale="en-US", timezone_id="America/New_York",
                                      viewport={"width": 1280, "height": 900})
        person = Megafon(context.new_page(), megafon)
        page = person.page
        assert page.evaluate("navigator.language") == "en-US"
        person.log_in()
        person.open("/accounts/")
        person.connect_sandbox_account("x", f"Klockan {tag}")
        for language in ("sv", "en"):
            if language == "en":
                person.switch_language()
            person.open("/compose")
            date_field = page.locator("#scheduled_date")
            time_field = page.locator("#scheduled_time")
            placeholders = {"sv": ("ÅÅÅÅ-MM-DD", "TT:MM"), "en": ("YYYY-MM-DD", "HH:MM")}[language]
            expect(date_field).to_have_attribute("placeholder", placeholders[0])
            expect(time_field).to_have_attribute("placeholder", placeholders[1])
            assert date_field.get_attribute("type") == time_field.get_attribute("type") == "text"
            page.screenshot(path=artifact(f"compose-time-{language}-en-US-browser.png"),
                            full_page=True)

        # English UI, English browser: 2026-…-style date and a 24-hour time are taken as typed
        page.fill("#text", f"Kvällsmöte {tag}")
        page.locator("ul.checks input[data-platform=x]").first.check()
        expect(page.get_by_test_id("when-soon")).to_be_checked()
        page.fill("#scheduled_date", f"{day:%Y-%m-%d}")
        page.fill("#scheduled_time", "19:45")
        expect(page.get_by_test_id("when-at")).to_be_checked()  # typing a time chose it
        page.fill("#scheduled_time", "7:45 PM")
        page.click("form.compose button[type=submit]")
        page.wait_for_load_state()
        expect(page.locator("#scheduled_at .field-error")).to_contain_text(
            "Write the time as HH:MM on a 24-hour clock")
        expect(page.locator("#text")).to_have_value(f"Kvällsmöte {tag}")
        expect(page.locator("#scheduled_date")).to_have_value(f"{day:%Y-%m-%d}")
        page.screenshot(path=artifact("compose-time-refused-en-US-browser.png"), full_page=True)
        page.fill("#scheduled_time", "19:45")
        page.click("form.compose button[type=submit]")
        page.wait_for_load_state()
        expect(page.locator(".flash-success")).to_be_visible()
        upcoming = person.rows("upcoming", f"Kvällsmöte {tag}")
        expect(upcoming).to_contain_text("19:45")
        context.close()

    from core.db import Database
    database = Database(megafon.database_url)
    try:
        with database.session() as session:
            post = session.scalar(select(Post).where(Post.text == f"Kvällsmöte {tag}"))
            local = post.scheduled_at.astimezone(STOCKHOLM)
            assert f"{local:%Y-%m-%d %H:%M}" == f"{day:%Y-%m-%d} 19:45"
    finally:
        database.dispose()


def test_a_clipping_takes_a_swedish_date_with_or_without_a_time(db, logged_in):
    client, _ = logged_in(Role.COMMS)
    refused = client.post("/clippings/new", data={
        "csrf_token": csrf_token(client, "/clippings/new"), "outlet": "NWT papper",
        "published_date": "3/4/2025", "published_time": "", "title": "Busslinjer dras in",
        "text": "Kollektivtrafiken i Kil."})
    assert refused.status_code == 400
    assert "Skriv datumet som ÅÅÅÅ-MM-DD" in html.unescape(refused.text)
    assert 'value="3/4/2025"' in refused.text and count(db, Mention) == 0

"""End to end in real Chromium: log in, connect sandbox accounts, schedule a post, see it published.

Each test has its own Megafon server, so xdist can run them side by side. One queues a post for
an hour ahead and then moves its due time to now, instead of waiting for a real minute (in
English); the other changes a queued post to go out now (in Swedish).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from core.clock import STOCKHOLM
from tests.web.browser import (
    LiveMegafon,
    Megafon,
    artifact,
    chromium,
    next_minute_but_one,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def person(megafon: LiveMegafon) -> Iterator[Megafon]:
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        yield Megafon(context.new_page(), megafon)
        context.close()


def connect_both(person: Megafon, tag: str) -> tuple[str, str]:
    from playwright.sync_api import expect

    x_name, fb_name = f"VP Värmland X {tag}", f"VP Värmland Facebook {tag}"
    person.open("/accounts/")
    person.connect_sandbox_account("x", x_name)
    person.connect_sandbox_account("facebook", fb_name)
    expect(person.page.locator("[data-testid=accounts]")).to_contain_text(x_name)
    expect(person.page.locator("[data-testid=accounts]")).to_contain_text(fb_name)
    return x_name, fb_name


def test_a_scheduled_post_goes_out_on_x_and_facebook(person: Megafon, tmp_path: Path):
    from playwright.sync_api import expect

    lang, page, tag = "en", person.page, uuid.uuid4().hex[:6]
    text = f"Rösta för kollektivtrafiken i Värmland! {tag}"

    person.log_in()
    person.switch_language()
    expect(page.locator("nav.mainnav")).to_contain_text("New post")
    expect(page.locator("html")).to_have_attribute("lang", lang)
    x_name, fb_name = connect_both(person, tag)

    person.open("/compose")
    due = next_minute_but_one() + timedelta(hours=1)
    person.queue_post(text, [x_name, fb_name], due)
    upcoming = person.rows("upcoming", text)
    expect(upcoming).to_have_count(2)
    for row in upcoming.all():
        expect(row).to_contain_text(due.strftime("%Y-%m-%d %H:%M"))
        expect(row.locator("[data-state=scheduled]")).to_be_visible()

    assert person.live.its_time_has_come(text) == 2  # the hour has come
    published = person.wait_until_published(
        text, 2, until=datetime.now(STOCKHOLM) + timedelta(seconds=30))
    expect(published).to_have_count(2)
    expect(published.locator(".badge")).to_have_text(["Published", "Published"])
    page.screenshot(path=str(artifact(f"overview-{lang}.png")), full_page=True)

    for row in published.all():
        with page.context.expect_page() as opened:
            row.locator("[data-testid=post-link]").click()
        post_page = opened.value
        post_page.wait_for_load_state()
        assert post_page.url.startswith(person.live.sandbox_url + "/sandbox/")
        expect(post_page.locator("article", has_text=text)).to_be_visible()
        post_page.close()


def test_a_queued_post_changed_to_go_out_now_goes_out_at_once(person: Megafon):
    """In Swedish: queue for later on X and Facebook, then change the words, take Facebook off
    and empty the time: X has the new words within seconds, Facebook nothing."""
    from playwright.sync_api import expect

    page, tag = person.page, uuid.uuid4().hex[:6]
    person.log_in()
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    x_name, fb_name = connect_both(person, tag)
    person.open("/compose")
    person.queue_post(f"Torgmöte kl 12 {tag}", [x_name, fb_name],
                      next_minute_but_one() + timedelta(hours=1))
    expect(person.rows("upcoming", tag)).to_have_count(2)

    person.rows("upcoming", tag).first.get_by_role("link", name="Ändra").click()
    page.wait_for_load_state()
    expect(page.locator("h1")).to_have_text("Ändra inlägg")
    page.fill("#text", f"Torgmöte kl 13 {tag}")
    page.locator("ul.checks label", has_text=fb_name).locator("input").uncheck()
    page.get_by_test_id("when-soon").check()
    page.get_by_role("button", name="Spara ändringarna").click()
    page.wait_for_load_state()
    expect(page.locator(".flash")).to_contain_text("Inlägget är ändrat.")

    published = person.wait_until_published(f"Torgmöte kl 13 {tag}", 1,
                                            until=datetime.now(STOCKHOLM) + timedelta(seconds=30))
    expect(published).to_have_count(1)
    expect(published).to_contain_text(x_name)
    expect(person.rows("upcoming", tag)).to_have_count(0)

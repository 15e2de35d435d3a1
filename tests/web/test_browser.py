"""End to end in real Chromium: log in, connect sandbox accounts, schedule a post, see it published.

Each language is its own test with its own Megafon server, so xdist can run them side by side.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.web.browser import (
    LiveMegafon,
    Megafon,
    chromium,
    live_megafon,
    next_minute_but_one,
    require_chromium,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def megafon(tmp_path: Path, sandbox) -> Iterator[LiveMegafon]:
    require_chromium()
    with live_megafon(tmp_path, sandbox.url) as live:
        yield live


@pytest.fixture
def person(megafon: LiveMegafon) -> Iterator[Megafon]:
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        yield Megafon(context.new_page(), megafon)
        context.close()


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_a_scheduled_post_goes_out_on_x_and_facebook(lang, person: Megafon, tmp_path: Path):
    from playwright.sync_api import expect

    page, tag = person.page, uuid.uuid4().hex[:6]
    x_name, fb_name = f"VP Värmland X {tag}", f"VP Värmland Facebook {tag}"
    text = f"Rösta för kollektivtrafiken i Värmland! {tag}"

    person.log_in()
    if lang == "en":
        person.switch_language()
    expect(page.locator("nav.mainnav")).to_contain_text(
        "New post" if lang == "en" else "Nytt inlägg")
    expect(page.locator("html")).to_have_attribute("lang", lang)
    person.open("/accounts/")
    person.connect_sandbox_account("x", x_name)
    person.connect_sandbox_account("facebook", fb_name)
    expect(page.locator("[data-testid=accounts]")).to_contain_text(x_name)
    expect(page.locator("[data-testid=accounts]")).to_contain_text(fb_name)

    person.open("/compose")
    due = next_minute_but_one()
    person.queue_post(text, [x_name, fb_name], due)
    upcoming = person.rows("upcoming", text)
    expect(upcoming).to_have_count(2)
    for row in upcoming.all():
        expect(row).to_contain_text(due.strftime("%Y-%m-%d %H:%M"))
        expect(row.locator("[data-state=scheduled]")).to_be_visible()

    published = person.wait_until_published(text, 2, until=due + timedelta(seconds=60))
    expect(published).to_have_count(2)
    label = "Published" if lang == "en" else "Publicerad"
    expect(published.locator(".badge")).to_have_text([label, label])
    page.screenshot(path=str(tmp_path / f"overview-{lang}.png"), full_page=True)

    for row in published.all():
        with page.context.expect_page() as opened:
            row.locator("[data-testid=post-link]").click()
        post_page = opened.value
        post_page.wait_for_load_state()
        assert post_page.url.startswith(person.live.sandbox_url + "/sandbox/")
        expect(post_page.locator("article", has_text=text)).to_be_visible()
        post_page.close()

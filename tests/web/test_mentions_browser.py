"""Real Chromium: the mention log filters, triage, respond → composer prefilled.

The mentions are stored through the real ingest path (monitor.mentions.ingest with a matcher
built from parsed queries) into the live server's database; the rest is clicks in the page.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from core.db import Database
from monitor.models import Mention, Triage, Watchlist
from tests.web.browser import LiveMegafon, Megafon, artifact, chromium
from tests.web.mention_seeds import Seeded, seed_mentions

pytestmark = pytest.mark.browser


@pytest.fixture
def live_db(tmp_path: Path, megafon: LiveMegafon) -> Iterator[Database]:
    db = Database(f"sqlite:///{tmp_path / 'megafon.db'}")  # the live server's database
    yield db
    db.dispose()


@pytest.fixture
def person(megafon: LiveMegafon) -> Iterator[Megafon]:
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        yield Megafon(context.new_page(), megafon)
        context.close()


def test_filter_triage_and_respond_from_the_mention_log(person: Megafon, live_db: Database,
                                                        tmp_path: Path):
    from playwright.sync_api import expect

    page = person.page
    person.log_in()  # Swedish, the default
    account = f"VP Värmland X {uuid.uuid4().hex[:6]}"
    person.open("/accounts/")
    person.connect_sandbox_account("x", account)

    seeded: Seeded = seed_mentions(live_db)
    with live_db.session() as session:
        transport = session.get(Watchlist, seeded.transport_id).name
    page.reload()
    expect(page.locator("[data-testid=mention-badge]")).to_have_text(str(len(seeded.mentions)))

    person.open("/mentions")
    mentions = page.locator("[data-testid=mentions] > li")
    expect(mentions).to_have_count(len(seeded.mentions))
    expect(page.locator("[data-testid=mention-badge]")).to_have_count(0)  # seen now
    expect(page.locator("mark.hit").first).to_be_visible()
    page.screenshot(path=str(artifact("mention-log.png")), full_page=True)

    # Filter by issue: the care story drops out.
    page.select_option("select[name=watchlist]", label=transport)
    page.click("[data-testid=apply-filters]")
    expect(mentions).to_have_count(4)
    expect(page.locator(f"li[data-mention='{seeded.mentions['clinic']}']")).to_have_count(0)

    # Mark the hockey trip not relevant; the list keeps its filter.
    hockey = page.locator(f"li[data-mention='{seeded.mentions['hockey-final']}']")
    hockey.locator("[data-testid=mark-not-relevant]").click()
    page.wait_for_load_state()
    expect(page.locator("select[name=watchlist] option:checked")).to_have_text(transport)
    expect(hockey).to_have_attribute("data-triage", "not_relevant")
    expect(hockey.locator(".badge.triage")).to_have_text("Inte relevant")
    with live_db.session() as session:
        assert session.get(Mention, seeded.mentions["hockey-final"]).triage is \
            Triage.NOT_RELEVANT

    # And by party: only the story where Vänsterpartiet speaks about the bus lines is left.
    page.select_option("select[name=party]", "V")
    page.click("[data-testid=apply-filters]")
    expect(mentions).to_have_count(1)
    lines = page.locator(f"li[data-mention='{seeded.mentions['lines']}']")
    expect(lines).to_be_visible()
    expect(lines.locator("[data-testid=party-chip]", has_text="V")).to_be_visible()

    # Respond: the composer opens with the link and a quote from the story.
    lines.locator("[data-testid=respond]").click()
    page.wait_for_url("**/compose?mention=*")
    expect(page.locator("#link")).to_have_value(seeded.url_of("lines"))
    quote = page.locator("#text").input_value()
    assert quote.startswith("“") and "busslinjer" in quote and "(NWT)" in quote, quote
    expect(page.locator("[data-testid=answering]")).to_contain_text("Tre busslinjer")

    page.locator("#text").press("End")
    page.locator("#text").type("Vi säger nej till indragna busslinjer!")
    page.locator("ul.checks label", has_text=account).locator("input").check()
    page.click("form.compose button[type=submit]")
    page.wait_for_load_state()
    expect(page.locator(".flash-success")).to_be_visible()

    with live_db.session() as session:
        found = session.get(Mention, seeded.mentions["lines"])
        assert found.response_post_id is not None and found.triage is Triage.RELEVANT
        assert session.scalar(select(Mention.id).where(Mention.response_post_id.is_not(None))
                              ) == found.id
    page.goto(f"{person.live.url}/mentions/{seeded.mentions['lines']}")
    expect(page.locator("[data-testid=response]")).to_contain_text("Vi säger nej")

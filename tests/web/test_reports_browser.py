"""Real Chromium: a board member lands on the report, changes the period, clicks an issue through
to the mention log, and reads the report in English. Screenshots: tests/artifacts/report-*.png.

The mentions are stored through the real ingest path (tests/web/mention_seeds.py) into the live
server's database; the period is the seven Stockholm days up to today, so the stories (published
today and the four days before) are in it whatever the date.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from core.auth import create_user
from core.clock import STOCKHOLM
from core.db import Database
from core.users import Role
from tests.web.browser import (
    PASSWORD,
    LiveMegafon,
    Megafon,
    artifact,
    chromium,
)
from tests.web.mention_seeds import seed_mentions

pytestmark = pytest.mark.browser


def test_a_board_member_reads_the_report_and_follows_an_issue_to_the_log(
        megafon: LiveMegafon, tmp_path: Path):
    from playwright.sync_api import expect

    db = Database(megafon.database_url)
    seeded = seed_mentions(db)
    with db.session() as session:
        create_user(session, email="styrelsen@example.org", name="Stina Styrelse",
                    password=PASSWORD, role=Role.BOARD)
        author = create_user(session, email="komms@example.org", name="Kim Komms",
                             password=PASSWORD, role=Role.COMMS)
    db.dispose()
    said = publish_with_figures(megafon, author, "Kollektivtrafiken i Värmland måste gå oftare!",
                                likes=31, reposts=4, impressions=700)
    today = datetime.now(STOCKHOLM).date()
    first = today - timedelta(days=6)

    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        person = Megafon(context.new_page(), megafon)
        page = person.page
        page.goto(megafon.url + "/")
        page.fill("#email", "styrelsen@example.org")
        page.fill("#password", PASSWORD)
        page.click("form button[type=submit].primary")
        page.wait_for_url("**/reports")  # the board's landing page is the report
        expect(page.locator("h1")).to_contain_text("Synlighet i media")

        page.fill("input[name=from]", first.isoformat())
        page.fill("input[name=to]", today.isoformat())
        page.click("[data-testid=show-period]")
        page.wait_for_load_state()
        expect(page.locator("[data-testid=report-period]")).to_have_text(
            f"{first.isoformat()} – {today.isoformat()}")
        expect(page.locator("[data-testid=total]")).to_have_text(str(len(seeded.mentions)))
        for chart in ("over-time", "issues", "voice", "voice-over-time", "said", "tone"):
            image = page.locator(f"[data-testid=chart-{chart}]")
            expect(image).to_be_visible()
            assert image.get_attribute("alt"), chart
            assert image.evaluate("img => img.naturalWidth") > 0, chart  # the SVG drew
        # What we said: the published post beside the coverage, under its issue.
        section = page.locator("[data-testid=said]")
        expect(section.locator("[data-testid=publications]")).to_have_text("1")
        expect(section.locator("[data-testid=engagement]")).to_have_text("35")
        expect(section.locator("[data-testid=reach]")).to_have_text("700")
        expect(section.locator(f"tr[data-said-issue='{seeded.transport_id}'] "
                               "[data-testid=issue-publications]")).to_have_text("1")
        expect(section.locator(f"[data-testid=top-posts] li[data-delivery='{said}']")
               ).to_contain_text("Kollektivtrafiken i Värmland")
        assert section.locator("[data-testid=chart-said]").evaluate(
            "img => img.naturalWidth") > 0
        page.screenshot(path=str(artifact("report-sv.png")), full_page=True)

        # The transport issue: four of the five stories; its link opens the log filtered.
        row = page.locator(f"[data-testid=issues] tr[data-issue='{seeded.transport_id}']")
        expect(row.locator("td.num").first).to_have_text("4")
        row.locator("a").first.click()
        page.wait_for_url("**/mentions?*")
        expect(page.locator("[data-testid=mentions] > li")).to_have_count(4)
        expect(page.locator("input[name=date_from]")).to_have_value(first.isoformat())

        page.go_back()
        page.wait_for_load_state()
        person.switch_language()
        expect(page.locator("h1")).to_contain_text("Media visibility")
        expect(page.locator("[data-testid=voice] h2")).to_contain_text("Share of voice")
        page.screenshot(path=str(artifact("report-en.png")), full_page=True)
        context.close()


def publish_with_figures(megafon: LiveMegafon, author: object, text: str, **figures: int
                         ) -> int:
    """A post published on an X account through the live server's own services (the real
    dispatcher and clients against the sandbox), its numbers fetched, and filed under its
    issues, as the scheduler's jobs would; the delivery's id."""
    import requests

    from core.clock import utcnow
    from publisher.dispatch import Dispatcher
    from publisher.metrics import collect_due_metrics
    from publisher.models import Platform
    from reports.post_issues import classify_due
    from tests.conftest import connect_sandbox_account
    from tests.factories import deliveries, queue_post

    services = megafon.services
    account, _ = connect_sandbox_account(services, Platform.X, name="Vänsterpartiet Värmland")
    queue_post(services.db, author, [account], text=text)
    Dispatcher(services.db, services.platforms, services.box, "test").run_once()
    [delivery] = [d for d in deliveries(services.db) if d.post.text == text]
    requests.post(f"{megafon.sandbox_url}/sandbox/api/posts/{delivery.external_id}/metrics",
                  json=figures, timeout=10).raise_for_status()
    collect_due_metrics(services.db, services.box, services.platforms,
                        now=utcnow() + timedelta(minutes=16))
    with services.db.session() as session:
        classify_due(session)
    return delivery.id

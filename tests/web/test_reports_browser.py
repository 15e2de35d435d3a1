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
    db.dispose()
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
        for chart in ("over-time", "issues", "voice"):
            image = page.locator(f"[data-testid=chart-{chart}]")
            expect(image).to_be_visible()
            assert image.get_attribute("alt"), chart
            assert image.evaluate("img => img.naturalWidth") > 0, chart  # the SVG drew
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

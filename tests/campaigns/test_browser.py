"""Real Chromium: a campaign lead creates a campaign, rolls it out to the district's accounts
and follows the coverage matrix until one of the posts is out. Screenshot:
tests/artifacts/campaign-matrix.png."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from core.auth import create_user
from core.clock import STOCKHOLM
from core.db import Database
from core.users import Role
from publisher.models import Platform
from tests.conftest import connect_sandbox_account
from tests.web.browser import PASSWORD, LiveMegafon, artifact, chromium, next_minute_but_one

pytestmark = pytest.mark.browser

FACEBOOK_TEXT = "Välfärd före vinster – i hela Värmland. Skriv under uppropet!"


def test_a_campaign_lead_creates_rolls_out_and_sees_the_matrix(megafon: LiveMegafon):
    from playwright.sync_api import expect

    assert megafon.services is not None
    for platform, name in ((Platform.X, "Distriktet på X"), (Platform.FACEBOOK, "Distriktet FB"),
                           (Platform.FACEBOOK, "Kampanjsidan")):
        connect_sandbox_account(megafon.services, platform, name=f"{name} {datetime.now():%S%f}")
    db = Database(megafon.database_url)
    with db.session() as session:
        create_user(session, email="kampanj@example.org", name="Kim Kampanjledare",
                    password=PASSWORD, role=Role.CAMPAIGN_LEAD)
    db.dispose()
    now = datetime.now(STOCKHOLM)
    deadline = now + timedelta(days=5)
    start = next_minute_but_one(now) + timedelta(minutes=30)
    end = start + timedelta(hours=1)

    with chromium() as browser:
        page = browser.new_context(viewport={"width": 1280, "height": 1400}).new_page()
        page.goto(megafon.url + "/")
        page.fill("#email", "kampanj@example.org")
        page.fill("#password", PASSWORD)
        page.click("form button[type=submit].primary")
        page.click("[data-testid=nav-campaigns]")
        expect(page.locator("h1")).to_have_text("Kampanjer")
        page.click("[data-testid=new-campaign]")
        page.fill("#name", "Välfärd före vinster")
        page.fill("#description", "Den centrala kampanjen, i hela länet.")
        page.fill("#starts_on", f"{now:%Y-%m-%d}")
        page.fill("#ends_on", f"{deadline:%Y-%m-%d}")
        page.fill("#deadline_date", f"{deadline:%Y-%m-%d}")
        page.fill("#deadline_time", "18:00")
        page.fill("#text_x", "Välfärd före vinster! Skriv under uppropet.")
        page.fill("#text_facebook", FACEBOOK_TEXT)
        page.fill("#hashtags", "#vpol #välfärd")
        page.fill("#link", "https://example.org/upprop")
        page.click("[data-testid=save-campaign]")
        expect(page.locator("[data-testid=preview-x]")).to_contain_text(
            "utm_source=x&utm_medium=social&utm_campaign=valfard-fore-vinster")
        rows = "[data-testid=coverage] tbody tr"
        expect(page.locator(f"{rows}[data-cell=not_asked]")).to_have_count(3)

        page.fill("#start_date", f"{start:%Y-%m-%d}")
        page.fill("#start_time", f"{start:%H:%M}")
        page.fill("#end_date", f"{end:%Y-%m-%d}")
        page.fill("#end_time", f"{end:%H:%M}")
        page.click("[data-testid=rollout]")
        expect(page.locator(".flash-success")).to_contain_text("3 inlägg ligger i kön")
        expect(page.locator(f"{rows}[data-cell=planned]")).to_have_count(3)

        # The Page posts' time comes now: the live scheduler publishes them to the sandbox.
        assert megafon.its_time_has_come(FACEBOOK_TEXT + "\n\n#vpol #välfärd") == 2
        published = page.locator(f"{rows}[data-cell=published]")
        for _ in range(30):
            if published.count() == 2:
                break
            page.wait_for_timeout(1000)
            page.reload()
        expect(published).to_have_count(2)
        expect(published.first).to_contain_text("Se det")
        expect(page.locator("[data-testid=coverage-summary]")).to_contain_text("Planerad: 1")
        page.screenshot(path=str(artifact("campaign-matrix.png")), full_page=True)

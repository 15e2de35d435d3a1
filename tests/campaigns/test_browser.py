"""Real Chromium: a campaign lead creates a campaign, rolls it out to the district's accounts
and asks two associations; one association's writer queues the prefilled post from the notice,
the other declines with a reason; the lead follows the coverage matrix until the district's Page
posts are out and sees both answers. Screenshots: tests/artifacts/campaign-matrix.png and
campaign-ask.png."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import uuid4

import pytest

from core.auth import create_user
from core.clock import STOCKHOLM
from core.db import Database
from core.users import Organisation, OrganisationKind, Role
from publisher.models import Platform
from tests.conftest import connect_sandbox_account
from tests.web.browser import PASSWORD, LiveMegafon, artifact, chromium, next_minute_but_one

pytestmark = pytest.mark.browser

def log_in(browser, megafon: LiveMegafon, email: str):
    page = browser.new_context(viewport={"width": 1280, "height": 1400}).new_page()
    page.goto(megafon.url + "/")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("form button[type=submit].primary")
    page.wait_for_selector("nav.mainnav")
    return page


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
        kil = Organisation(name="Vänsterpartiet Kil", kind=OrganisationKind.ASSOCIATION)
        arvika = Organisation(name="Vänsterpartiet Arvika", kind=OrganisationKind.ASSOCIATION)
        session.add_all([kil, arvika])
        session.flush()
        create_user(session, email="kil@example.org", name="Kajsa i Kil", password=PASSWORD,
                    role=Role.COMMS, organisation=kil)
        create_user(session, email="arvika@example.org", name="Arne i Arvika",
                    password=PASSWORD, role=Role.COMMS, organisation=arvika)
    db.dispose()
    connect_sandbox_account(megafon.services, Platform.X, kil, name=f"Kil på X {uuid4().hex[:6]}")
    connect_sandbox_account(megafon.services, Platform.FACEBOOK, arvika,
                            name=f"Arvika FB {uuid4().hex[:6]}")
    now = datetime.now(STOCKHOLM)
    deadline = now + timedelta(days=5)
    start = next_minute_but_one(now) + timedelta(minutes=30)
    end = start + timedelta(hours=1)

    with chromium() as browser:
        page = log_in(browser, megafon, "kampanj@example.org")
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

        page.locator("[data-testid=ask-form]").get_by_label("Vänsterpartiet Kil").check()
        page.locator("[data-testid=ask-form]").get_by_label("Vänsterpartiet Arvika").check()
        page.click("[data-testid=ask]")
        expect(page.locator(".flash-success")).to_contain_text("2 föreningar är tillfrågade")
        expect(page.locator(f"{rows}[data-cell=asked]")).to_have_count(2)

        kil_page = log_in(browser, megafon, "kil@example.org")
        kil_page.goto(megafon.url + "/notifications")
        kil_page.click("[data-kind=campaign_ask] h2 button")
        # The notice opens the composer, prefilled for Kil's accounts.
        expect(kil_page.get_by_test_id("ask-banner")).to_contain_text("Välfärd före vinster")
        text = kil_page.locator("#text")
        expect(text).to_have_value("Välfärd före vinster! Skriv under uppropet.\n\n"
                                   "#vpol #välfärd")
        text.fill("Kil är med: välfärd före vinster! Skriv under uppropet.\n\n#vpol")
        kil_page.check("[data-testid=when-at]")
        kil_page.fill("#scheduled_date", f"{start:%Y-%m-%d}")
        kil_page.fill("#scheduled_time", f"{start:%H:%M}")
        kil_page.screenshot(path=str(artifact("campaign-ask.png")), full_page=True)
        kil_page.click("form.compose button[type=submit].primary")
        expect(kil_page.locator(".flash-success")).to_contain_text("1 konto")

        arvika_page = log_in(browser, megafon, "arvika@example.org")
        arvika_page.goto(megafon.url + "/notifications")
        arvika_page.click("[data-kind=campaign_ask] h2 button")
        arvika_page.click("[data-testid=ask-banner] a[href^='/campaigns/asks/']")
        expect(arvika_page.locator("h1")).to_contain_text(
            "Vill Vänsterpartiet Arvika bära kampanjen")
        arvika_page.fill("#reason", "Vi har årsmöte den veckan.")
        arvika_page.click("[data-testid=decline]")
        expect(arvika_page.locator("[data-testid=declined]")).to_contain_text("årsmöte")
        page.reload()
        expect(page.locator(f"{rows}[data-cell=planned]")).to_have_count(4)
        expect(page.locator(f"{rows}[data-cell=declined]")).to_contain_text("årsmöte")

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
        expect(page.locator("[data-testid=coverage-summary]")).to_contain_text("Planerad: 2")
        page.screenshot(path=str(artifact("campaign-matrix.png")), full_page=True)

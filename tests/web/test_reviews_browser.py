"""Approval in real Chromium, in Swedish: the admin makes an account need approval, a comms
writer's composer says "Skicka för granskning", the admin finds the post under Granskning,
approves it, and the post page shows it published with its history and review thread."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from core.auth import create_user
from core.clock import STOCKHOLM, utcnow
from core.users import Role
from publisher.models import Delivery, Post
from tests.conftest import PASSWORD
from tests.web.browser import LiveMegafon, Megafon, artifact, chromium

pytestmark = pytest.mark.browser


@pytest.fixture
def browser(megafon: LiveMegafon) -> Iterator[object]:
    with chromium() as browser:
        yield browser


def test_a_post_is_sent_for_approval_approved_and_published(megafon: LiveMegafon, browser):
    from playwright.sync_api import expect

    tag = uuid.uuid4().hex[:6]
    account, text = f"VP Värmland X {tag}", f"Stormöte om kollektivtrafiken {tag}"
    writer_email = f"skribent-{tag}@example.org"
    assert megafon.services is not None
    with megafon.services.db.session() as session:
        create_user(session, email=writer_email, name="Sara Skribent", password=PASSWORD,
                    role=Role.COMMS)

    admin_context = browser.new_context(viewport={"width": 1280, "height": 900})
    admin = Megafon(admin_context.new_page(), megafon)
    admin.log_in()
    admin.open("/accounts/")
    admin.connect_sandbox_account("x", account)
    rules = admin.page.get_by_test_id("approval-rules")
    rules.locator("label", has_text=account).locator("input").check()
    rules.get_by_role("button", name="Spara").click()
    admin.page.wait_for_load_state()
    expect(admin.page.locator(".flash")).to_contain_text("Vilka inlägg som behöver godkännas")
    expect(admin.page.get_by_test_id("needs-approval")).to_have_text("Kräver godkännande")

    writer_context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = writer_context.new_page()
    page.goto(megafon.url + "/")
    page.fill("#email", writer_email)
    page.fill("#password", PASSWORD)
    page.click("form button[type=submit].primary")
    page.wait_for_selector("nav.mainnav")
    page.click("nav.mainnav a[href='/compose']")
    page.wait_for_load_state()
    submit = page.get_by_test_id("submit-post")
    expect(submit).to_have_text("Lägg i kö")
    page.fill("#text", text)
    page.locator("ul.checks label", has_text=account).locator("input").check()
    expect(submit).to_have_text("Skicka för granskning")
    submit.click()
    page.wait_for_load_state()
    writer_context.close()
    with megafon.services.db.session() as session:  # the reviewer comes ten minutes later
        past = utcnow() - timedelta(minutes=10)
        post_id = session.scalar(select(Post.id).where(Post.text == text))
        session.execute(update(Post).where(Post.id == post_id).values(scheduled_at=past))
        session.execute(update(Delivery).where(Delivery.post_id == post_id)
                        .values(due_at=past, next_attempt_at=past))

    admin.page.goto(megafon.url + "/")
    nav = admin.page.get_by_test_id("nav-reviews")
    expect(nav).to_contain_text("Granskning")
    expect(admin.page.get_by_test_id("review-badge")).to_have_text("1")
    admin.open("/reviews")
    row = admin.page.locator("[data-testid=reviews] tbody tr", has_text=text)
    expect(row).to_contain_text("Sara Skribent")
    admin.page.screenshot(path=str(artifact("reviews-sv.png")), full_page=True)
    row.get_by_test_id("review-post").click()
    admin.page.wait_for_load_state()
    expect(admin.page.get_by_test_id("review-thread")).to_contain_text(
        "Sara Skribent skickade det för granskning")
    form = admin.page.get_by_test_id("approve-form")
    form.locator("textarea").fill("Bra, kör!")
    expect(admin.page.get_by_test_id("time-passed")).to_be_visible()
    form.get_by_test_id("approve").click()  # as it stands: a new time is asked for
    admin.page.wait_for_load_state()
    expect(admin.page.locator("#scheduled_at .field-error")).to_contain_text("Ge det en ny tid")
    form.locator("textarea").fill("Bra, kör!")
    form.get_by_test_id("when-soon").check()
    form.get_by_test_id("approve").click()
    admin.page.wait_for_load_state()
    expect(admin.page.locator(".flash")).to_contain_text("Inlägget är godkänt och köat.")
    expect(admin.page.get_by_test_id("review-badge")).to_have_count(0)

    until = datetime.now(STOCKHOLM) + timedelta(seconds=30)
    link = admin.page.get_by_test_id("post-link")
    while link.count() == 0 and datetime.now(STOCKHOLM) < until:
        admin.page.wait_for_timeout(1000)
        admin.page.reload()
    expect(link).to_have_count(1)
    expect(admin.page.locator("article.delivery .badge")).to_have_text("Publicerad")
    admin.page.locator("article.delivery details summary").click()
    history = admin.page.locator("article.delivery ol.history")
    expect(history).to_contain_text("skickat för granskning av Sara Skribent")
    expect(history).to_contain_text("godkänt av Alva Admin")
    expect(admin.page.get_by_test_id("review-thread")).to_contain_text("Bra, kör!")
    admin.page.screenshot(path=str(artifact("post-page-sv.png")), full_page=True)
    admin_context.close()

"""The composer as a comms officer uses it: other words per network, live previews that look like
an X post and a Facebook post while typing, and the accounts grouped by organisation. Real
Chromium against a live Megafon; what is queued is read back from its database."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from core.db import Database
from publisher.models import Platform, Post
from tests.media_images import picture
from tests.web.browser import LiveMegafon, Megafon, artifact, chromium, next_minute_but_one


@pytest.mark.browser
def test_previews_follow_the_typing_and_each_network_gets_its_words(
        megafon: LiveMegafon, tmp_path: Path):
    suffix = tmp_path.name[-6:]
    x_name, page_name = f"Förhands-X {suffix}", f"Förhandssidan {suffix}"
    image = tmp_path / "torget.png"
    image.write_bytes(picture("PNG", (160, 90)))
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 1000})
        person = Megafon(context.new_page(), megafon)
        page = person.page
        person.log_in()
        person.open("/accounts/")
        person.connect_sandbox_account("x", x_name)
        person.connect_sandbox_account("facebook", page_name)
        person.open("/compose")

        # Accounts come under their organisation's name.
        group = page.get_by_test_id("account-group").filter(has_text=x_name)
        expect(group.locator(".group-name")).not_to_be_empty()

        previews = page.get_by_test_id("previews")
        expect(previews.get_by_test_id("preview-x")).to_be_hidden()
        page.locator("label", has_text=x_name).locator("input").check()
        page.locator("label", has_text=page_name).locator("input").check()
        text = f"Kom till torget i Karlstad på lördag #välfärd {suffix}"
        page.fill("#text", text)
        page.fill("#link", "https://www.vansterpartiet.se/varmland")
        tweet = previews.get_by_test_id("preview-tweet").first
        expect(tweet).to_contain_text(text)
        expect(tweet).to_contain_text("https://www.vansterpartiet.se/varmland")
        expect(tweet.locator(".pv-entity", has_text="#välfärd")).to_be_visible()
        expect(tweet).to_contain_text(x_name)
        facebook = previews.get_by_test_id("preview-facebook")
        expect(facebook).to_contain_text(text)
        expect(facebook.locator(".pv-link-host")).to_have_text("vansterpartiet.se")

        # Other words for X: the X preview and the counter follow them; the Page keeps the text.
        page.get_by_test_id("variants").locator("summary").click()
        own = f"Lördag: torget i Karlstad #välfärd {suffix}"
        page.fill("#text_x", own)
        expect(tweet).to_contain_text(own)
        expect(facebook).to_contain_text(text)
        expect(page.get_by_test_id("x-count")).to_contain_text("X, egen text")

        # A thread part is a second tweet; a first comment shows under the Page's post.
        page.fill("#thread-0", f"Mer om välfärden {suffix}")
        expect(previews.get_by_test_id("preview-tweet")).to_have_count(2)
        page.fill("#first_comment", "Anmäl dig på hemsidan")
        expect(facebook.get_by_test_id("preview-comment")).to_contain_text("Anmäl dig på hemsidan")

        # A picture without a description is marked in the preview, before anything is queued.
        page.set_input_files(".image-file >> nth=0", str(image))
        expect(facebook.locator(".pv-no-alt")).to_be_visible()
        expect(page.get_by_test_id("alt-missing").first).to_be_visible()
        page.fill(".image-slot .alt-text >> nth=0", "Torget i Karlstad en lördag")
        expect(facebook.locator(".pv-no-alt")).to_have_count(0)
        expect(page.get_by_test_id("alt-missing").first).to_be_hidden()
        page.screenshot(path=artifact("compose-previews.png"), full_page=True)

        at = next_minute_but_one()
        page.fill("#scheduled_date", at.strftime("%Y-%m-%d"))
        page.fill("#scheduled_time", at.strftime("%H:%M"))
        page.click("form.compose button[type=submit].primary")
        page.wait_for_load_state()
        expect(page.locator(".flash.success, .flash-success, [role=status]").first).to_be_visible()
        context.close()

    database = Database(megafon.database_url)
    try:
        with database.session() as session:
            post = session.scalars(select(Post).where(Post.text == text)).one()
            assert post.text_for(Platform.X) == own
            assert post.text_for(Platform.FACEBOOK) == text
            assert [m.alt_text for m in post.media] == ["Torget i Karlstad en lördag"]
    finally:
        database.dispose()

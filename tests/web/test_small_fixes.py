"""Small things a comms officer ran into: the tab's icon, and cancelling that asks first."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tests.web.browser import LiveMegafon, Megafon, artifact, chromium, next_minute_but_one


def test_the_favicon_is_there_for_every_page(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml" and b"<svg" in response.data
    assert 'rel="icon"' in client.get("/login").text


@pytest.mark.browser
def test_cancelling_a_publication_asks_first(megafon: LiveMegafon, tmp_path: Path):
    from playwright.sync_api import expect

    tag = tmp_path.name[-6:]
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        person = Megafon(context.new_page(), megafon)
        page = person.page
        person.log_in()
        person.switch_language()  # English
        person.open("/accounts/")
        person.connect_sandbox_account("x", f"Avbryt {tag}")
        person.open("/compose")
        person.queue_post(f"Kanske inte {tag}", [f"Avbryt {tag}"],
                          next_minute_but_one() + timedelta(hours=2))
        person.rows("upcoming", tag).get_by_role("link", name="Details").click()
        page.wait_for_load_state()

        confirm = page.get_by_test_id("confirm-cancel")
        expect(confirm).to_be_hidden()
        page.get_by_test_id("cancel-delivery").locator("summary").click()
        expect(confirm).to_be_visible()  # asked, nothing cancelled yet
        expect(page.get_by_test_id("cancel-delivery")).to_contain_text(
            f"The post will not go out on Avbryt {tag}")
        page.screenshot(path=artifact("delivery-cancel-asks.png"), full_page=True)
        expect(page.locator("h1 [data-state]")).to_have_attribute("data-state", "scheduled")
        confirm.click()
        page.wait_for_load_state()
        expect(page.locator("h1 [data-state]")).to_have_attribute("data-state", "cancelled")
        context.close()

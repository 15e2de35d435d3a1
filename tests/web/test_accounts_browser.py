"""In real Chromium: no page breaks the Content-Security-Policy (no inline script or style was left
behind, the composer's blob: picture preview loads), and the admin's user pages and the password
form look right (screenshots in tests/artifacts/).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.media_images import picture
from tests.web.browser import LiveMegafon, Megafon, artifact, chromium

pytestmark = pytest.mark.browser

PAGES = ("/", "/compose", "/accounts", "/reports", "/mentions", "/notifications", "/sources",
         "/watchlists", "/people", "/admin/users", "/admin/report-mail", "/password")


def test_no_page_breaks_the_content_security_policy(megafon: LiveMegafon, tmp_path: Path):
    from playwright.sync_api import expect

    assert megafon.services is not None
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        violations: list[str] = []
        page.on("console", lambda message: violations.append(message.text)
                if "Content Security Policy" in message.text else None)
        person = Megafon(page, megafon)
        person.log_in()
        page.goto(megafon.url + "/accounts/")
        person.connect_sandbox_account("x", f"CSP {tmp_path.name[-6:]}")  # so compose has a form
        for path in PAGES:
            page.goto(megafon.url + path)
            page.wait_for_load_state("networkidle")
        image = tmp_path / "torget.png"
        image.write_bytes(picture("PNG", (300, 200)))
        page.goto(megafon.url + "/compose")
        page.set_input_files("#images-0-file", str(image))  # previewed through a blob: URL
        preview = page.locator("#preview-1")
        expect(preview).to_have_attribute("src", re.compile("^blob:"))
        expect(preview).to_have_js_property("complete", True)
        assert preview.evaluate("image => image.naturalWidth") == 300  # not refused
        page.goto(megafon.url + "/admin/users")
        page.screenshot(path=str(artifact("admin-users.png")), full_page=True)
        page.locator("[data-testid=user-row] a").first.click()
        page.wait_for_load_state()
        page.screenshot(path=str(artifact("admin-user-edit.png")), full_page=True)
        page.goto(megafon.url + "/password")
        page.screenshot(path=str(artifact("change-password.png")), full_page=True)
        context.close()
    assert violations == []



"""In real Chromium: no page breaks the Content-Security-Policy (no inline script or style was left
behind), and the admin edits a user on a page a person can read (screenshots in tests/artifacts/).
"""

from __future__ import annotations

import pytest

from tests.web.browser import LiveMegafon, Megafon, artifact, chromium

pytestmark = pytest.mark.browser

PAGES = ("/", "/compose", "/accounts", "/reports", "/mentions", "/notifications", "/sources",
         "/watchlists", "/people", "/admin/users", "/admin/report-mail", "/password")


def test_no_page_breaks_the_content_security_policy(megafon: LiveMegafon):
    assert megafon.services is not None
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        violations: list[str] = []
        page.on("console", lambda message: violations.append(message.text)
                if "Content Security Policy" in message.text else None)
        person = Megafon(page, megafon)
        person.log_in()
        for path in PAGES:
            page.goto(megafon.url + path)
            page.wait_for_load_state("networkidle")
        page.goto(megafon.url + "/admin/users")
        page.screenshot(path=str(artifact("admin-users.png")), full_page=True)
        page.locator("[data-testid=user-row] a").first.click()
        page.wait_for_load_state()
        page.screenshot(path=str(artifact("admin-user-edit.png")), full_page=True)
        page.goto(megafon.url + "/password")
        page.screenshot(path=str(artifact("change-password.png")), full_page=True)
        context.close()
    assert violations == []



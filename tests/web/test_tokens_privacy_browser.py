"""Real Chromium: an administrator makes an API token on its page, a script uses it over HTTP,
the token is revoked and stops; the personal-data page finds a person. Screenshots:
tests/artifacts/tokens.png, tests/artifacts/privacy.png."""

from __future__ import annotations

import pytest
import requests

from tests.web.browser import LiveMegafon, Megafon, artifact, chromium

pytestmark = pytest.mark.browser


def test_an_admin_makes_a_token_a_script_uses_it_and_revoking_stops_it(megafon: LiveMegafon):
    from playwright.sync_api import expect

    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        person = Megafon(context.new_page(), megafon)
        page = person.page
        person.log_in()
        page.click("[data-testid=nav-tokens]")
        page.fill("input[name=name]", "Kalkylark")
        page.select_option("select[name=scope]", "read")
        page.click("[data-testid=token-form] button[type=submit]")
        secret = page.locator("[data-testid=token-secret]").inner_text().strip()
        assert secret.startswith("mgf_")
        page.screenshot(path=str(artifact("tokens.png")), full_page=True)

        headers = {"Authorization": f"Bearer {secret}"}
        answer = requests.get(f"{megafon.url}/api/v1/posts", headers=headers, timeout=10)
        assert answer.status_code == 200 and answer.headers["RateLimit-Limit"] == "120"
        refused = requests.post(f"{megafon.url}/api/v1/posts", headers=headers, timeout=10,
                                json={"text": "Nej", "account_ids": [1]})
        assert refused.status_code == 403  # a read token

        page.goto(f"{megafon.url}/tokens")  # coming back: the secret is not shown again
        expect(page.locator("[data-testid=token-secret]")).to_have_count(0)
        expect(page.locator("[data-testid=tokens] tbody tr")).to_have_count(1)
        page.click("[data-testid=tokens] [data-testid=revoke]")
        page.wait_for_load_state()
        assert requests.get(f"{megafon.url}/api/v1/posts", headers=headers,
                            timeout=10).status_code == 401

        page.goto(f"{megafon.url}/admin/privacy")
        page.fill("[data-testid=privacy-search] input[name=subject]", "@kalle_k")
        page.click("[data-testid=privacy-search] button[type=submit]")
        expect(page.locator("[data-testid=privacy-nothing]")).to_contain_text("@kalle_k")
        expect(page.locator("[data-testid=privacy-log] tbody tr")).to_have_count(1)
        page.screenshot(path=str(artifact("privacy.png")), full_page=True)
        context.close()

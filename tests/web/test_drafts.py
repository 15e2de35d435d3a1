"""Drafts in the composer (issue 17, point 1): saved at any moment, autosaved while typing,
listed and resumed; a closed tab or a lost connection loses nothing typed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.db import Database
from core.users import Role
from publisher.drafts import Draft
from publisher.models import Platform, Post
from tests.web.browser import LiveMegafon, Megafon, artifact, chromium
from tests.web.conftest import csrf_token


def drafts(db) -> list[Draft]:
    with db.session() as session:
        found = list(session.scalars(select(Draft).order_by(Draft.id)))
        session.expunge_all()
        return found


def test_save_as_draft_keeps_what_was_typed_without_checking_it(db, logged_in, make_account):
    account, _ = make_account(Platform.X)
    client, _ = logged_in(Role.COMMS)
    token = csrf_token(client, "/compose")
    response = client.post("/compose", data={
        "csrf_token": token, "action": "draft", "text": "Bussarna ska", "accounts": [account.id],
        "when": "at", "scheduled_date": "2027-13-01", "scheduled_time": "25:00"})
    [draft] = drafts(db)
    assert response.status_code == 302 and response.location.endswith(f"/compose?draft={draft.id}")
    assert draft.fields["scheduled_date"] == "2027-13-01"  # a date still being typed is kept
    page = client.get(f"/compose?draft={draft.id}").text
    assert "\nBussarna ska</textarea>" in page
    assert 'value="2027-13-01"' in page and 'value="25:00"' in page
    assert f'name="draft_id" value="{draft.id}"' in page
    assert re.search(rf'value="{account.id}" data-platform="x"[^>]* checked', page)
    listing = client.get("/drafts").text
    assert "Bussarna ska" in listing and f"/compose?draft={draft.id}" in listing


def test_queueing_a_draft_makes_the_post_and_the_draft_is_gone(db, logged_in, make_account):
    account, _ = make_account(Platform.X)
    client, _ = logged_in(Role.COMMS)
    token = csrf_token(client, "/compose")
    client.post("/compose", data={"csrf_token": token, "action": "draft",
                                  "text": "Nästan klart", "accounts": [account.id]})
    [draft] = drafts(db)
    response = client.post("/compose", data={
        "csrf_token": token, "draft_id": draft.id, "text": "Nu klart om bussarna",
        "accounts": [account.id], "when": "soon"})
    assert response.status_code == 302
    assert drafts(db) == []
    with db.session() as session:
        assert session.scalar(select(Post.text)) == "Nu klart om bussarna"


def test_a_refused_post_keeps_its_draft(db, logged_in, make_account):
    client, _ = logged_in(Role.COMMS)
    token = csrf_token(client, "/compose")
    client.post("/compose", data={"csrf_token": token, "action": "draft", "text": "Utkast"})
    [draft] = drafts(db)
    response = client.post("/compose", data={"csrf_token": token, "draft_id": draft.id,
                                             "text": "Inget konto valt", "when": "soon"})
    assert response.status_code == 400
    assert [d.id for d in drafts(db)] == [draft.id]


def test_another_writers_draft_cannot_be_opened_changed_or_deleted(db, logged_in):
    anna, _ = logged_in(Role.COMMS)
    token = csrf_token(anna, "/compose")
    anna.post("/compose", data={"csrf_token": token, "action": "draft", "text": "Annas"})
    [draft] = drafts(db)
    bo, _ = logged_in(Role.ADMIN)
    bo_token = csrf_token(bo, "/compose")
    assert bo.get(f"/compose?draft={draft.id}").status_code == 404
    assert bo.post("/drafts/autosave", data={"csrf_token": bo_token, "draft_id": draft.id,
                                             "text": "Kapat"}).status_code == 404
    bo.post(f"/drafts/{draft.id}/delete", data={"csrf_token": bo_token})
    assert "Annas" not in bo.get("/drafts").text
    assert [d.fields["text"] for d in drafts(db)] == ["Annas"]
    for odd in ("abc", "9" * 40, "-1"):
        assert bo.get(f"/compose?draft={odd}").status_code == 404


def test_autosave_answers_with_the_draft_or_why_it_kept_nothing(db, logged_in):
    client, _ = logged_in(Role.COMMS)
    token = csrf_token(client, "/compose")
    saved = client.post("/drafts/autosave", data={"csrf_token": token, "text": "Skriver…"})
    assert saved.status_code == 200
    draft_id = saved.json["id"]
    assert saved.json["message"].startswith("Utkast sparat")
    again = client.post("/drafts/autosave", data={"csrf_token": token, "draft_id": draft_id,
                                                  "text": "Skriver vidare"})
    assert again.json["id"] == draft_id
    refused = client.post("/drafts/autosave", data={"csrf_token": token, "draft_id": draft_id,
                                                    "text": "Noll\x00byte"})
    assert refused.status_code == 400 and "styrtecknen" in refused.json["error"]
    assert [d.fields["text"] for d in drafts(db)] == ["Skriver vidare"]
    assert client.post("/drafts/autosave", data={"text": "utan token"}).status_code == 400


@pytest.mark.browser
def test_typing_is_kept_through_a_closed_tab_and_a_lost_connection(megafon: LiveMegafon,
                                                                    tmp_path: Path):
    from playwright.sync_api import expect

    tag = tmp_path.name[-6:]
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        person = Megafon(context.new_page(), megafon)
        page = person.page
        person.log_in()
        person.open("/accounts/")
        person.connect_sandbox_account("x", f"Utkast {tag}")
        person.open("/compose")
        page.fill("#text", f"Kollektivtrafiken i Värmland {tag}")
        expect(page.get_by_test_id("draft-status")).to_contain_text("Utkast sparat")
        page.screenshot(path=artifact("compose-draft-saved.png"), full_page=True)
        page.close()  # the tab is closed

        page = context.new_page()
        person = Megafon(page, megafon)
        page.goto(megafon.url + "/drafts")
        page.screenshot(path=artifact("drafts.png"), full_page=True)
        page.get_by_test_id("resume-draft").first.click()
        page.wait_for_load_state()
        expect(page.locator("#text")).to_have_value(f"Kollektivtrafiken i Värmland {tag}")

        context.set_offline(True)  # the connection goes; the writer goes on typing
        page.fill("#text", f"Kollektivtrafiken i Värmland {tag} måste byggas ut")
        expect(page.get_by_test_id("draft-status")).to_contain_text("ingen anslutning")
        page.close()
        context.set_offline(False)

        page = context.new_page()
        page.goto(megafon.url + "/drafts")
        page.get_by_test_id("resume-draft").first.click()
        page.wait_for_load_state()
        expect(page.locator("#text")).to_have_value(
            f"Kollektivtrafiken i Värmland {tag} måste byggas ut")
        expect(page.get_by_test_id("draft-status")).to_contain_text("Utkast sparat")
        context.close()
    database = Database(megafon.database_url)
    try:
        with database.session() as session:
            assert session.scalar(select(func.count()).select_from(Draft)) == 1
            assert session.scalar(select(Draft.fields))["text"].endswith("måste byggas ut")
    finally:
        database.dispose()

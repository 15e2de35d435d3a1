"""An ask becomes a post in the ordinary composer: the e-mail (in the reader's language) links to
`/compose?ask=<id>`, which opens prefilled for the association's own accounts with the
campaign's words, tagged link and pictures; what is queued there counts in the coverage; another
association's writer is refused. Chromium screenshots: tests/artifacts/ask-composer*.png."""

from __future__ import annotations

import io
import re
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from campaigns.coverage import Cell, matrix
from campaigns.models import CampaignAsk, CampaignPost
from core.clock import to_local
from core.mail import MailSender, send_pending
from core.users import Role, User
from publisher.models import Platform, Post
from tests.campaigns.helpers import next_minute
from tests.campaigns.test_web import campaign_form
from tests.media_images import picture
from tests.smtp import smtp_server  # noqa: F401
from tests.web.conftest import csrf_token

BASE = "https://megafon.example.org"
ALT = "Affisch: Välfärd före vinster"


class Asked:
    """A lead's campaign with a picture, asked of Kil (X and Facebook accounts, two writers:
    one reading Swedish, one English); Arvika is another association."""

    def __init__(self, logged_in, make_org, make_account, make_user):
        tag = uuid.uuid4().hex[:4]
        self.kil, self.arvika = make_org(f"Kil {tag}"), make_org(f"Arvika {tag}")
        self.kil_x = make_account(Platform.X, organisation=self.kil, name=f"Kil X {tag}")[0]
        self.kil_fb = make_account(Platform.FACEBOOK, organisation=self.kil,
                                   name=f"Kil FB {tag}")[0]
        self.arvika_x = make_account(Platform.X, organisation=self.arvika,
                                     name=f"Arvika X {tag}")[0]
        self.district_x = make_account(Platform.X, name=f"Distriktet X {tag}")[0]
        self.lead, self.lead_user = logged_in(Role.CAMPAIGN_LEAD)
        self.kil_writer, self.kil_user = logged_in(Role.COMMS, organisation=self.kil)
        self.english_user = make_user(Role.COMMS, organisation=self.kil)
        self.arvika_writer, _ = logged_in(Role.COMMS, organisation=self.arvika)
        token = csrf_token(self.lead, "/campaigns/new")
        response = self.lead.post("/campaigns/new", content_type="multipart/form-data", data={
            **campaign_form(name=f"Välfärd {tag}", slug=f"valfard-{tag}"),
            "csrf_token": token, "alt_text": ALT,
            "image": (io.BytesIO(picture()), "affisch.png")})
        assert response.status_code == 302, response.get_data(as_text=True)
        self.campaign_id = int(re.search(r"/campaigns/(\d+)", response.location).group(1))
        self.slug = f"valfard-{tag}"
        page = self.lead.get(response.location).get_data(as_text=True)
        message_id = re.search(r'<option [^>]*value="(\d+)"', page).group(1)
        response = self.lead.post(f"/campaigns/{self.campaign_id}/ask", data={
            "csrf_token": token, "ask_message_id": message_id,
            "ask_organisation_ids": [self.kil.id]})
        assert response.status_code == 302, response.get_data(as_text=True)


@pytest.fixture
def asked(logged_in, make_org, make_account, make_user, db) -> Asked:
    world = Asked(logged_in, make_org, make_account, make_user)
    with db.session() as session:
        session.get(User, world.english_user.id).locale = "en"
        world.ask_id = session.scalar(select(CampaignAsk.id).where(
            CampaignAsk.campaign_id == world.campaign_id))
    return world


def test_the_email_in_the_readers_language_opens_the_prefilled_composer(
        asked, db, smtp_server):  # noqa: F811
    sender = MailSender(smtp_server.url, "Megafon <megafon@example.org>", base_url=BASE)
    send_pending(db, sender)
    [swedish] = smtp_server.messages(to=asked.kil_user.email)
    [english] = smtp_server.messages(to=asked.english_user.email)
    assert swedish.subject.startswith(f"Vill {asked.kil.name} bära kampanjen")
    assert swedish.message["Content-Language"] == "sv"
    assert english.subject.startswith(f"Will {asked.kil.name} carry the campaign")
    link = re.search(re.escape(BASE) + r"(/compose\?ask=\d+)", swedish.body).group(1)
    assert link == f"/compose?ask={asked.ask_id}"

    page = asked.kil_writer.get(link)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-testid="ask-banner"' in html and "Inlägget svarar på förfrågan" in html
    assert f'name="ask" value="{asked.ask_id}"' in html
    # X's words with the hashtags, the link with X's UTM tags, only Kil's X account ticked.
    assert re.search(r'<textarea[^>]*id="text"[^>]*>\s*Skolan åt alla!\s+#skolan</textarea>',
                     html)
    assert (f'value="https://example.org/skola?utm_source=x&amp;utm_medium=social&amp;'
            f'utm_campaign={asked.slug}"') in html
    ticked = set(re.findall(r'name="accounts" value="(\d+)"[^>]*checked', html))
    offered = set(re.findall(r'name="accounts" value="(\d+)"', html))
    assert ticked == {str(asked.kil_x.id)}
    assert offered == {str(asked.kil_x.id), str(asked.kil_fb.id)}  # Kil's accounts only
    # The campaign's picture, kept with its description, previewed through the ask.
    assert re.search(rf">\s*{ALT}</textarea>", html)
    image = re.search(r'<img src="(/campaigns/asks/\d+/media/\d+)"', html).group(1)
    assert asked.kil_writer.get(image).mimetype == "image/png"

    facebook = asked.kil_writer.get(f"{link}&network=facebook").get_data(as_text=True)
    assert "Vi vill ha en skola för alla." in facebook and "utm_source=facebook" in facebook
    assert set(re.findall(r'name="accounts" value="(\d+)"[^>]*checked', facebook)) == {
        str(asked.kil_fb.id)}
    # The ask's page links to the same composer.
    assert f'href="/compose?ask={asked.ask_id}"' in asked.kil_writer.get(
        f"/campaigns/asks/{asked.ask_id}").get_data(as_text=True)


def test_another_associations_writer_is_refused(asked, db):
    assert asked.arvika_writer.get(f"/compose?ask={asked.ask_id}").status_code == 403
    token = csrf_token(asked.arvika_writer, "/compose")
    response = asked.arvika_writer.post("/compose", data={
        "csrf_token": token, "ask": str(asked.ask_id), "text": "Intrång",
        "accounts": [asked.arvika_x.id], "when": "soon"})
    assert response.status_code == 403
    assert asked.arvika_writer.get(
        f"/campaigns/asks/{asked.ask_id}/media/1").status_code == 403
    assert asked.kil_writer.get("/compose?ask=99999999").status_code == 404
    assert asked.kil_writer.get("/compose?ask=nej").status_code == 404
    with db.session() as session:
        assert session.scalar(select(Post.id)) is None


def test_queueing_the_prefilled_post_makes_the_coverage_cell_planned(asked, db, logged_in):
    html = asked.kil_writer.get(f"/compose?ask={asked.ask_id}").get_data(as_text=True)
    text = re.search(r'<textarea[^>]*id="text"[^>]*>\s*(.*?)</textarea>', html, re.S).group(1)
    link = re.search(r'id="link"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*id="link"', html)
    link = (link.group(1) or link.group(2)).replace("&amp;", "&")
    at = to_local(next_minute() + timedelta(hours=2))
    token = csrf_token(asked.kil_writer, "/compose")
    form = {"csrf_token": token, "ask": str(asked.ask_id), "network": "x",
            "text": text + " Kil är med!", "link": link, "accounts": [asked.kil_x.id],
            "when": "at", "scheduled_date": f"{at:%Y-%m-%d}", "scheduled_time": f"{at:%H:%M}",
            "kept-0-alt_text": ALT + " (Kil)"}
    # An account outside the association is refused at its field, nothing queued.
    district, _ = logged_in(Role.COMMS)
    refused = district.post("/compose", data={**form, "csrf_token": csrf_token(
        district, "/compose"), "accounts": [asked.district_x.id]})
    assert refused.status_code == 400
    assert "välj bara dess konton" in refused.get_data(as_text=True)

    response = asked.kil_writer.post("/compose", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    with db.session() as session:
        post = session.scalars(select(Post)).unique().one()
        assert post.link == link and "utm_campaign=" + asked.slug in post.link
        assert [m.alt_text for m in post.media] == [ALT + " (Kil)"]
        linked = session.get(CampaignPost, post.id)
        assert linked.campaign_id == asked.campaign_id
        lead = session.get(User, asked.lead_user.id)
        cells = {r.account_id: r for r in matrix(session, lead, asked.campaign_id).rows}
    assert cells[asked.kil_x.id].cell is Cell.PLANNED
    assert cells[asked.kil_fb.id].cell is Cell.ASKED
    page = asked.lead.get(f"/campaigns/{asked.campaign_id}").get_data(as_text=True)
    assert 'data-answer="planned"' in page


@pytest.mark.browser
def test_chromium_shows_the_prefilled_composer(megafon):
    """Kil's writer opens the ask's link in Chromium: the banner, X's words, the picture with
    its description, on a desktop and on a phone (no sideways scroll)."""
    from playwright.sync_api import expect

    from campaigns.asks import ask_associations
    from campaigns.campaigns import CampaignDraft, MessageDraft, create_campaign
    from core.auth import create_user
    from core.db import Database
    from core.entered_time import EnteredTime
    from core.users import Organisation, OrganisationKind
    from publisher.media import store_image
    from publisher.posts import DraftImage
    from tests.conftest import connect_sandbox_account
    from tests.web.browser import PASSWORD, artifact, chromium

    assert megafon.services is not None
    db = Database(megafon.database_url)
    tag = uuid.uuid4().hex[:4]
    with db.session() as session:
        kil = Organisation(name=f"Vänsterpartiet Kil {tag}", kind=OrganisationKind.ASSOCIATION)
        session.add(kil)
        session.flush()
        create_user(session, email=f"kil-{tag}@example.org", name="Kajsa i Kil",
                    password=PASSWORD, role=Role.COMMS, organisation=kil)
        lead = create_user(session, email=f"lead-{tag}@example.org", name="Kim Kampanjledare",
                           password=PASSWORD, role=Role.CAMPAIGN_LEAD)
    connect_sandbox_account(megafon.services, Platform.X, kil, name=f"Kil på X {tag}")
    connect_sandbox_account(megafon.services, Platform.FACEBOOK, kil, name=f"Kil FB {tag}")
    now = to_local(next_minute())
    deadline = now + timedelta(days=4)
    with db.session() as session:
        lead = session.get(User, lead.id)
        media = store_image(session, megafon.services.settings.instance_path, picture(),
                            name="affisch.png", user_id=lead.id)
        campaign = create_campaign(session, lead, CampaignDraft(
            name="Välfärd före vinster", slug=f"valfard-{tag}", starts_on=f"{now:%Y-%m-%d}",
            ends_on=f"{deadline:%Y-%m-%d}",
            deadline=EnteredTime(f"{deadline:%Y-%m-%d}", "18:00"),
            message=MessageDraft("Välfärd före vinster! Skriv under uppropet.",
                                 "Vi vill ha välfärd före vinster i hela Värmland.",
                                 "#vpol", "https://example.org/upprop",
                                 [DraftImage(media.id, ALT, "affisch.png")])))
        [ask] = ask_associations(session, lead, campaign.id, campaign.messages[0].id, [kil.id])
        ask_id = ask.id
    db.dispose()

    with chromium() as browser:
        for name, width in (("ask-composer", 1280), ("ask-composer-phone", 390)):
            context = browser.new_context(viewport={"width": width, "height": 1000},
                                          locale="sv-SE")
            page = context.new_page()
            page.goto(megafon.url + "/")
            page.fill("#email", f"kil-{tag}@example.org")
            page.fill("#password", PASSWORD)
            page.click("form button[type=submit].primary")
            page.wait_for_selector("nav.mainnav")
            page.goto(f"{megafon.url}/compose?ask={ask_id}")
            expect(page.get_by_test_id("ask-banner")).to_contain_text("Välfärd före vinster")
            expect(page.locator("#text")).to_have_value(
                "Välfärd före vinster! Skriv under uppropet.\n\n#vpol")
            expect(page.locator("#link")).to_have_value(
                f"https://example.org/upprop?utm_source=x&utm_medium=social"
                f"&utm_campaign=valfard-{tag}")
            expect(page.locator("#kept-0-alt_text")).to_have_value(ALT)
            picture_shown = page.locator("[data-testid=kept-image] img")
            expect(picture_shown).to_have_attribute("alt", ALT)
            page.wait_for_function(
                "document.querySelector('[data-testid=kept-image] img').naturalWidth > 0")
            assert page.evaluate(
                "document.documentElement.scrollWidth - window.innerWidth") <= 1
            page.screenshot(path=str(artifact(f"{name}.png")), full_page=True)
            context.close()


def test_the_lead_sets_the_reminder_and_sees_who_was_asked(asked, db):
    token = csrf_token(asked.lead, f"/campaigns/{asked.campaign_id}")
    for bad in ("två", "0", "²", "9" * 10):
        response = asked.lead.post(f"/campaigns/{asked.campaign_id}/reminder",
                                   data={"csrf_token": token, "reminder_hours": bad})
        assert response.status_code == 422, bad
        assert "Skriv ett helt antal timmar" in response.get_data(as_text=True)
    response = asked.lead.post(f"/campaigns/{asked.campaign_id}/reminder",
                               data={"csrf_token": token, "reminder_hours": "24"})
    assert response.status_code == 302
    page = asked.lead.get(f"/campaigns/{asked.campaign_id}").get_data(as_text=True)
    assert "24 timmar före sista tiden" in page
    assert re.search(rf'<tr data-answer="waiting">.*?{asked.kil.name}.*?tillfrågad av', page,
                     re.S)
    assert asked.kil_writer.post(f"/campaigns/{asked.campaign_id}/reminder", data={
        "csrf_token": csrf_token(asked.kil_writer, "/compose"),
        "reminder_hours": "12"}).status_code == 403
    assert asked.kil_writer.get("/compose?ask=²").status_code == 404


def test_a_draft_of_the_answer_is_resumed_as_the_answer(asked, db):
    """What the composer autosaves keeps the ask: resumed from the drafts, it still counts."""
    token = csrf_token(asked.kil_writer, f"/compose?ask={asked.ask_id}")
    saved = asked.kil_writer.post("/drafts/autosave", data={
        "csrf_token": token, "ask": str(asked.ask_id), "text": "Kil skriver om välfärden",
        "accounts": [asked.kil_x.id], "when": "soon"})
    assert saved.status_code == 200, saved.get_data(as_text=True)
    draft_id = saved.json["id"]
    html = asked.kil_writer.get(f"/compose?draft={draft_id}").get_data(as_text=True)
    assert 'data-testid="ask-banner"' in html and "Kil skriver om välfärden" in html
    response = asked.kil_writer.post("/compose", data={
        "csrf_token": token, "draft_id": str(draft_id), "text": "Kil skriver om välfärden",
        "accounts": [asked.kil_x.id], "when": "soon"})
    assert response.status_code == 302, response.get_data(as_text=True)
    with db.session() as session:
        post = session.scalars(select(Post)).unique().one()
        assert session.get(CampaignPost, post.id).campaign_id == asked.campaign_id

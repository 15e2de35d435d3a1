"""Every page, walked in real Chromium on a phone's width, in Swedish, with things going wrong.

Issue 17, point 9: every page usable at 390 px (no sideways scroll) and every string translated
where it is shown, the domain's messages included. The walk takes every GET route of the app
(so a new page is walked without anyone adding it here), on a Megafon holding the demo's
accounts and posts, mentions, a campaign, and faults: the district's X account answers every
call with a server error and a source is blocked, so the pages show the domain's reasons.

English is recognised by the catalogue itself: any sentence Megafon has a Swedish translation
for must not be on a Swedish page in English.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from pathlib import Path

from babel.messages.pofile import read_po
from flask import Flask, url_for
from sqlalchemy import select

from campaigns.models import (
    Campaign,
    CampaignAsk,
    CampaignMessage,
    CampaignMessageImage,
    Event,
    TargetKind,
)
from cli.demo import seed_events, seed_monitoring, seed_organisations, seed_publishing
from core.auth import create_user, district
from core.clock import STOCKHOLM, utcnow
from core.users import Organisation, OrganisationKind, Role, User
from monitor.fetch import SafeFetcher
from monitor.models import Source, SourceKind
from monitor.polling import LiveIngest, poll_source
from monitor.sources import PollContext
from publisher.bulk_import import preview_import
from publisher.drafts import save_draft
from publisher.models import Account, Delivery, MediaFile, Platform
from publisher.posts import PostDraft, create_post
from tests.conftest import PASSWORD
from tests.monitor.feedserver import FeedServer, rss
from tests.publisher.sandbox_faults import set_faults
from tests.web.browser import Megafon, artifact, chromium
from tests.web.mention_seeds import seed_mentions
from web import create_app

CATALOGUE = Path(__file__).resolve().parents[2] / "web/translations/sv/LC_MESSAGES/messages.po"
PLACEHOLDER = re.compile(r"%(\(\w+\))?[sdif]|\{\w*\}")

# Routes that are not pages to look at: files, feeds, redirects that act, the API's documents.
NOT_PAGES = re.compile(r"\.(csv|xlsx|pdf|ics|rss|json|svg|png)$|^/static/|^/api/|/logout$|"
                       r"/language/|^/reset/|^/favicon")


# What a screen reader needs of every page: tables with a caption and headers that say what
# they head, pictures with an alt attribute, every field with a name, the page's own link in
# the navigation marked as the current one, a skip link to the content.
ACCESSIBILITY = """() => {
  const found = [];
  const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  document.querySelectorAll("table").forEach((t, i) => {
    if (!t.querySelector("caption") && !t.getAttribute("aria-label")
        && !t.getAttribute("aria-labelledby")) found.push(`table ${i + 1} has no caption`);
  });
  const bare = [...document.querySelectorAll("th")].filter((th) => !th.getAttribute("scope"));
  if (bare.length) {
    found.push(`${bare.length} table headers without scope ("${bare[0].innerText}")`);
  }
  document.querySelectorAll("img:not([alt])").forEach(
    (img) => found.push(`img without alt: ${img.src}`));
  document.querySelectorAll("input, select, textarea").forEach((f) => {
    if (["hidden", "submit", "button"].includes(f.type) || !visible(f)) return;
    const named = (f.labels && f.labels.length) || f.getAttribute("aria-label")
      || f.getAttribute("aria-labelledby") || f.getAttribute("title");
    if (!named) found.push(`field without a label: ${f.name || f.id}`);
  });
  const here = location.pathname;
  const own = [...document.querySelectorAll("nav.mainnav a")].filter(
    (a) => new URL(a.href).pathname === here);
  own.forEach((a) => { if (a.getAttribute("aria-current") !== "page")
    found.push(`the navigation's link to this page is not aria-current: ${a.innerText}`); });
  if (document.querySelector("nav.mainnav") && (!document.querySelector("a.skip-link[href='#main']")
      || !document.getElementById("main")))
    found.push("no skip link to the content");
  return found;
}"""


def english_sentences() -> list[str]:
    """Runs of English words Megafon translates: placeholders split a message into its fixed
    parts, and only parts of three words or more count (a lone word may be a name)."""
    with CATALOGUE.open("rb") as po:
        catalogue = read_po(po)
    found: set[str] = set()
    for message in catalogue:
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for msgid in ids:
            if not msgid or msgid in strings:
                continue
            for part in PLACEHOLDER.split(msgid):
                part = (part or "").strip(" .,:;()–-")
                if len(part.split()) >= 3 and len(part) >= 15:
                    found.add(part)
    return sorted(found)


def make_things_go_wrong(live, sandbox_url: str, feeds: FeedServer) -> None:
    services = live.services
    with services.db.session() as session:
        x = session.scalar(select(Account).where(Account.platform == Platform.X))
        admin = session.scalar(select(User).where(User.email == live.email))
        set_faults(sandbox_url, x.external_id, error_rate=1.0, error_status=503)
        post = create_post(session, admin, PostDraft(
            text="Bussarna i Värmland ska gå i tid", account_ids=[x.id],
            scheduled_local=None))
        session.flush()
        post_id = post.id
        source = Source(name="Blockerad källa", kind=SourceKind.FEED, outlet="NWT",
                        url=feeds.add("/feed.xml", body=rss("Lokalt", [])))
        session.add(source)
        session.flush()
        source_id = source.id
    live.its_time_has_come("Bussarna i Värmland ska gå i tid")
    blocked = SafeFetcher(allow=[], timeout=5)
    try:
        poll_source(services.db, source_id, PollContext(fetcher=blocked), LiveIngest())
    finally:
        blocked.close()
    assert post_id


def seed(live, sandbox_url: str) -> dict[str, object]:
    """The demo's world, a campaign asked of an association, and a media file."""
    services = live.services
    with services.db.session() as session:
        seed_organisations(session)
        seed_events(session)
        seed_monitoring(session, sandbox_url)
        seed_publishing(session, services)
    seeded = seed_mentions(services.db)
    with services.db.session() as session:
        association = session.scalar(select(Organisation).where(
            Organisation.kind == OrganisationKind.ASSOCIATION).order_by(Organisation.id))
        today = datetime.now(STOCKHOLM).date()
        campaign = Campaign(
            name="Välfärd före vinster", slug=f"valfard-{uuid.uuid4().hex[:6]}",
            description="Vinster i välfärden", starts_on=today, ends_on=today + timedelta(7),
            deadline=utcnow() + timedelta(days=3), target_kind=TargetKind.DISTRICT,
            utm_campaign="valfard",
            messages=[CampaignMessage(text_x="Välfärd före vinster!",
                                      text_facebook="Välfärd före vinster, inte tvärtom.",
                                      link="https://example.org/valfard")])
        picture = session.scalar(select(MediaFile.id).order_by(MediaFile.id))
        if picture is not None:  # the ask's picture, shown in the composer it opens
            campaign.messages[0].images = [CampaignMessageImage(position=1, media_id=picture,
                                                                alt_text="Affisch")]
        session.add(campaign)
        session.flush()
        ask = CampaignAsk(campaign_id=campaign.id, message_id=campaign.messages[0].id,
                          organisation_id=association.id, asked_at=utcnow())
        session.add(ask)
        session.flush()
        walker = session.scalar(select(User).where(User.email == live.email))
        draft = save_draft(session, walker, {"text": "Ett utkast om kollektivtrafiken",
                                             "accounts": ["1"]})

        # a post waiting for approval (publisher.approval), written by someone else
        page_account = session.scalar(select(Account).where(
            Account.platform == Platform.FACEBOOK).order_by(Account.id))
        page_account.needs_approval = True
        writer = create_user(session, email=f"skribent-{uuid.uuid4().hex[:6]}@example.org",
                             name="Sara Skribent", password=PASSWORD, role=Role.COMMS)
        waiting = create_post(session, writer, PostDraft(
            text="Stormöte om kollektivtrafiken på torsdag", account_ids=[page_account.id],
            scheduled_local=(datetime.now(STOCKHOLM) + timedelta(hours=2)).replace(
                tzinfo=None, second=0, microsecond=0)))
        account = session.scalar(select(Account).order_by(Account.id))
        when = datetime.now(STOCKHOLM) + timedelta(days=2)
        imported = preview_import(
            session, walker, (f"Konto;Tid;Text;Bild\n{account.name};{when:%Y-%m-%d} 12:00;Hej "
                              f"Värmland\nOkänt;{when:%Y-%m-%d} 25:00;Fel;bild.png\n").encode(),
            "inlagg.csv", media_root=services.settings.instance_path)

        def first(column):
            return session.scalar(select(column).order_by(column))

        return {"campaign_id": campaign.id, "ask_id": ask.id,
                "mention_id": seeded.mentions[next(iter(seeded.mentions))],
                "watchlist_id": seeded.transport_id, "person_id": seeded.person_id,
                "post_id": waiting.id, "delivery_id": first(Delivery.id),
                "account_id": first(Account.id), "source_id": first(Source.id),
                "user_id": first(User.id), "media_id": first(MediaFile.id),
                "organisation_id": district(session).id, "table": "issues",
                "token": "not-a-token", "token_id": 1, "lang": "en",
                "draft_id": draft.id, "event_id": first(Event.id), "import_id": imported.id}


def pages(app: Flask, values: dict[str, object]) -> list[str]:
    found = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or set()) or rule.endpoint == "static":
            continue
        missing = rule.arguments - values.keys()
        assert not missing, f"give {rule.rule} a sample for {missing} in seed()"
        if any(values[a] is None for a in rule.arguments):
            continue  # nothing of the kind in this world (a picture is not a page anyway)
        with app.test_request_context():
            path = url_for(rule.endpoint, **{a: values[a] for a in rule.arguments})
        if not NOT_PAGES.search(path):
            found.append(path)
    return sorted(set(found))


def test_every_page_fits_a_phone_and_speaks_swedish_when_things_go_wrong(megafon, sandbox):
    with FeedServer() as feeds:
        values = seed(megafon, sandbox.url)
        make_things_go_wrong(megafon, sandbox.url, feeds)
    app = create_app(megafon.services.settings, megafon.services)
    paths = pages(app, values)
    assert len(paths) > 30
    sentences = english_sentences()
    problems: list[str] = []
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 390, "height": 844},
                                      locale="sv-SE", device_scale_factor=1)
        page = context.new_page()
        Megafon(page, megafon).log_in()
        for path in paths:
            response = page.goto(megafon.url + path)
            status = response.status if response else 0
            if status >= 500:
                problems.append(f"{path}: {status}")
                continue
            if "text/html" not in (response.headers.get("content-type", "") if response else ""):
                continue
            wide = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            if wide > 1:
                problems.append(f"{path}: {wide} px wider than the phone")
            text = page.evaluate("document.body.innerText")
            english = [s for s in sentences if s in text]
            if english:
                problems.append(f"{path}: English on a Swedish page: {english[:3]}")
            for problem in page.evaluate(ACCESSIBILITY):
                problems.append(f"{path}: {problem}")
            name = re.sub(r"[^a-z0-9]+", "-", path.strip("/").lower()) or "overview"
            page.screenshot(path=str(artifact(f"phone-{name}.png")), full_page=True)
        context.close()
    assert not problems, "\n".join(problems)

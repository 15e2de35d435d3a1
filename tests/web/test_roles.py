"""Roles and organisations are enforced on the server, for every route the app has.

The route table below is checked against app.url_map, so a new route fails these tests until it
is classified. POSTs carry valid form data and a valid CSRF token: if a check were missing, the
action would go through, and the unchanged database would show it did not.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask, url_for
from flask.testing import FlaskClient
from sqlalchemy import inspect, select, text
from werkzeug.test import TestResponse

from campaigns.models import (
    Campaign,
    CampaignAsk,
    CampaignMessage,
    CampaignMessageImage,
    Event,
    EventKind,
    Municipality,
    TargetKind,
)
from core.auth import district
from core.clock import STOCKHOLM
from core.db import Database
from core.users import Organisation, Role, User
from monitor.models import (
    Mention,
    MentionWatchlist,
    Person,
    Sighting,
    Source,
    SourceKind,
    Watchlist,
)
from publisher.adapters.sandbox_directory import SandboxDirectory
from publisher.bulk_import import preview_import
from publisher.media import store_image
from publisher.models import Account, Delivery, DeliveryState, Platform, Post
from publisher.posts import DraftImage, PostDraft, create_post
from tests.conftest import PASSWORD
from tests.factories import count
from tests.media_images import picture
from tests.web.conftest import csrf_token, login

ALL = frozenset(Role)
WRITERS = frozenset({Role.ADMIN, Role.COMMS, Role.CAMPAIGN_LEAD})
ACCOUNT_MANAGERS = frozenset({Role.ADMIN, Role.COMMS})
ADMINS = frozenset({Role.ADMIN})
TRIAGERS = frozenset({Role.ADMIN, Role.COMMS, Role.CAMPAIGN_LEAD})
MONITOR_MANAGERS = frozenset({Role.ADMIN, Role.COMMS})
CAMPAIGN_LEADS = frozenset({Role.ADMIN, Role.CAMPAIGN_LEAD})
REVIEWERS = frozenset({Role.ADMIN, Role.COMMS, Role.CAMPAIGN_LEAD})  # of the district

# Reachable without logging in; everything else needs a user.
PUBLIC = {"static", "favicon", "health.healthz", "health.publishing", "auth.login",
          "auth.language", "api-docs.openapi_json", "auth.forgot", "auth.reset",
          "events.public_feed", "events.members_feed"}  # the calendars: public, secret link


def is_api(endpoint: str) -> bool:
    """The REST API's operations: token-authenticated, no session (tests/web/test_api.py)."""
    return endpoint.startswith("api_") and endpoint != "api_docs"

# (endpoint, method) -> the roles that may use it. HEAD follows GET. Order matters only when
# an allowed role walks the list: logging out comes last.
ALLOWED: dict[tuple[str, str], frozenset[Role]] = {
    ("dashboard.index", "GET"): ALL,
    ("dashboard.delivery", "GET"): ALL,
    ("accounts.index", "GET"): ALL,
    ("compose.media", "GET"): ALL,
    ("compose.compose", "GET"): WRITERS,
    ("compose.compose", "POST"): WRITERS,
    ("posts.detail", "GET"): ALL,
    ("reviews.index", "GET"): REVIEWERS,
    ("reviews.comment", "POST"): WRITERS,
    ("reviews.approve", "POST"): REVIEWERS,  # the world's post waits for approval: approved
    ("posts.fix", "POST"): WRITERS,  # the delivery has not failed: told so, nothing changes
    ("compose.edit", "GET"): WRITERS,
    ("compose.edit", "POST"): WRITERS,  # before cancel: changes the waiting post
    ("calendar.index", "GET"): ALL,
    ("calendar.move", "POST"): WRITERS,  # before cancel: moves the waiting post
    ("schedule.slots", "GET"): ALL,
    ("schedule.account_queue", "GET"): ALL,
    ("schedule.add", "POST"): ACCOUNT_MANAGERS,
    ("schedule.remove", "POST"): ACCOUNT_MANAGERS,  # a slot that is not there: said so
    ("drafts.index", "GET"): WRITERS,
    ("drafts.autosave", "POST"): WRITERS,
    ("drafts.delete", "POST"): WRITERS,
    ("imports.upload", "GET"): WRITERS,
    ("imports.upload", "POST"): WRITERS,  # a preview: nothing queued
    ("imports.preview", "GET"): WRITERS,
    ("imports.confirm", "POST"): WRITERS,
    ("dashboard.cancel", "POST"): WRITERS,
    ("dashboard.requeue", "POST"): WRITERS,  # after cancel: sends the cancelled delivery again
    ("reviews.send_back", "POST"): REVIEWERS,  # sent again, it waits for approval: sent back
    ("reviews.rules", "POST"): ADMINS,
    ("accounts.connect_x", "POST"): ACCOUNT_MANAGERS,
    ("accounts.connect_facebook", "POST"): ACCOUNT_MANAGERS,
    ("accounts.connect_sandbox", "POST"): ACCOUNT_MANAGERS,
    ("accounts.disconnect", "POST"): ACCOUNT_MANAGERS,
    ("admin.users", "GET"): ADMINS,
    ("admin.users", "POST"): ADMINS,
    ("admin.user", "GET"): ADMINS,
    ("admin.user", "POST"): ADMINS,
    ("admin.report_mail", "GET"): ADMINS,
    ("admin.report_mail", "POST"): ADMINS,
    ("notifications.index", "GET"): ALL,
    ("tokens.index", "GET"): ALL,
    ("tokens.create", "POST"): ALL,
    ("tokens.revoke", "POST"): ALL,
    ("api_docs", "GET"): ALL,
    ("privacy.index", "GET"): ADMINS,
    ("audit.index", "GET"): ADMINS,  # the district's administrators (tests/web/test_audit.py)
    ("audit.export", "GET"): ADMINS,
    ("privacy.export", "POST"): ADMINS,
    ("privacy.erase", "POST"): ADMINS,
    ("notifications.read", "POST"): ALL,
    ("mentions.index", "GET"): ALL,
    ("reports.index", "GET"): ALL,
    ("reports.table_csv", "GET"): ALL,
    ("reports.workbook", "GET"): ALL,
    ("reports.paper", "GET"): ALL,
    ("mentions.detail", "GET"): ALL,
    ("mentions.triage", "POST"): TRIAGERS,
    ("mentions.respond", "POST"): TRIAGERS,
    ("mentions.reply", "GET"): TRIAGERS,
    ("mentions.reply", "POST"): TRIAGERS,
    ("monitoring.alerts", "GET"): ALL,
    ("monitoring.alerts", "POST"): ALL,
    ("monitoring.sources", "GET"): MONITOR_MANAGERS,
    ("monitoring.new_source", "GET"): MONITOR_MANAGERS,
    ("monitoring.new_source", "POST"): MONITOR_MANAGERS,
    ("monitoring.source", "GET"): MONITOR_MANAGERS,
    ("monitoring.source", "POST"): MONITOR_MANAGERS,
    ("monitoring.pause", "POST"): MONITOR_MANAGERS,
    ("monitoring.resume", "POST"): MONITOR_MANAGERS,  # after pause: resumes the paused source
    ("monitoring.new_clipping", "GET"): MONITOR_MANAGERS,
    ("monitoring.new_clipping", "POST"): MONITOR_MANAGERS,
    ("monitoring.watchlists", "GET"): MONITOR_MANAGERS,
    ("monitoring.new_watchlist", "GET"): MONITOR_MANAGERS,
    ("monitoring.new_watchlist", "POST"): MONITOR_MANAGERS,
    ("monitoring.watchlist", "GET"): MONITOR_MANAGERS,
    ("monitoring.watchlist", "POST"): MONITOR_MANAGERS,
    ("monitoring.test_query", "POST"): MONITOR_MANAGERS,
    ("monitoring.people", "GET"): MONITOR_MANAGERS,
    ("monitoring.people", "POST"): MONITOR_MANAGERS,
    ("monitoring.person", "GET"): MONITOR_MANAGERS,
    ("monitoring.person", "POST"): MONITOR_MANAGERS,
    ("monitoring.delete_watchlist", "POST"): MONITOR_MANAGERS,  # deletions after every use
    ("monitoring.delete_person", "POST"): MONITOR_MANAGERS,
    ("campaigns.index", "GET"): ALL,
    ("campaigns.detail", "GET"): ALL,
    ("campaigns.coverage_csv", "GET"): ALL,
    ("campaigns.new", "GET"): CAMPAIGN_LEADS,
    ("campaigns.new", "POST"): CAMPAIGN_LEADS,
    ("campaigns.add_message", "POST"): CAMPAIGN_LEADS,
    ("campaigns.link_post", "POST"): CAMPAIGN_LEADS,
    ("campaigns.rollout", "POST"): CAMPAIGN_LEADS,
    ("campaigns.ask", "POST"): CAMPAIGN_LEADS,
    ("campaigns.utm", "POST"): CAMPAIGN_LEADS,
    ("campaigns.ask_page", "GET"): ALL,
    ("campaigns.ask_page", "POST"): WRITERS,  # an association's answer: its posts
    ("campaigns.decline", "POST"): WRITERS,
    ("events.index", "GET"): ALL,
    ("events.detail", "GET"): ALL,
    ("events.calendar_link", "POST"): ALL,  # one's own secret link to the members' calendar
    ("events.new", "GET"): WRITERS,
    ("events.new", "POST"): WRITERS,
    ("events.edit", "GET"): WRITERS,
    ("events.edit", "POST"): WRITERS,
    ("events.announce", "POST"): WRITERS,
    ("events.templates", "GET"): WRITERS,
    ("events.templates", "POST"): WRITERS,  # the district's writers; an association's: 403
    ("events.cancel", "POST"): WRITERS,  # after the event's changes and announcements
    ("events.cancellation", "POST"): WRITERS,  # after cancel: the post that says so
    ("county.index", "GET"): ALL,
    ("county.election", "GET"): ALL,
    ("county.coverage", "POST"): CAMPAIGN_LEADS,
    ("county.election_day", "POST"): CAMPAIGN_LEADS,
    ("campaigns.ask_image", "GET"): ALL,  # the ask's pictures, for the composer's preview
    ("campaigns.reminder", "POST"): CAMPAIGN_LEADS,
    ("auth.password", "GET"): ALL,
    ("auth.password", "POST"): ALL,  # a new password: this session goes on
    ("auth.logout", "POST"): ALL,
}
# POSTs whose valid form data saves something (so a refusal shows as an unchanged database).
SAVES = {"compose.compose", "compose.edit", "drafts.autosave", "dashboard.cancel",
         "calendar.move", "schedule.add",
         "imports.upload", "imports.confirm",
         "dashboard.requeue",
         "accounts.connect_x", "accounts.connect_facebook",
         "accounts.connect_sandbox", "accounts.disconnect", "admin.users", "admin.user",
         "admin.report_mail", "auth.password",
         "mentions.triage", "mentions.respond", "mentions.reply", "monitoring.alerts",
         "monitoring.new_source",
         "monitoring.source", "monitoring.pause", "monitoring.resume", "monitoring.new_clipping",
         "monitoring.new_watchlist", "monitoring.watchlist", "monitoring.people",
         "monitoring.person", "monitoring.delete_watchlist", "monitoring.delete_person",
         "tokens.create", "privacy.erase",
         "campaigns.new", "campaigns.add_message", "campaigns.link_post", "campaigns.rollout",
         "campaigns.ask", "campaigns.ask_page", "campaigns.decline", "campaigns.utm",
         "events.new", "events.edit", "events.announce", "events.templates", "events.cancel",
         "events.cancellation", "events.calendar_link",
         "county.coverage", "county.election_day",
         "campaigns.reminder",
         "reviews.comment", "reviews.approve", "reviews.send_back", "reviews.rules"}
# POSTs that answer with a page instead of a redirect (they change nothing).
# The new token, shown once; the export, a download.
ANSWERS_IN_PLACE = {"monitoring.test_query", "tokens.create", "privacy.export",
                    "drafts.autosave", "events.calendar_link"}
NEW_PASSWORD = "ett nytt lösenord för rollerna"
X_FIELDS = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")


@dataclass
class Route:
    endpoint: str
    method: str
    path: str
    data: dict[str, object] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return self.endpoint, "GET" if self.method == "HEAD" else self.method

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


@dataclass
class World:
    """Real rows to aim every route at: district accounts, a queued delivery, fresh credentials."""

    district_id: int
    x: Account
    facebook: Account
    delivery_id: int
    post_id: int
    media_id: int
    new_x: dict[str, str]
    new_facebook: dict[str, str]
    monitor: Monitored
    campaign: Campaigned
    user_id: int
    event_id: int
    import_id: int
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    def url_values(self) -> dict[str, object]:
        return {"delivery_id": self.delivery_id, "post_id": self.post_id,
                "account_id": self.facebook.id, "lang": "en", "filename": "megafon.css",
                "media_id": self.media_id,
                "mention_id": self.monitor.mention_id, "source_id": self.monitor.source_id,
                "watchlist_id": self.monitor.watchlist_id, "person_id": self.monitor.person_id,
                "table": "issues", "token_id": 1, "campaign_id": self.campaign.campaign_id,
                "ask_id": self.campaign.ask_id, "user_id": self.user_id, "token": "not-a-token",
                "draft_id": 1, "event_id": self.event_id, "import_id": self.import_id}

    def form(self, endpoint: str) -> dict[str, object]:
        """Form data that succeeds for a role allowed to use the endpoint."""
        org = self.district_id
        tomorrow = datetime.now(STOCKHOLM) + timedelta(days=1)
        forms: dict[str, dict[str, object]] = {
            "compose.compose": {"text": f"Rollkontroll {self.tag}", "accounts": [self.x.id]},
            "compose.edit": {"text": f"Ändrad {self.tag}", "accounts": [self.x.id]},
            "calendar.move": {"post_id": self.post_id, "date": f"{tomorrow:%Y-%m-%d}",
                              "time": "10:00"},
            "schedule.add": {"weekday": "0", "time": "08:00"},
            "schedule.remove": {"slot_id": "999999"},
            "accounts.connect_x": {"x-name": f"X {self.tag}", "x-organisation_id": org,
                                   **{f"x-{k}": self.new_x[k] for k in X_FIELDS}},
            "accounts.connect_facebook": {
                "fb-name": f"FB {self.tag}", "fb-organisation_id": org,
                "fb-page_id": self.new_facebook["page_id"],
                "fb-page_access_token": self.new_facebook["page_access_token"]},
            "accounts.connect_sandbox": {"sb-platform": "x", "sb-name": self.sandbox_name,
                                         "sb-organisation_id": org},
            "admin.users": {"name": "Ny Användare", "email": f"ny-{self.tag}@example.org",
                            "password": PASSWORD, "role": "comms", "organisation_id": org},
            "admin.user": {"name": f"Bo {self.tag}", "role": "campaign_lead",
                           "organisation_id": org, "active": "y"},
            "admin.report_mail": {"day": "3", "hour": "8", "recipients": []},
            "auth.password": {"current_password": PASSWORD, "new_password": NEW_PASSWORD,
                              "repeated": NEW_PASSWORD},
            "auth.forgot": {"email": "nobody@example.org"},
            "auth.login": {"email": "nobody@example.org", "password": PASSWORD},
            "notifications.read": {"all": "1"},
            "tokens.create": {"name": f"Rollkontroll {self.tag}", "scope": "read"},
            "privacy.export": {"subject": "@nobody"},
            "privacy.erase": {"subject": "@nobody", "confirm": "yes"},
            "reviews.comment": {"comment": f"Kommentar {self.tag}"},
            "reviews.send_back": {"comment": f"Ändra {self.tag}"},
            "reviews.rules": {"accounts": [self.x.id, self.facebook.id]},
            "imports.upload": {"file": (io.BytesIO(import_file(self.x.name)), "inlagg.csv")},
            "imports.confirm": {"expected": "1"},
            "mentions.reply": {"account": self.x.id, "text": f"Svar i tråden {self.tag}"},
            **self.monitor.forms(self.tag),
            **self.campaign.forms(self.tag, self.post_id),
            **event_forms(self.tag, org, self.x.id),
        }
        return forms.get(endpoint, {})

    @property
    def sandbox_name(self) -> str:
        return f"Sandlåda {self.tag}"


@dataclass
class Monitored:
    """Monitoring rows to aim the monitoring routes at: an issue, a person, a feed, a mention."""

    watchlist_id: int
    person_id: int
    source_id: int
    mention_id: int

    def forms(self, tag: str) -> dict[str, dict[str, object]]:
        yesterday = datetime.now(STOCKHOLM) - timedelta(days=1)
        wid = self.watchlist_id
        return {
            "mentions.triage": {"state": "relevant", "note": f"Rollkontroll {tag}",
                                "assignee_id": ""},
            "monitoring.alerts": {"watchlist": [wid], f"immediate_{wid}": "1",
                                  f"digest_{wid}": "7"},
            "monitoring.new_source": {"name": f"Källa {tag}", "kind": "feed", "outlet": "VF",
                                      "url": "https://example.org/vf.rss", "interval_minutes": 5},
            "monitoring.source": {"name": f"NWT {tag}", "kind": "feed", "outlet": "NWT",
                                  "url": "https://example.org/nwt.rss", "interval_minutes": 10},
            "monitoring.new_clipping": {"outlet": "NWT papper", "title": f"Klipp {tag}",
                                        "published_date": f"{yesterday:%Y-%m-%d}",
                                        "published_time": f"{yesterday:%H:%M}",
                                        "text": "Kollektivtrafiken i Kil drabbas."},
            "monitoring.new_watchlist": {"name": f"Fråga {tag}", "query": "skola*",
                                         "priority": "normal", "active": "y"},
            "monitoring.watchlist": {"name": f"Kollektivtrafik {tag}", "priority": "high",
                                     "query": "kollektivtrafik* OR buss*", "active": "y"},
            "monitoring.test_query": {"query": "kollektivtrafik*"},
            "monitoring.people": {"name": f"Person {tag}", "party": "S"},
            "monitoring.person": {"name": f"Anna Lind {tag}", "aliases": "Lind", "party": "V"},
        }


@dataclass
class Campaigned:
    """A campaign for the district with one message, to aim the campaign routes at."""

    campaign_id: int
    message_id: int
    ask_id: int
    association_id: int
    association_account_id: int
    municipality_id: int

    def forms(self, tag: str, post_id: int) -> dict[str, dict[str, object]]:
        now = datetime.now(STOCKHOLM)
        start, deadline = now + timedelta(hours=2), now + timedelta(days=3)
        return {
            "campaigns.new": {"name": f"Kampanj {tag}", "starts_on": f"{now:%Y-%m-%d}",
                              "ends_on": f"{deadline:%Y-%m-%d}",
                              "deadline_date": f"{deadline:%Y-%m-%d}", "deadline_time": "18:00",
                              "target_kind": "district", "text_x": "Hej", "text_facebook": "Hej"},
            "campaigns.add_message": {"text_x": f"Budskap {tag}", "text_facebook": "Hej"},
            "campaigns.link_post": {"post_id": str(post_id)},
            "campaigns.ask": {"ask_message_id": self.message_id,
                              "ask_organisation_ids": [self.association_id]},
            "campaigns.ask_page": {"accounts": [self.association_account_id],
                                   f"text_{self.association_account_id}": f"Svar {tag}"},
            "campaigns.decline": {"reason": f"Nej {tag}"},
            "campaigns.reminder": {"reminder_hours": "24"},
            "campaigns.utm": {"utm_source_x": "twitter", "utm_source_facebook": "fb",
                              "utm_medium": "social", "utm_campaign": f"val-{tag}"},
            "campaigns.rollout": {"message_id": self.message_id,
                                  "start_date": f"{start:%Y-%m-%d}",
                                  "start_time": f"{start:%H:%M}",
                                  "end_date": f"{start:%Y-%m-%d}",
                                  "end_time": f"{start:%H:%M}"},
            "county.coverage": {"municipality_id": self.municipality_id,
                                "organisation_id": self.association_id},
            "county.election_day": {"day": f"{deadline + timedelta(days=30):%Y-%m-%d}"},
        }


def campaigned(db: Database, account: Account, media_id: int) -> Campaigned:
    """A campaign, asked of the association that owns `account`, its message with a picture."""
    with db.session() as session:
        campaign = Campaign(name="Välfärd", slug=f"valfard-{uuid.uuid4().hex[:6]}",
                            starts_on=datetime.now(STOCKHOLM).date(),
                            ends_on=datetime.now(STOCKHOLM).date(),
                            deadline=datetime.now(STOCKHOLM) + timedelta(days=3),
                            target_kind=TargetKind.DISTRICT, utm_campaign="valfard",
                            messages=[CampaignMessage(text_x="Välfärd", text_facebook="Välfärd",
                                                      link="https://example.org/v",
                                                      images=[CampaignMessageImage(
                                                          position=1, media_id=media_id)])])
        session.add(campaign)
        session.flush()
        ask = CampaignAsk(campaign_id=campaign.id, message_id=campaign.messages[0].id,
                          organisation_id=account.organisation_id,
                          asked_at=datetime.now(STOCKHOLM))
        session.add(ask)
        session.flush()
        kil = session.scalar(select(Municipality.id).where(Municipality.name == "Kil"))
        return Campaigned(campaign.id, campaign.messages[0].id, ask.id, account.organisation_id,
                          account.id, kil)


def event_forms(tag: str, organiser_id: int, account_id: int) -> dict[str, dict[str, object]]:
    day = (datetime.now(STOCKHOLM) + timedelta(days=10)).date()
    event = {"title": f"Valkonferens {tag}", "kind": "election_conference",
             "organiser_id": str(organiser_id), "start_date": f"{day}", "start_time": "10:00",
             "end_date": f"{day}", "end_time": "16:00", "place": "Folkets hus", "public": "y"}
    return {
        "events.new": event,
        "events.edit": {**event, "title": f"Valkonferensen {tag}",
                        "start_date": f"{day + timedelta(days=1)}",
                        "end_date": f"{day + timedelta(days=1)}"},
        "events.announce": {"accounts": [account_id], "which": ["week", "day", "morning"],
                            "hour": "08:00", "language": "sv"},
        "events.templates": {"language": "sv", "week": f"Om en vecka: {{title}} {tag}"},
        "events.cancellation": {"cancellation_accounts": [account_id],
                                "cancellation_language": "sv"},
    }


def evented(db: Database) -> int:
    """A district event ten days ahead, to aim the event routes at."""
    start = datetime.now(STOCKHOLM).replace(microsecond=0) + timedelta(days=10)
    with db.session() as session:
        event = Event(title="Vänsterskolan", kind=EventKind.COURSE, starts_at=start,
                      ends_at=start + timedelta(hours=2), organiser_id=district(session).id)
        session.add(event)
        session.flush()
        return event.id


def monitored(db: Database) -> Monitored:
    with db.session() as session:
        watchlist = Watchlist(name="Kollektivtrafik", query="kollektivtrafik*")
        person = Person(name="Anna Lind", party="V")
        source = Source(name="NWT", kind=SourceKind.FEED, outlet="NWT",
                        url="https://example.org/nwt.rss")
        session.add_all([watchlist, person, source])
        session.flush()
        # An X post found by X search: it can be answered in its thread (mentions.reply).
        mention = Mention(title="@resenar: Busslinjer dras in", url="https://example.org/buss",
                          outlet="X", source_kind=SourceKind.X_SEARCH,
                          text="Kollektivtrafiken i Kil drabbas.",
                          watchlists=[MentionWatchlist(watchlist_id=watchlist.id)],
                          sightings=[Sighting(item_key="x:1234567890123", outlet="X")])
        session.add(mention)
        session.flush()
        return Monitored(watchlist.id, person.id, source.id, mention.id)


def queue_picture_post(services, user: User, account: Account) -> tuple[int, int, int]:
    """A post with a picture, due in three hours: its delivery's, its own and the picture's
    ids."""
    later = (datetime.now(STOCKHOLM) + timedelta(hours=3)).replace(tzinfo=None, microsecond=0)
    colour = tuple(uuid.uuid4().bytes[:3])
    with services.db.session() as session:
        media = store_image(session, services.settings.instance_path, picture(color=colour),
                            name="affisch.png", user_id=None)
        post = create_post(session, session.get(User, user.id), PostDraft(
            text="Hej Värmland!", account_ids=[account.id], scheduled_local=later,
            media=[DraftImage(media.id, "Affisch för stormötet")]))
        return post.deliveries[0].id, post.id, media.id


def import_file(account_name: str) -> bytes:
    """A file of one post to import, due the day after tomorrow."""
    when = datetime.now(STOCKHOLM) + timedelta(days=2)
    return f"konto;tid;text\n{account_name};{when:%Y-%m-%d} 12:00;Importerat\n".encode()


def previewed_import(services, user: User, account: Account) -> int:
    with services.db.session() as session:
        return preview_import(session, session.get(User, user.id), import_file(account.name),
                              "inlagg.csv", media_root=services.settings.instance_path).id


@pytest.fixture
def world(db: Database, services, make_user, make_account, make_org) -> World:
    x, _ = make_account(Platform.X)
    facebook, _ = make_account(Platform.FACEBOOK)
    with db.session() as session:  # its posts wait for approval (publisher.approval)
        session.get(Account, x.id).needs_approval = True
    delivery_id, post_id, media_id = queue_picture_post(services, make_user(Role.COMMS), x)
    directory = SandboxDirectory(services.platforms.sandbox_url)
    tag = uuid.uuid4().hex[:8]
    with db.session() as session:
        district_id = district(session).id
    return World(district_id=district_id, x=x, facebook=facebook, delivery_id=delivery_id,
                 post_id=post_id, media_id=media_id,
                 new_x=directory.create_account("x", f"Ny X {tag}"),
                 new_facebook=directory.create_account("facebook", f"Ny sida {tag}"),
                 monitor=monitored(db), user_id=make_user(Role.BOARD).id, event_id=evented(db),
                 import_id=previewed_import(services, make_user(Role.COMMS), x),
                 campaign=campaigned(db, make_account(Platform.X, organisation=make_org())[0],
                                    media_id))


def routes(app: Flask, world: World, *, public: bool = False) -> Iterator[Route]:
    """Every rule and method of the app (OPTIONS is answered by Flask itself)."""
    values = world.url_values()
    for rule in app.url_map.iter_rules():
        if (rule.endpoint in PUBLIC) != public or is_api(rule.endpoint):
            continue
        missing = rule.arguments - values.keys()
        assert not missing, f"give {rule.rule} a sample value for {missing} in World.url_values"
        with app.test_request_context():
            path = url_for(rule.endpoint, **{a: values[a] for a in rule.arguments})
        for method in sorted((rule.methods or set()) - {"OPTIONS"}):
            data = world.form(rule.endpoint) if method == "POST" else {}
            route = Route(rule.endpoint, method, path, data)
            assert public or route.key in ALLOWED, f"classify {route} in ALLOWED"
            yield route


def ordered(found: Iterator[Route]) -> list[Route]:
    order = list(ALLOWED)
    return sorted(found, key=lambda r: order.index(r.key))


def send(client: FlaskClient, route: Route, token: str | None) -> TestResponse:
    data = dict(route.data)
    if token is not None and route.method == "POST":
        data["csrf_token"] = token
    return client.open(route.path, method=route.method, data=data)


def snapshot(db: Database) -> dict[str, list[str]]:
    """Every row of every table, to show that a refused request changed nothing."""
    with db.engine.connect() as conn:
        tables = [t for t in inspect(conn).get_table_names() if t != "alembic_version"]
        return {t: sorted(repr(tuple(row)) for row in conn.execute(text(f'SELECT * FROM "{t}"')))
                for t in tables}


def sandbox_has(services, name: str) -> bool:
    url = f"{services.platforms.sandbox_url}/sandbox/api/accounts/{name}"
    return requests.get(url, timeout=10).status_code == 200


def redirects_to_login(response: TestResponse) -> bool:
    return response.status_code == 302 and urlsplit(response.location).path == "/login"


def test_every_route_is_classified(app: Flask):
    seen = {(r.endpoint, "GET" if m == "HEAD" else m)
            for r in app.url_map.iter_rules() if r.endpoint not in PUBLIC and not is_api(r.endpoint)
            for m in (r.methods or set()) - {"OPTIONS"}}
    assert seen == set(ALLOWED), "classify new routes in ALLOWED (or PUBLIC) and drop stale ones"


def test_anonymous_never_reaches_a_view(app, db, services, world):
    client = app.test_client()
    token = csrf_token(client, "/login")
    before = snapshot(db)
    for route in routes(app, world):
        assert redirects_to_login(send(client, route, token)), route
        assert snapshot(db) == before, route
    assert not sandbox_has(services, world.sandbox_name)


SECURITY_HEADERS = {"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
                    "Referrer-Policy": "same-origin"}


def has_security_headers(response: TestResponse) -> bool:
    """Issue 14, finding 1: a CSP without inline script or style that allows the report's
    data: URI charts and forbids framing, and the other headers, on every answer."""
    policy = dict(part.strip().partition(" ")[::2]
                  for part in response.headers.get("Content-Security-Policy", "").split(";"))
    return (all(response.headers.get(k) == v for k, v in SECURITY_HEADERS.items())
            and policy.get("script-src") == "'self'" and policy.get("style-src") == "'self'"
            and policy.get("img-src") == "'self' data: blob:"
            and policy.get("frame-ancestors") == "'none'"
            and "Strict-Transport-Security" not in response.headers)  # plain http here


def test_every_page_an_admin_opens_carries_the_security_headers(app, logged_in, world):
    client, _ = logged_in(Role.ADMIN)
    gets = [r for r in routes(app, world) if r.method == "GET"]
    assert len(gets) > 20
    for route in gets:
        response = client.get(route.path)
        assert response.status_code == 200, route
        assert has_security_headers(response), (route, response.headers)
    anonymous = app.test_client()
    for path in ("/login", "/password/forgot", "/reset/not-a-token", "/static/megafon.css",
                 "/healthz", "/favicon.ico", "/no-such-page"):
        assert has_security_headers(anonymous.get(path)), path


def test_public_routes_are_only_login_language_static_and_health(app, world):
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    assert client.get("/healthz/publishing").status_code == 200  # nothing is late
    assert client.get("/login").status_code == 200
    assert client.get("/static/megafon.css").status_code == 200
    assert {r.endpoint for r in routes(app, world, public=True)} == PUBLIC


@pytest.mark.parametrize("role", [Role.COMMS, Role.CAMPAIGN_LEAD, Role.BOARD])
def test_role_is_refused_what_it_may_not_do(role, app, db, services, logged_in, world):
    client, _ = logged_in(role)
    token = csrf_token(client, "/")
    before = snapshot(db)
    refused = [r for r in routes(app, world) if role not in ALLOWED[r.key]]
    assert refused
    for route in refused:
        assert send(client, route, token).status_code == 403, route
        assert snapshot(db) == before, route
    assert not sandbox_has(services, world.sandbox_name)


def test_the_refusals_match_what_each_role_is_for(app, world):
    def refused(role: Role) -> set[str]:
        return {str(r) for r in routes(app, world) if role not in ALLOWED[r.key]}

    board, lead, comms = refused(Role.BOARD), refused(Role.CAMPAIGN_LEAD), refused(Role.COMMS)
    for path in ("GET /compose", "POST /compose", "POST /accounts/connect/x",
                 f"POST /accounts/{world.facebook.id}/disconnect",
                 f"POST /deliveries/{world.delivery_id}/cancel", "GET /admin/users",
                 "POST /admin/users", "GET /admin/report-mail", "POST /admin/report-mail"):
        assert path in board
    assert {"GET /admin/users", "POST /admin/users", "GET /admin/report-mail",
            "POST /admin/report-mail"} <= comms & lead
    assert "POST /accounts/connect/sandbox" in lead - comms
    mention = world.monitor.mention_id
    assert {f"POST /mentions/{mention}/triage", f"POST /mentions/{mention}/respond",
            f"GET /mentions/{mention}/reply", f"POST /mentions/{mention}/reply",
            "GET /sources", "POST /sources/new", "GET /watchlists", "POST /watchlists/test",
            "POST /clippings/new", "GET /people"} <= board
    assert {"GET /sources", "POST /watchlists/new", "POST /clippings/new"} <= lead - comms
    assert not {f"POST /mentions/{mention}/triage", f"POST /mentions/{mention}/respond",
                "GET /mentions", "POST /alerts"} & (lead | comms)
    assert not {"GET /mentions", f"GET /mentions/{mention}", "POST /alerts"} & board
    assert refused(Role.ADMIN) == set()


@pytest.mark.parametrize("role", list(Role))
def test_role_may_use_what_it_is_allowed(role, app, db, logged_in, world):
    client, _ = logged_in(role)
    token = csrf_token(client, "/")
    for route in ordered(r for r in routes(app, world) if role in ALLOWED[r.key]):
        before = snapshot(db)
        response = send(client, route, token)
        if route.method == "POST" and route.endpoint not in ANSWERS_IN_PLACE:
            assert response.status_code == 302, (route, response.get_data(as_text=True))
            assert route.endpoint not in SAVES or snapshot(db) != before, route
        else:
            assert response.status_code == 200, route
    assert redirects_to_login(client.get("/"))  # the last allowed route was logging out


# --- Organisations: an association's users reach only their own association's accounts --------


@dataclass
class Associations:
    own: Organisation
    other: Organisation
    own_account: Account
    other_account: Account
    other_delivery_id: int
    other_post_id: int
    other_media_id: int


@pytest.fixture
def associations(services, make_org, make_user, make_account) -> Associations:
    own, other = make_org(), make_org()
    own_account, _ = make_account(Platform.X, organisation=own)
    other_account, _ = make_account(Platform.FACEBOOK, organisation=other)
    delivery_id, post_id, media_id = queue_picture_post(services, make_user(Role.ADMIN),
                                                        other_account)
    return Associations(own, other, own_account, other_account, delivery_id, post_id, media_id)


def delivery_state(db: Database, delivery_id: int) -> DeliveryState:
    with db.session() as session:
        return session.get(Delivery, delivery_id).state


def account_active(db: Database, account_id: int) -> bool:
    with db.session() as session:
        return session.get(Account, account_id).active


def compose_to(client: FlaskClient, token: str, account: Account) -> TestResponse:
    return client.post("/compose", data={"text": "Hej föreningen!", "accounts": [account.id],
                                         "csrf_token": token})


def sees(client: FlaskClient, a: Associations) -> dict[str, bool]:
    """Whether the other association's account and delivery show up, page by page."""
    return {
        "overview": f'data-delivery="{a.other_delivery_id}"' in client.get("/").text,
        "delivery": client.get(f"/deliveries/{a.other_delivery_id}").status_code == 200,
        "accounts": a.other_account.name in client.get("/accounts/").text,
        "compose": f'value="{a.other_account.id}"' in client.get("/compose").text,
        "picture": client.get(f"/media/{a.other_media_id}").status_code == 200,
    }


@pytest.mark.parametrize("role", [Role.COMMS, Role.CAMPAIGN_LEAD])
def test_association_user_cannot_see_another_associations_accounts(role, logged_in,
                                                                   associations):
    client, _ = logged_in(role, organisation=associations.own)
    assert sees(client, associations) == dict.fromkeys(sees(client, associations), False)
    assert client.get(f"/deliveries/{associations.other_delivery_id}").status_code == 404
    assert client.get(f"/media/{associations.other_media_id}").status_code == 404
    assert associations.own_account.name in client.get("/accounts/").text


@pytest.mark.parametrize("role", [Role.COMMS, Role.CAMPAIGN_LEAD])
def test_association_user_cannot_act_on_another_associations_accounts(role, db, logged_in,
                                                                      associations):
    a = associations
    client, _ = logged_in(role, organisation=a.own)
    token = csrf_token(client, "/")
    before = snapshot(db)
    assert compose_to(client, token, a.other_account).status_code == 403
    for action in ("cancel", "requeue"):
        assert client.post(f"/deliveries/{a.other_delivery_id}/{action}",
                           data={"csrf_token": token}).status_code == 403
    assert client.post(f"/accounts/{a.other_account.id}/disconnect",
                       data={"csrf_token": token}).status_code == 403
    assert client.get(f"/posts/{a.other_post_id}/edit").status_code == 404
    assert client.post(f"/posts/{a.other_post_id}/edit",
                       data={"text": "Intrång", "csrf_token": token}).status_code == 404
    assert snapshot(db) == before
    assert delivery_state(db, a.other_delivery_id) is DeliveryState.SCHEDULED
    assert account_active(db, a.other_account.id)
    assert compose_to(client, token, a.own_account).status_code == 302  # its own: fine


def test_association_user_cannot_connect_an_account_for_another_association(
        db, services, logged_in, associations):
    client, _ = logged_in(Role.COMMS, organisation=associations.own)
    name = f"Intrång {uuid.uuid4().hex[:6]}"
    response = client.post("/accounts/connect/sandbox", data={
        "sb-platform": "x", "sb-name": name, "sb-organisation_id": associations.other.id,
        "csrf_token": csrf_token(client, "/accounts/")})
    assert response.status_code in (400, 403)
    assert count(db, Account) == 2 and not sandbox_has(services, name)


@pytest.mark.parametrize("role", [Role.COMMS, Role.CAMPAIGN_LEAD])
def test_district_user_sees_posts_to_cancels_and_requeues_for_every_association(role, db, logged_in,
                                                                       associations):
    a = associations
    client, _ = logged_in(role)  # no organisation: the district
    assert sees(client, a) == dict.fromkeys(sees(client, a), True)
    token = csrf_token(client, "/")
    assert compose_to(client, token, a.other_account).status_code == 302
    assert count(db, Post) == 2
    assert client.post(f"/deliveries/{a.other_delivery_id}/cancel",
                       data={"csrf_token": token}).status_code == 302
    assert delivery_state(db, a.other_delivery_id) is DeliveryState.CANCELLED
    assert client.post(f"/deliveries/{a.other_delivery_id}/requeue",
                       data={"csrf_token": token}).status_code == 302
    assert delivery_state(db, a.other_delivery_id) is DeliveryState.SCHEDULED


def test_district_comms_user_disconnects_an_associations_account(db, logged_in, associations):
    client, _ = logged_in(Role.COMMS)
    response = client.post(f"/accounts/{associations.other_account.id}/disconnect",
                           data={"csrf_token": csrf_token(client, "/")})
    assert response.status_code == 302
    assert not account_active(db, associations.other_account.id)


# --- CSRF: a POST without a valid token is refused before any view runs -----------------------


@pytest.mark.parametrize("token", [None, "forged-token"], ids=["missing", "forged"])
def test_post_without_a_valid_csrf_token_is_refused_and_saves_nothing(token, app, db, services,
                                                                      logged_in, world):
    client, _ = logged_in(Role.ADMIN)
    client.post("/language/en", data={"csrf_token": csrf_token(client, "/")})
    before = snapshot(db)
    posts = [r for r in [*routes(app, world), *routes(app, world, public=True)]
             if r.method == "POST"]
    assert {r.endpoint for r in posts} >= {"auth.login", "auth.language", "auth.logout"}
    for route in posts:
        response = send(client, route, token)
        assert response.status_code == 400, route
        assert "The form had expired" in response.text, route
        assert snapshot(db) == before, route
    assert client.get("/").status_code == 200  # logging out without a token did not log out
    assert not sandbox_has(services, world.sandbox_name)


def test_login_without_csrf_token_does_not_log_in(client, make_user):
    user = make_user(Role.COMMS)
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert redirects_to_login(client.get("/"))
    login(client, user)  # and with the token it works
    assert client.get("/").status_code == 200


"""Swedish demo data for `make run`: the district and its local associations, and media
monitoring of the sandbox's (fictional) regional news."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.models import Event, EventKind, Municipality
from core.auth import district
from core.clock import local_to_utc, to_local, utcnow
from core.i18n import ValidationErrors
from core.users import Organisation, OrganisationKind, Role, User
from monitor.models import Person, Priority, Source, SourceKind, Watchlist
from monitor.own import mark_own_mentions
from publisher.accounts import connect_account
from publisher.adapters.base import PlatformError
from publisher.adapters.sandbox_directory import SandboxDirectory
from publisher.models import Account, Platform, Post
from publisher.posts import PostDraft, create_post
from publisher.services import Services
from sandbox import demo_news

log = logging.getLogger(__name__)

DISTRICT = "Vänsterpartiet Värmland"
ASSOCIATIONS = (
    "Vänsterpartiet Karlstad", "Vänsterpartiet Arvika", "Vänsterpartiet Kristinehamn",
    "Vänsterpartiet Säffle", "Vänsterpartiet Torsby", "Vänsterpartiet Hagfors",
    "Vänsterpartiet Kil",
)


def seed_organisations(session: Session) -> Organisation:
    """Idempotent: running it again adds only what is missing."""
    root = district(session)
    if root.name == "Distriktet":
        root.name = DISTRICT
    existing = set(session.scalars(select(Organisation.name)))
    for name in ASSOCIATIONS:
        if name not in existing:
            session.add(Organisation(name=name, kind=OrganisationKind.ASSOCIATION, parent=root))
    session.flush()
    link_municipalities(session)
    return root


# --- events ---------------------------------------------------------------------------------

# (title, kind, days ahead, start, hours, organiser, municipality, place, partners, public, link)
DEMO_EVENTS = (
    ("Valkonferens", EventKind.ELECTION_CONFERENCE, 30, (10, 0), 7, DISTRICT, "Karlstad",
     "Folkets hus, Karlstad", "", False, "https://example.org/valkonferens"),
    ("Vänsterskolan: Vad är socialism?", EventKind.COURSE, 10, (18, 30), 2,
     "Vänsterpartiet Kil", "Kil", "Studieförbundets lokal, Kil", "ABF Värmland", False, None),
    ("Föredrag: Välfärden och vi som bär den", EventKind.LECTURE, 20, (18, 0), 2,
     "Vänsterpartiet Arvika", "Arvika", "Arvika bibliotek", "Kommunal Värmland", True,
     "https://example.org/foredrag-arvika"),
)


def seed_events(session: Session) -> None:
    """A valkonferens, a Vänsterskolan course and a public talk with a union, and each
    association's municipality. Idempotent; events only on a database that has none."""
    organisations = {o.name: o for o in session.scalars(select(Organisation))}
    municipalities = {m.name: m for m in session.scalars(select(Municipality))}
    for name, organisation in organisations.items():
        town = name.removeprefix("Vänsterpartiet ")
        if town in municipalities and municipalities[town].organisation_id is None:
            municipalities[town].organisation_id = organisation.id
    if session.scalar(select(Event.id).limit(1)) is not None:
        return
    today = to_local(utcnow()).date()
    for (title, kind, days, (hour, minute), hours, organiser, town, place, partners, public,
         link) in DEMO_EVENTS:
        if organiser not in organisations:
            continue
        start = local_to_utc(datetime.combine(today + timedelta(days=days), time(hour, minute)))
        session.add(Event(title=title, kind=kind, starts_at=start,
                          ends_at=start + timedelta(hours=hours),
                          organiser_id=organisations[organiser].id, place=place,
                          municipality_id=municipalities[town].id if town in municipalities
                          else None, partners=partners, public=public, link=link))


def link_municipalities(session: Session) -> None:
    """Each demo association covers the municipality it is named after (Vänsterpartiet Kil:
    Kil), where no association is set yet; the other nine are left for central visits."""
    associations = {o.name: o for o in session.scalars(select(Organisation).where(
        Organisation.kind == OrganisationKind.ASSOCIATION))}
    for place in session.scalars(select(Municipality).where(
            Municipality.organisation_id.is_(None))):
        association = associations.get(f"Vänsterpartiet {place.name}")
        if association is not None and association.name in ASSOCIATIONS:
            place.organisation_id = association.id
    session.flush()


# --- media monitoring ---------------------------------------------------------------------

# The district's current issues (aktuella frågor) and the four profile areas.
WATCHLISTS = (
    ("Kollektivtrafik i Värmland",
     'kollektivtrafik* OR busstrafik* OR busslinje* OR "Värmlandstrafik" OR tåg*', Priority.HIGH),
    ("Vården i Arvika", "(vård* OR sjukhus* OR akut*) AND Arvika", Priority.HIGH),
    ("Socialism: välfärd och bostäder",
     "välfärd* OR privatiser* OR allmännytt* OR hyreshöjning* OR hyresgäst* OR äldreomsorg*",
     Priority.NORMAL),
    ("Feminism och jämställdhet",
     'feminis* OR jämställd* OR kvinnojour* OR "mäns våld" OR lönegap*', Priority.NORMAL),
    ("Miljö och klimat",
     'miljö* OR klimat* OR vindkraft* OR kalhygg* OR "biologisk mångfald" OR Klarälven',
     Priority.NORMAL),
    ("Antirasism", 'rasis* OR antirasis* OR "hets mot folkgrupp" OR integration* OR diskriminer*',
     Priority.NORMAL),
    ("Skolan", "skol* OR lärare* OR lärarbrist*", Priority.NORMAL),
    ("Budget och skatt", "budget* OR skattehöjning* OR underskott*", Priority.NORMAL),
)
FEED_INTERVAL = 60
API_INTERVAL = 120


def _demo_sources(base: str, social: dict[str, str] | None) -> list[dict[str, Any]]:
    sources: list[dict[str, Any]] = []
    for name, (title, outlet) in demo_news.OUTLETS.items():
        if name == "an-demo":  # no feed: read through its section page
            sources.append(dict(name=f"{title} – Arvika", kind=SourceKind.PAGE, outlet=outlet,
                                url=f"{base}/sandbox/news/section/{name}",
                                interval_seconds=API_INTERVAL))
        else:
            sources.append(dict(name=title, kind=SourceKind.FEED, outlet=outlet,
                                url=f"{base}/sandbox/feeds/{name}.xml",
                                interval_seconds=FEED_INTERVAL))
    if social:
        sources.append(dict(name=f"X: {social['x_query']} (demo)", kind=SourceKind.X_SEARCH,
                            outlet="X", url=None, interval_seconds=API_INTERVAL,
                            config=json.dumps({"query": social["x_query"],
                                               "account": f"x:{social['x_account']}"})))
        sources.append(dict(name=f"Facebook: kommentarer hos {social['facebook_page']}",
                            kind=SourceKind.FB_COMMENTS, outlet="Facebook", url=None,
                            interval_seconds=API_INTERVAL,
                            config=json.dumps({"account": f"facebook:{social['facebook_page']}"},
                                              ensure_ascii=False)))
    return sources


def seed_monitoring(session: Session, sandbox_url: str) -> None:
    """Sources reading the sandbox's demo news, tweets and comments, the district's watchlists
    and its (fictional) people. Idempotent; a source's address follows the sandbox's port."""
    base = sandbox_url.rstrip("/")
    try:
        response = requests.post(f"{base}/sandbox/api/demo/social", timeout=10)
        response.raise_for_status()
        social: dict[str, str] | None = response.json()
    except (requests.RequestException, ValueError) as exc:
        log.warning("no demo tweets and comments: the sandbox at %s did not answer (%s)",
                    base, exc)
        social = None
    existing = {s.name: s for s in session.scalars(select(Source))}
    for values in _demo_sources(base, social):
        source = existing.get(values["name"])
        if source is None:
            session.add(Source(**values))
        elif source.url != values["url"]:
            source.url = values["url"]
            source.etag = source.last_modified = source.cursor = None
    known = set(session.scalars(select(Watchlist.name)))
    for name, query, priority in WATCHLISTS:
        if name not in known:
            session.add(Watchlist(name=name, query=query, priority=priority))
    people = set(session.scalars(select(Person.name)))
    for name, aliases, party, title in demo_news.PEOPLE:
        if name not in people:
            session.add(Person(name=name, aliases=aliases, party=party, title=title))
    session.flush()


# --- publishing ---------------------------------------------------------------------------

# (platform, account name in the sandbox and in Megafon, organisation). The district's Page is
# the one whose demo comments the monitor reads.
DEMO_ACCOUNTS = (
    (Platform.FACEBOOK, demo_news.FACEBOOK_PAGE, DISTRICT),
    (Platform.X, "Vänsterpartiet Värmland på X (demo)", DISTRICT),
    (Platform.FACEBOOK, "Vänsterpartiet Karlstad (demo)", "Vänsterpartiet Karlstad"),
    (Platform.FACEBOOK, "Vänsterpartiet Arvika (demo)", "Vänsterpartiet Arvika"),
)


@dataclass(frozen=True)
class DemoPost:
    text: str
    accounts: tuple[str, ...]
    days: int  # from today, in Stockholm; with `at` (HH, MM) or else `minutes` from now
    at: tuple[int, int] | None = None
    minutes: int = 0
    link: str | None = None
    thread: tuple[str, ...] = ()
    first_comment: str | None = None


DEMO_POSTS = (
    DemoPost("Vänsterskolan kommer till Värmland! Grundkursen i vår politik hålls på lördag "
             "kl 10 på distriktsexpeditionen i Karlstad. Alla medlemmar är välkomna – anmäl dig "
             "till din partiförening.",
             (demo_news.FACEBOOK_PAGE, "Vänsterpartiet Värmland på X (demo)"), days=0, minutes=2,
             link="https://varmland.vansterpartiet.se/"),
    DemoPost("Torgmöte på Stora torget i Karlstad kl 12 i dag. Kom och prata kollektivtrafik "
             "med oss: bussarna ska gå även på landsbygden!",
             ("Vänsterpartiet Karlstad (demo)",), days=1, at=(9, 30)),
    DemoPost("Akuten i Arvika ska vara kvar. Vi samlar namn för en trygg vård nära dig – skriv "
             "på listan och dela med dina vänner.",
             ("Vänsterpartiet Arvika (demo)",), days=2, at=(18, 30),
             first_comment="Namninsamlingen finns på varmland.vansterpartiet.se – tack för att "
                           "du skriver på!"),
    DemoPost("Vad ska Vänsterpartiet Värmland driva i valet 2014? Vi skriver vår valplattform "
             "nu och vill höra vad du tycker. En tråd:",
             ("Vänsterpartiet Värmland på X (demo)",), days=3, at=(19, 0),
             thread=("1. Välfärd utan vinstjakt: skattepengar ska gå till vård, skola och omsorg.",
                     "2. Kollektivtrafik i hela Värmland, inte bara i Karlstad.",
                     "3. Svara oss här eller kom till valkonferensen i vår!")),
)


def seed_publishing(session: Session, services: Services) -> None:
    """Sandbox accounts for the district and two associations, connected through the real
    path, and a few queued posts (the first goes out two minutes after start) so a new user
    sees a post through. Idempotent; posts only on a database that has none."""
    admin = session.scalar(select(User).where(User.role == Role.ADMIN).order_by(User.id))
    if admin is None or not services.platforms.sandbox_url:
        return
    directory = SandboxDirectory(services.platforms.sandbox_url)
    organisations = {o.name: o for o in session.scalars(select(Organisation))}
    known = {(a.platform, a.name): a for a in session.scalars(select(Account))}
    accounts: dict[str, Account] = {}
    for platform, name, organisation in DEMO_ACCOUNTS:
        account = known.get((platform, name))
        if account is None and organisation in organisations:
            try:
                credentials = directory.create_account(platform.value, name)
                account = connect_account(
                    session, box=services.box, platforms=services.platforms, user=admin,
                    platform=platform, name=name,
                    organisation_id=organisations[organisation].id, credentials=credentials)
                mark_own_mentions(session, account.id)
            except (PlatformError, ValidationErrors) as exc:
                log.warning("demo account %s not connected: %s", name, exc)
                continue
        if account is not None:
            accounts[name] = account
    if session.scalar(select(Post.id).limit(1)) is not None:
        return
    today = to_local(utcnow()).replace(tzinfo=None, second=0, microsecond=0)
    for post in DEMO_POSTS:
        if not all(name in accounts for name in post.accounts):
            continue
        day = today + timedelta(days=post.days)
        when: datetime = (day.replace(hour=post.at[0], minute=post.at[1]) if post.at
                          else day + timedelta(minutes=post.minutes))
        create_post(session, admin, PostDraft(
            text=post.text, link=post.link, account_ids=[accounts[n].id for n in post.accounts],
            scheduled_local=when, thread=list(post.thread), first_comment=post.first_comment))
    session.flush()

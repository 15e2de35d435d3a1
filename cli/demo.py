"""Swedish demo data for `make run`: the district and its local associations, and media
monitoring of the sandbox's (fictional) regional news."""

from __future__ import annotations

import json
import logging
from typing import Any

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth import district
from core.users import Organisation, OrganisationKind
from monitor.models import Person, Priority, Source, SourceKind, Watchlist
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
    return root


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

"""Builders for the dedupe, mention and alert tests: sources, watchlists, items, a matcher built
the way the poller builds it, and a few Värmland news stories with their copies."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime

from sqlalchemy import func, select

from core.db import Database
from monitor.items import Item
from monitor.matcher import Matcher
from monitor.mentions import ingest, ingest_and_alert
from monitor.models import (
    Mention,
    Person,
    Priority,
    Sighting,
    Source,
    SourceKind,
    Watchlist,
)
from monitor.query import parse

AKUTEN = (
    "Regionen föreslår att stänga akutmottagningen i Arvika nattetid från och med mars. "
    "Beslutet kritiseras hårt av oppositionen.\n\n"
    "– Det här är ett svek mot alla som bor i västra Värmland, säger Vänsterpartiets "
    "regionråd Anna Svensson.\n\n"
    "Enligt förslaget ska patienter i stället åka till Karlstad, en resa på över sju mil. "
    "Socialdemokraterna vill vänta med beslutet. Regionstyrelsen fattar beslut den 12 februari."
)
# The same story as a sister paper runs it: new headline, a word changed, a clause added.
AKUTEN_SISTER = (
    "Regionen föreslår att stänga akuten i Arvika nattetid från och med mars. "
    "Beslutet kritiseras hårt av oppositionen.\n\n"
    "– Det här är ett svek mot alla som bor i västra Värmland, säger Vänsterpartiets "
    "regionråd Anna Svensson till Arvika Nyheter.\n\n"
    "Enligt förslaget ska patienter i stället åka till Karlstad, en resa på över sju mil. "
    "Socialdemokraterna vill vänta med beslutet. Regionstyrelsen fattar beslut den 12 februari."
)
# A different story on the same issue, with the same places and people.
AKUTEN_PROTEST = (
    "Vänsterpartiet kräver att akutmottagningen i Arvika hålls öppen dygnet runt. Partiet "
    "samlade på lördagen in över tusen namn på torget i Arvika.\n\n"
    "– Folk är oroliga på riktigt, säger Anna Svensson. Många har inte bil och kommer inte "
    "till Karlstad mitt i natten.\n\n"
    "Regionen har föreslagit nattstängning från mars. Beslut tas i regionstyrelsen i februari."
)
BUSSEN = (
    "Värmlandstrafik höjer priset på månadskortet med tio procent från årsskiftet. Samtidigt "
    "dras flera turer in på landsbygden, bland annat mellan Torsby och Hagfors.\n\n"
    "Kollektivtrafiknämnden säger att det är nödvändigt för att klara budgeten."
)
SKOLAN = (
    "Arvika kommun vill lägga ner byskolan i Glava till hösten. Föräldrarna har startat ett "
    "upprop och säger att barnen får en timmes bussresa varje dag.\n\n"
    "Barn- och utbildningsnämnden behandlar frågan i april efter en remissrunda."
)


def make_source(db: Database, outlet: str = "NWT", kind: SourceKind = SourceKind.FEED,
                url: str | None = None, **values: object) -> Source:
    with db.session() as session:
        source = Source(name=f"{outlet} {uuid.uuid4().hex[:6]}", kind=kind, outlet=outlet,
                        url=url or f"https://{outlet.lower().replace(' ', '')}.se/rss",
                        **values)
        session.add(source)
        session.flush()
        return source


def make_watchlist(db: Database, query: str, priority: Priority = Priority.NORMAL,
                   name: str | None = None, active: bool = True) -> Watchlist:
    parse(query)  # a bad query fails here, not somewhere in the matcher
    with db.session() as session:
        watchlist = Watchlist(name=name or f"Fråga {uuid.uuid4().hex[:6]}", query=query,
                              priority=priority, active=active)
        session.add(watchlist)
        session.flush()
        return watchlist


def make_person(db: Database, name: str, aliases: str = "", party: str = "V") -> Person:
    with db.session() as session:
        person = Person(name=name, aliases=aliases, party=party)
        session.add(person)
        session.flush()
        return person


def matcher_for(db: Database) -> Matcher:
    """The matcher of every active watchlist and every person, as the poller builds it."""
    with db.session() as session:
        watchlists = [(w.id, parse(w.query)) for w in session.scalars(
            select(Watchlist).where(Watchlist.active.is_(True)))]
        people = [(p.id, [p.name] + [a.strip() for a in p.aliases.splitlines() if a.strip()])
                  for p in session.scalars(select(Person))]
    return Matcher.build(watchlists, people)


def story(key: str, title: str, text: str, url: str | None = None, outlet: str = "NWT",
          published_at: datetime | None = None,
          kind: SourceKind = SourceKind.FEED) -> Item:
    return Item(item_key=key, url=url, title=title, text=text, published_at=published_at,
                outlet=outlet, source_kind=kind)


def copy_of(item: Item, **changes: object) -> Item:
    return replace(item, **changes)


def run(db: Database, source: Source | None, items: list[Item], *, now: datetime | None = None,
        alert: bool = False, matcher: Matcher | None = None) -> list[int]:
    """One poll's batch through ingest (or ingest_and_alert), committed."""
    with db.session() as session:
        fresh = session.get(Source, source.id) if source is not None else None
        do = ingest_and_alert if alert else ingest
        return do(session, fresh, items, matcher or matcher_for(db), now=now)


def mentions(db: Database) -> list[Mention]:
    with db.session() as session:
        found = list(session.scalars(select(Mention).order_by(Mention.id)))
        for mention in found:
            _ = (mention.sightings, mention.watchlists, mention.party_rows,
                 mention.person_rows)  # loaded for use after the session
        return found


def sightings(db: Database) -> list[Sighting]:
    with db.session() as session:
        return list(session.scalars(select(Sighting).order_by(Sighting.id)))


def count(db: Database, model: type) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0

"""Mentions for the web tests, stored through the real path: watchlists and people in the
database, their queries parsed, the matcher built, and the stories ingested (monitor.mentions).

Nothing is fetched: the stories come as items from no source (as clippings do), each with the
outlet and source kind it would have had.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select

from core.clock import STOCKHOLM, utcnow
from core.db import Database
from monitor.items import Item
from monitor.matcher import Matcher
from monitor.mentions import ingest
from monitor.models import Mention, Person, Priority, SourceKind, Watchlist
from monitor.query import parse

TRANSPORT_QUERY = "kollektivtrafik* OR busslinje* OR bussar"
CARE_QUERY = "vårdcentral* OR akutmottagning*"


@dataclass(frozen=True)
class Story:
    key: str
    outlet: str
    kind: SourceKind
    title: str
    text: str
    days_ago: int  # published that many Stockholm days before today…
    at: tuple[int, int] = (9, 0)  # …at this Stockholm wall-clock time


STORIES = (
    Story("lines", "NWT", SourceKind.FEED, "Tre busslinjer dras in i Karlstad",
          "Värmlandstrafik drar in tre busslinjer från januari. Vänsterpartiet kritiserar "
          "beslutet och Anna Lind kräver att kollektivtrafiken på landsbygden byggs ut i "
          "stället. Pendlare i Molkom och Kil får längre resor till jobbet.", 0, (8, 15)),
    Story("fare", "VF", SourceKind.PAGE, "Moderaterna vill höja taxan i kollektivtrafiken",
          "Moderaterna i regionen föreslår att månadskortet blir dyrare nästa år. "
          "Socialdemokraterna är tveksamma, men säger att kollektivtrafiken måste bära sina "
          "egna kostnader.", 1, (14, 30)),
    Story("clinic", "P4 Värmland", SourceKind.MANUAL, "Vårdcentralen i Torsby kan stänga",
          "Regionen utreder att stänga vårdcentralen i Torsby. Vänsterpartiet och "
          "Socialdemokraterna vill behålla den, Sverigedemokraterna vill vänta på "
          "utredningen.", 2, (0, 30)),  # 00:30 Stockholm is still the day before in UTC
    Story("hockey-away", "NWT", SourceKind.FEED, "Färjestad tog bussar till bortamatchen",
          "Färjestads hockey åkte bussar hela vägen till Luleå. Matchen slutade 3–2 efter "
          "förlängning och supportrarna firade.", 3),
    Story("hockey-final", "SVT Värmland", SourceKind.FEED, "Fyrtio bussar rullade mot finalen",
          "Fyrtio bussar med fans av hockey rullade mot Stockholm inför finalen. Supportrarna "
          "sjöng efter segern.", 4),
)


@dataclass
class Seeded:
    transport_id: int
    care_id: int
    person_id: int
    mentions: dict[str, int] = field(default_factory=dict)  # story key -> mention id

    def url_of(self, key: str) -> str:
        return f"https://example.org/{key}"


def published(story: Story, today: date | None = None) -> datetime:
    day = (today or datetime.now(STOCKHOLM).date()) - timedelta(days=story.days_ago)
    return datetime(day.year, day.month, day.day, *story.at, tzinfo=STOCKHOLM)


def stockholm_day(story: Story) -> date:
    return published(story).date()


def seed_mentions(db: Database, stories: tuple[Story, ...] = STORIES,
                  now: datetime | None = None) -> Seeded:
    """Two issues (transport, high priority; care), one person, and the stories ingested."""
    tag = uuid.uuid4().hex[:4]
    with db.session() as session:
        transport = Watchlist(name=f"Kollektivtrafik {tag}", query=TRANSPORT_QUERY,
                              priority=Priority.HIGH)
        care = Watchlist(name=f"Vården {tag}", query=CARE_QUERY)
        person = Person(name="Anna Lind", aliases="", party="V")
        session.add_all([transport, care, person])
        session.flush()
        matcher = Matcher.build(
            [(w.id, parse(w.query)) for w in (transport, care)],
            people=[(person.id, [person.name])])
        items = [Item(item_key=f"https://example.org/{s.key}", url=f"https://example.org/{s.key}",
                      title=s.title, text=s.text, published_at=published(s), outlet=s.outlet,
                      source_kind=s.kind) for s in stories]
        ingest(session, None, items, matcher, now=now or utcnow())
        by_url = {m.url: m.id for m in session.scalars(select(Mention))}
        return Seeded(transport.id, care.id, person.id,
                      {s.key: by_url[f"https://example.org/{s.key}"] for s in stories})

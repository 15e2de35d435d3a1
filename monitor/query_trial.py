"""Trying a query before saving it: what it would have found among recent mentions.

The query is compiled into a one-watchlist matcher (monitor.matcher) and run over the stored
mentions of the last days and the titles of their other copies, so the person writing it sees
the real stories it catches, with the matched words marked, and not a guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from core.clock import utcnow
from monitor.highlight import SEPARATOR, Segment, document, highlight
from monitor.matcher import Matcher
from monitor.models import Mention, Sighting
from monitor.query import parse


@dataclass
class TrialHit:
    """Something recent that the query finds: a stored mention, or another copy of it."""

    mention: Mention
    sighting: Sighting | None
    doc: str
    hits: list  # matcher Hits into doc

    @property
    def title_segments(self) -> list[Segment]:
        title = self.sighting.title if self.sighting else self.mention.title
        return highlight(self.doc, self.hits, 0, len(title or ""))

    @property
    def excerpt_segments(self) -> list[Segment]:
        if self.sighting:
            return []
        body = len(self.mention.title or "") + len(SEPARATOR)
        return highlight(self.doc, self.hits, body, len(self.doc), 240)


MAX_TEXTS = 5000  # the newest stories a trial reads, to keep it quick


def try_query(session: Session, query_text: str, days: int = 30, limit: int = 50,
              now: datetime | None = None) -> tuple[list[TrialHit], int]:
    """What the query finds among the last ``days`` days of stored mentions (title and text) and
    their other copies (titles): the finds, newest first, and how many texts were searched.

    Raises monitor.query.QueryError (with the position) for a malformed query.
    """
    matcher = Matcher.build([(0, parse(query_text))], people=[], parties=False)
    since = (now or utcnow()) - timedelta(days=days)
    mentions = session.scalars(
        select(Mention).where(Mention.first_seen_at >= since)
        .options(selectinload(Mention.sightings))
        .order_by(Mention.first_seen_at.desc(), Mention.id.desc()).limit(MAX_TEXTS)).all()
    found: list[TrialHit] = []
    searched = 0
    for mention in mentions:
        doc = document(mention.title, mention.text)
        searched += 1
        result = matcher.match(doc)
        if 0 in result.watchlist_ids:
            found.append(TrialHit(mention, None, doc, list(result.hits)))
        else:
            titles = {mention.title}
            for sighting in mention.sightings:
                if not sighting.title or sighting.title in titles:
                    continue
                titles.add(sighting.title)
                sighted = document(sighting.title, "")
                searched += 1
                result = matcher.match(sighted)
                if 0 in result.watchlist_ids:
                    found.append(TrialHit(mention, sighting, sighted, list(result.hits)))
                    break
        if len(found) >= limit:
            break
    return found, searched

"""The mention log as people use it: find mentions, read them with the matched words marked,
triage them, answer them, and learn from the ones that were not relevant.

No Flask here: the web layer calls these and shows the results. Messages are msgids (N_).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Generic, TypeVar

from sqlalchemy import Select, case, exists, func, literal, or_, select
from sqlalchemy.orm import Session, selectinload

from core.auth import Action, can
from core.clock import STOCKHOLM, utcnow
from core.i18n import N_, UserError, ValidationErrors
from core.users import User
from monitor.models import Mention, MentionWatchlist, Sighting, SourceKind, Triage, Watchlist

# Mention.hits are offsets into the title and the text joined like this (monitor.mentions).
SEPARATOR = "\n\n"
T = TypeVar("T")


class NotAllowed(PermissionError):
    """The user's role may not do this (the web layer answers 403)."""


def document(title: str, text: str) -> str:
    """The text a mention was matched against: what Mention.hits point into."""
    return f"{title or ''}{SEPARATOR}{text or ''}"


# --- Finding mentions ---------------------------------------------------------------------------


@dataclass
class MentionFilter:
    """What the log is narrowed to; None (or empty) means any."""

    watchlist_id: int | None = None
    party: str | None = None  # a party code such as "V" or "SD"
    person_id: int | None = None
    outlet: str | None = None
    source_kind: SourceKind | None = None
    date_from: date | None = None  # Stockholm calendar days, both inclusive
    date_to: date | None = None
    triage: Triage | None = None
    assignee_id: int | None = None
    text: str | None = None  # words in the title or text

    @property
    def active(self) -> bool:
        return any(value not in (None, "") for value in vars(self).values())


@dataclass
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def stockholm_day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC moments a Stockholm calendar day starts and ends (23 or 25 hours around DST)."""
    start = datetime.combine(day, time(0), tzinfo=STOCKHOLM)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=STOCKHOLM)
    return start.astimezone(UTC), end.astimezone(UTC)


def _listed(column, value: str):  # noqa: ANN001, ANN202 - a SQL expression either way
    """A comma-separated column (``"V,S,M"``) that contains exactly this value."""
    return (literal(",") + column + literal(",")).like(f"%,{value},%")


def when(mention: Mention) -> datetime:
    """A mention's time: the outlet's publication time, else when Megafon first saw it."""
    return mention.published_at or mention.first_seen_at


def _filtered(filters: MentionFilter) -> Select[tuple[Mention]]:
    query = select(Mention)
    happened = func.coalesce(Mention.published_at, Mention.first_seen_at)
    if filters.watchlist_id:
        query = query.where(exists().where(MentionWatchlist.mention_id == Mention.id,
                                           MentionWatchlist.watchlist_id == filters.watchlist_id))
    if filters.party:
        query = query.where(_listed(Mention.parties, filters.party.strip().upper()))
    if filters.person_id:
        query = query.where(_listed(Mention.people, str(int(filters.person_id))))
    if filters.outlet:
        query = query.where(Mention.outlet == filters.outlet)
    if filters.source_kind:
        query = query.where(Mention.source_kind == filters.source_kind)
    if filters.date_from:
        query = query.where(happened >= stockholm_day_bounds(filters.date_from)[0])
    if filters.date_to:
        query = query.where(happened < stockholm_day_bounds(filters.date_to)[1])
    if filters.triage:
        query = query.where(Mention.triage == filters.triage)
    if filters.assignee_id:
        query = query.where(Mention.assigned_to_id == filters.assignee_id)
    for word in (filters.text or "").split()[:8]:
        pattern = f"%{_escape_like(word)}%"
        query = query.where(or_(Mention.title.ilike(pattern, escape="\\"),
                                Mention.text.ilike(pattern, escape="\\")))
    return query


def _escape_like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


ORDERS = ("time", "arrival")  # by the time shown (published, else first seen); by arrival


def search(session: Session, user: User, filters: MentionFilter, page: int = 1,
           per_page: int = 25, order: str = "time") -> Page[Mention]:
    """One page of the mentions the filters let through, newest first: by the time shown
    (``"time"``: published, else first seen) or by when Megafon first saw them (``"arrival"``,
    so a story found late still comes first)."""
    if not can(user, Action.VIEW_MENTIONS):
        raise NotAllowed("role may not read the mention log")
    per_page = max(1, min(per_page, 200))
    query = _filtered(filters)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = max(1, min(page, pages))
    newest = (Mention.first_seen_at.desc() if order == "arrival"
              else func.coalesce(Mention.published_at, Mention.first_seen_at).desc())
    items = session.scalars(
        query.options(selectinload(Mention.watchlists), selectinload(Mention.sightings))
        .order_by(newest, Mention.id.desc())
        .limit(per_page).offset((page - 1) * per_page)).all()
    return Page(list(items), total, page, per_page)


def outlets(session: Session) -> list[str]:
    """Every outlet that has a mention, for the filter's choices."""
    found = session.scalars(select(Mention.outlet).where(Mention.outlet != "").distinct())
    return sorted(found, key=str.casefold)


def parties(session: Session) -> list[str]:
    """Every party code found in a mention, for the filter's choices."""
    codes: set[str] = set()
    for listed in session.scalars(select(Mention.parties).where(Mention.parties != "").distinct()):
        codes.update(code.strip() for code in listed.split(",") if code.strip())
    return sorted(codes)


def watchlist_names(session: Session, mentions: Iterable[Mention]) -> dict[int, list[str]]:
    """The issue names of each mention, by mention id."""
    ids = {mw.watchlist_id for m in mentions for mw in m.watchlists}
    names = dict(session.execute(select(Watchlist.id, Watchlist.name)
                                 .where(Watchlist.id.in_(ids))).all()) if ids else {}
    return {m.id: sorted((names[mw.watchlist_id] for mw in m.watchlists
                          if mw.watchlist_id in names), key=str.casefold) for m in mentions}


@dataclass
class WatchlistStats:
    mentions: int = 0
    untriaged: int = 0
    last_seen_at: datetime | None = None


def watchlist_stats(session: Session) -> dict[int, WatchlistStats]:
    """Per issue: how many mentions, how many still to triage, and the newest one's time."""
    rows = session.execute(
        select(MentionWatchlist.watchlist_id, func.count(),
               func.sum(case((Mention.triage == Triage.NEW, 1), else_=0)),
               func.max(Mention.first_seen_at))
        .join(Mention, Mention.id == MentionWatchlist.mention_id)
        .group_by(MentionWatchlist.watchlist_id)).all()
    return {wid: WatchlistStats(total, int(new or 0), last) for wid, total, new, last in rows}


def listed(value: str) -> list[str]:
    """The items of a comma-separated column."""
    return [part.strip() for part in (value or "").split(",") if part.strip()]


# --- Highlights -------------------------------------------------------------------------------

Segment = tuple[str, bool]


def parse_hits(raw: str | list | None) -> list[tuple[int, int]]:
    """(start, end) pairs from Mention.hits JSON (or a list of hits), sorted, overlaps merged."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw or "[]")
        except ValueError:
            return []
    spans: list[tuple[int, int]] = []
    for hit in raw or []:
        start = hit.get("start") if isinstance(hit, dict) else getattr(hit, "start", None)
        end = hit.get("end") if isinstance(hit, dict) else getattr(hit, "end", None)
        if isinstance(start, int) and isinstance(end, int) and 0 <= start < end:
            spans.append((start, end))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _segments(doc: str, spans: Sequence[tuple[int, int]], lo: int, hi: int) -> list[Segment]:
    out: list[Segment] = []
    at = lo
    for start, end in spans:
        start, end = max(start, lo), min(end, hi)
        if end <= start:
            continue
        if start > at:
            out.append((doc[at:start], False))
        out.append((doc[start:end], True))
        at = end
    if at < hi:
        out.append((doc[at:hi], False))
    return out


def highlight(doc: str, hits: str | list | None, lo: int = 0, hi: int | None = None,
              width: int | None = None) -> list[Segment]:
    """The part of ``doc`` between lo and hi as segments, the matched words marked.

    With ``width``, only about that many characters are kept: a window around the first match
    (or the start), cut at word boundaries, with "…" where text was left out.
    """
    hi = len(doc) if hi is None else min(hi, len(doc))
    spans = [s for s in parse_hits(hits) if s[1] <= len(doc)]
    if width is None or hi - lo <= width:
        return _segments(doc, spans, lo, hi)
    inside = [s for s in spans if lo <= s[0] < hi]
    start = lo
    if inside:
        start = max(lo, inside[0][0] - width // 3)
        if start > lo:  # begin at a word, not in the middle of one
            space = doc.find(" ", start, inside[0][0])
            start = space + 1 if space != -1 else start
    end = min(hi, start + width)
    if end < hi:
        space = doc.rfind(" ", start + width // 2, end)
        end = space if space != -1 else end
    segments = _segments(doc, spans, start, end)
    if start > lo:
        segments.insert(0, ("…", False))
    if end < hi:
        segments.append(("…", False))
    return segments


def title_with_highlights(mention: Mention) -> list[Segment]:
    return highlight(document(mention.title, mention.text), mention.hits, 0, len(mention.title))


def excerpt_with_highlights(mention: Mention, width: int = 280) -> list[Segment]:
    """A stretch of the mention's text around its first match, the matched words marked."""
    doc = document(mention.title, mention.text)
    body = len(mention.title or "") + len(SEPARATOR)
    return highlight(doc, mention.hits, body, len(doc), width)


def text_with_highlights(mention: Mention) -> list[Segment]:
    doc = document(mention.title, mention.text)
    return highlight(doc, mention.hits, len(mention.title or "") + len(SEPARATOR), len(doc))


def matched_terms(mention: Mention) -> list[str]:
    """The words that matched, as written in the mention, each once."""
    doc = document(mention.title, mention.text)
    seen = dict.fromkeys(doc[s:e].strip().casefold() for s, e in parse_hits(mention.hits))
    return [term for term in seen if term]


# --- Triage and responses ---------------------------------------------------------------------


class _Keep:
    def __repr__(self) -> str:
        return "KEEP"


KEEP = _Keep()  # triage(): leave this part as it is


def get_mention(session: Session, user: User, mention_id: int) -> Mention | None:
    if not can(user, Action.VIEW_MENTIONS):
        raise NotAllowed("role may not read the mention log")
    return session.get(Mention, mention_id)


def triage(session: Session, user: User, mention_id: int, state: Triage | str | None = None,
           note: str | None | _Keep = KEEP, assignee_id: int | None | _Keep = KEEP,
           now: datetime | None = None) -> Mention:
    """Mark a mention relevant or not, assign it to someone, write a note (any of them)."""
    if not can(user, Action.TRIAGE_MENTIONS):
        raise NotAllowed("role may not triage mentions")
    mention = session.get(Mention, mention_id)
    if mention is None:
        raise LookupError(mention_id)
    errors: list[UserError] = []
    if state is not None:
        try:
            state = Triage(state)
        except ValueError:
            errors.append(UserError(N_("Choose relevant, not relevant or new."), field="state"))
    if not isinstance(note, _Keep):
        note = (note or "").strip() or None
        if note and len(note) > 4000:
            errors.append(UserError(N_("The note is too long: %(count)s of %(limit)s characters."),
                                    field="note", count=len(note), limit=4000))
    if not isinstance(assignee_id, _Keep) and assignee_id is not None:
        assignee = session.get(User, assignee_id)
        if assignee is None or not assignee.active or not can(assignee, Action.TRIAGE_MENTIONS):
            errors.append(UserError(N_("Assign the mention to someone who may handle mentions."),
                                    field="assignee_id"))
    if errors:
        raise ValidationErrors(errors)
    if isinstance(state, Triage):
        mention.triage = state
    if not isinstance(note, _Keep):
        mention.note = note
    if not isinstance(assignee_id, _Keep):
        mention.assigned_to_id = assignee_id
    mention.updated_at = now or utcnow()
    session.flush()
    return mention


def assignees(session: Session) -> list[User]:
    """Who a mention can be assigned to: active users whose role handles mentions."""
    users = session.scalars(select(User).where(User.active.is_(True)).order_by(User.name)).all()
    return [u for u in users if can(u, Action.TRIAGE_MENTIONS)]


def link_response(session: Session, mention_id: int, post_id: int,
                  now: datetime | None = None) -> None:
    """The post answers the mention; answering something makes it relevant."""
    mention = session.get(Mention, mention_id)
    if mention is None:
        return
    mention.response_post_id = post_id
    if mention.triage is Triage.NEW:
        mention.triage = Triage.RELEVANT
    mention.updated_at = now or utcnow()
    session.flush()


QUOTE_MAX = 160


def response_prefill(mention: Mention) -> tuple[str, str | None]:
    """Text and link to start an answer with: a short quote from the mention and its outlet."""
    doc = document(mention.title, mention.text)
    body_start = len(mention.title or "") + len(SEPARATOR)
    spans = [s for s in parse_hits(mention.hits) if s[0] >= body_start and s[1] <= len(doc)]
    quote = ""
    if spans:  # the sentence with the first match in the text
        start, end = spans[0]
        left = max(doc.rfind(". ", body_start, start), doc.rfind("\n", body_start, start))
        left = body_start if left == -1 or left < body_start else left + 1
        right = doc.find(". ", end)
        right = len(doc) if right == -1 else right + 1
        quote = doc[left:right].strip()
    quote = quote or (mention.title or "").strip() or (mention.text or "").strip()
    quote = " ".join(quote.split())
    if len(quote) > QUOTE_MAX:
        cut = quote.rfind(" ", 0, QUOTE_MAX)
        quote = quote[:cut if cut > QUOTE_MAX // 2 else QUOTE_MAX].rstrip(" ,;:") + "…"
    outlet = mention.outlet.strip() if mention.outlet else ""
    text = f"“{quote}”" + (f" ({outlet})" if outlet else "") + "\n\n"
    return text, mention.url


# --- Learning from "not relevant" -------------------------------------------------------------

# Common Swedish words that say nothing about a topic; with short words ignored, this is enough.
STOPWORDS = frozenset({
    "alla", "allt", "andra", "annan", "annat", "också", "efter", "eller", "enligt", "inför",
    "innan", "inte", "kommer", "kunde", "mellan", "mycket", "många", "måste", "när", "nästa",
    "några", "något", "sade", "sedan", "sina", "sitt", "skall", "skulle", "säger", "sägs", "till",
    "under", "utan", "vara", "varit", "vilka", "vilket", "vill", "även", "över", "därför",
    "detta", "dessa", "denna", "deras", "hans", "hennes", "blir", "blev", "bara", "både", "hade",
    "hela", "helt", "inga", "ingen", "inget", "just", "kanske", "kommun", "kommunen", "samma",
    "själv", "står", "säga", "tror", "fler", "flera", "första", "senaste", "stora", "stort",
    "större", "genom", "redan", "dock", "medan",
})
WORD = re.compile(r"[^\W\d_]{4,}", re.UNICODE)


@dataclass
class Suggestion:
    word: str
    not_relevant: int  # in how many not-relevant mentions of the issue the word occurs
    examples: list[str] = field(default_factory=list)  # a few of those mentions' titles


def _words(text: str) -> set[str]:
    return {w for w in (m.group().casefold() for m in WORD.finditer(text or ""))
            if w not in STOPWORDS}


def suggested_not_terms(session: Session, watchlist_id: int, limit: int = 5,
                        min_mentions: int = 2) -> list[Suggestion]:
    """Words that keep turning up in the issue's not-relevant mentions and never in its
    relevant ones: candidates for a NOT in the query.

    A word counts once per mention, must occur in at least ``min_mentions`` not-relevant
    mentions, and is left out if any relevant mention has it or the query already names it.
    """
    watchlist = session.get(Watchlist, watchlist_id)
    if watchlist is None:
        return []
    rows = session.execute(
        select(Mention.title, Mention.text, Mention.triage)
        .join(MentionWatchlist, MentionWatchlist.mention_id == Mention.id)
        .where(MentionWatchlist.watchlist_id == watchlist_id,
               Mention.triage.in_([Triage.RELEVANT, Triage.NOT_RELEVANT]))
        .order_by(Mention.first_seen_at.desc()).limit(500)).all()
    relevant: set[str] = set()
    counts: Counter[str] = Counter()
    examples: dict[str, list[str]] = {}
    for title, text, state in rows:
        words = _words(f"{title} {text}")
        if state is Triage.RELEVANT:
            relevant |= words
            continue
        counts.update(words)
        for word in words:
            examples.setdefault(word, []).append(title)
    in_query = {w.casefold().rstrip("*") for w in re.findall(r"[^\W_]+\*?", watchlist.query)}
    found = [Suggestion(word, n, examples[word][:3]) for word, n in counts.items()
             if n >= min_mentions and word not in relevant
             and not any(word.startswith(q) for q in in_query if q)]
    found.sort(key=lambda s: (-s.not_relevant, s.word))
    return found[:limit]


# --- Testing a query --------------------------------------------------------------------------


@dataclass
class QueryTestHit:
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


TEST_MAX_TEXTS = 5000  # the newest stories a query test reads, to keep it quick


def test_query(session: Session, query_text: str, days: int = 30, limit: int = 50,
               now: datetime | None = None) -> tuple[list[QueryTestHit], int]:
    """What the query finds among the last ``days`` days of stored mentions (title and text) and
    their other copies (titles): the finds, newest first, and how many texts were searched.

    Raises monitor.query.QueryError (with the position) for a malformed query.
    """
    from monitor.matcher import Matcher
    from monitor.query import parse

    matcher = Matcher.build([(0, parse(query_text))], people=[], parties=False)
    since = (now or utcnow()) - timedelta(days=days)
    mentions = session.scalars(
        select(Mention).where(Mention.first_seen_at >= since)
        .options(selectinload(Mention.sightings))
        .order_by(Mention.first_seen_at.desc(), Mention.id.desc()).limit(TEST_MAX_TEXTS)).all()
    found: list[QueryTestHit] = []
    searched = 0
    for mention in mentions:
        doc = document(mention.title, mention.text)
        searched += 1
        result = matcher.match(doc)
        if 0 in result.watchlist_ids:
            found.append(QueryTestHit(mention, None, doc, list(result.hits)))
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
                    found.append(QueryTestHit(mention, sighting, sighted, list(result.hits)))
                    break
        if len(found) >= limit:
            break
    return found, searched


test_query.__test__ = False  # type: ignore[attr-defined]  # not a pytest test

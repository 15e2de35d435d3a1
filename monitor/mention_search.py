"""Finding mentions: the log's filters, its pages and the counts beside it.

The filters are one SQL query (nothing is filtered in Python), so a page costs the same whether
the log holds a hundred mentions or a hundred thousand. Days are Stockholm calendar days, as the
reader means them, turned into UTC bounds here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Generic, TypeVar

from sqlalchemy import Select, case, exists, func, literal, or_, select
from sqlalchemy.orm import Session, selectinload

from core.auth import Action, require
from core.clock import STOCKHOLM
from core.users import User
from monitor.models import Mention, MentionWatchlist, SourceKind, Triage, Watchlist

T = TypeVar("T")


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


def search(session: Session, user: User, filters: MentionFilter, page: int = 1,
           per_page: int = 25, order: str = "time") -> Page[Mention]:
    """One page of the mentions the filters let through, newest first: by the time shown
    (``"time"``: published, else first seen) or by when Megafon first saw them (``"arrival"``,
    so a story found late still comes first)."""
    require(user, Action.VIEW_MENTIONS)
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


def get_mention(session: Session, user: User, mention_id: int) -> Mention | None:
    """One mention, for someone who may read the log; None if there is no such mention."""
    require(user, Action.VIEW_MENTIONS)
    return session.get(Mention, mention_id)


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

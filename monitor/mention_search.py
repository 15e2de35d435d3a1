"""Finding mentions: the log's filters, its pages and the counts beside it.

The filters are one SQL query (nothing is filtered in Python), each served by an index whose
order is the log's (see `Filtered`), so a page costs the same whether the log holds a hundred
mentions or a million; pages are keyset pages (`Position`), and the count stops at a threshold.
Days are Stockholm calendar days, as the reader means them, turned into UTC bounds here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, case, exists, func, literal, select, tuple_
from sqlalchemy.orm import Session, defer, selectinload

from core.auth import Action, require
from core.clock import STOCKHOLM
from core.db import UTCDateTime, on_postgres
from core.users import User
from monitor import fulltext
from monitor.models import (
    Mention,
    MentionParty,
    MentionPerson,
    MentionWatchlist,
    Outlet,
    Person,
    SourceKind,
    Triage,
    Watchlist,
)
from monitor.parties import CODES

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
    text: str | None = None  # a search (monitor.fulltext: Swedish, the watchlists' syntax)
    # Our own accounts' posts (monitor.own): None shows them with the rest (marked), "hide"
    # leaves them out, "only" shows nothing else.
    own: str | None = None

    @property
    def active(self) -> bool:
        return any(value not in (None, "") for value in vars(self).values())


# Up to this many matches the log counts exactly; beyond, it estimates (and says so).
EXACT_COUNT_UP_TO = 10_000
# Where the planner's estimate alone is trusted (a misestimate of five times is rare).
ESTIMATE_ONLY_ABOVE = 5 * EXACT_COUNT_UP_TO


class BadCursor(ValueError):
    """A page link whose position cannot be read (edited by hand, or from another version)."""


@dataclass(frozen=True)
class Position:
    """Where a page starts or ends in the log's order: a time and an id (the keyset)."""

    at: datetime
    id: int

    def token(self) -> str:
        """URL-safe: microseconds since the epoch and the id."""
        return f"{round(self.at.timestamp() * 1_000_000)}_{self.id}"

    @classmethod
    def parse(cls, token: str) -> Position:
        stamp, sep, ident = token.partition("_")
        try:
            if (not sep or not stamp.lstrip("-").isdigit() or not ident.isdigit()
                    or len(ident) > 18):  # ids are 64-bit
                raise ValueError(token)
            at = datetime.fromtimestamp(int(stamp) / 1_000_000, UTC)
        except (ValueError, OverflowError, OSError) as exc:
            raise BadCursor(token) from exc
        return cls(at, int(ident))


@dataclass(frozen=True)
class Count:
    """How many mentions match: exact up to EXACT_COUNT_UP_TO, else the planner's estimate
    (PostgreSQL) or only the bound (SQLite)."""

    value: int
    exact: bool


@dataclass
class Page(Generic[T]):
    """One page of the log and the positions to page on from: `older` (the next page down) and
    `newer` (back up), None where there is nothing more that way."""

    items: list[T]
    total: Count
    per_page: int
    older: Position | None = None
    newer: Position | None = None
    # Ranked results ("relevance") page by offset instead: where this page starts, and where
    # the next and the previous start (None: no such page).
    offset: int | None = None
    next_offset: int | None = None
    previous_offset: int | None = None


# Days outside these are taken as these: no mention is older or newer, and year 0001 or 9999
# would overflow on the way to UTC (a typed or edited link must not become a 500).
EARLIEST_DAY, LATEST_DAY = date(1900, 1, 1), date(9000, 1, 1)


def stockholm_day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC moments a Stockholm calendar day starts and ends (23 or 25 hours around DST)."""
    day = min(max(day, EARLIEST_DAY), LATEST_DAY)
    start = datetime.combine(day, time(0), tzinfo=STOCKHOLM)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=STOCKHOLM)
    return start.astimezone(UTC), end.astimezone(UTC)


def when(mention: Mention) -> datetime:
    """A mention's time: the outlet's publication time, else when Megafon first saw it."""
    return mention.published_at or mention.first_seen_at


@dataclass(frozen=True)
class Filtered:
    """The filtered query and the two columns its order is read from, newest first.

    With an issue, person or party filter and the "time" order, the query is driven by that
    link table: joined on its primary key with the value fixed (so no mention can come twice)
    and ordered by its own copy of the time, (sort_at, mention_id) — one backward range scan
    of its (value, sort_at, mention_id) index, which stops after a page. These are equal to
    Mention.sort_at and Mention.id by construction, so the order is the log's order. Anything
    that pages on from a row (a keyset) must compare these columns, not Mention's, to stay on
    the index.
    """

    query: Select[tuple[Mention]]
    sort_at: ColumnElement[datetime]
    id: ColumnElement[int]

    def ordered(self) -> Select[tuple[Mention]]:
        return self.query.order_by(self.sort_at.desc(), self.id.desc())


def _links(filters: MentionFilter) -> list[tuple[Any, Any, object]]:
    """The link-table filters (table, its value column, the value), the likely most selective
    first: one person, one issue, one party."""
    links: list[tuple[Any, Any, object]] = []
    if filters.person_id:
        links.append((MentionPerson, MentionPerson.person_id, int(filters.person_id)))
    if filters.watchlist_id:
        links.append((MentionWatchlist, MentionWatchlist.watchlist_id, int(filters.watchlist_id)))
    if filters.party:
        links.append((MentionParty, MentionParty.party, filters.party.strip().upper()))
    return links


ORDERS = ("time", "arrival", "relevance")
OWN_HIDDEN, OWN_ONLY = "hide", "only"  # MentionFilter.own
# Ranked results are paged by offset (a rank is no keyset), as far as this many.
MOST_RANKED = 1000


def filtered(filters: MentionFilter, order: str = "time", *, postgres: bool = False
             ) -> Filtered:
    """The mentions the filters let through, as one query, and the columns of its order:
    ``"time"`` (published, else first seen), ``"arrival"`` (first seen) or, with a search,
    ``"relevance"`` (best match first). A search that cannot be read raises
    monitor.query.QueryError (where and why). `postgres` picks the full-text index's dialect."""
    search = fulltext.parse_search(filters.text) if filters.text else None
    query = select(Mention)
    links = _links(filters)
    if order == "relevance" and search is not None:
        query, score = fulltext.ranked(query, search, Mention.id, postgres=postgres)
        search = None  # ranked() has narrowed the query already
        sort_at, id_ = score, Mention.id  # type: ignore[assignment]
        happened = Mention.sort_at
    elif order == "arrival":
        sort_at, id_ = Mention.first_seen_at, Mention.id
        happened: ColumnElement[datetime] = Mention.sort_at
    elif links:
        driver, column, value = links.pop(0)
        query = query.join(driver, driver.mention_id == Mention.id).where(column == value)
        sort_at, id_ = driver.sort_at, driver.mention_id
        happened = driver.sort_at
    else:
        sort_at, id_ = Mention.sort_at, Mention.id
        happened = Mention.sort_at
    for table, column, value in links:
        query = query.where(exists().where(table.mention_id == Mention.id, column == value))
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
    if filters.own == OWN_HIDDEN:
        query = query.where(Mention.own_account_id.is_(None))
    elif filters.own == OWN_ONLY:  # the partial index ix_mentions_own_sort_at, in order
        query = query.where(Mention.own_account_id.is_not(None))
    if search is not None:
        query = query.where(fulltext.condition(search, Mention.id, postgres=postgres))
    return Filtered(query, sort_at, id_)


def search(session: Session, user: User, filters: MentionFilter, *, per_page: int = 25,
           order: str = "time", older_than: Position | None = None,
           newer_than: Position | None = None, on_or_before: date | None = None,
           offset: int = 0) -> Page[Mention]:
    """One page of the mentions the filters let through, newest first: by the time shown
    (``"time"``: published, else first seen) or by when Megafon first saw them (``"arrival"``,
    so a story found late still comes first); with a search also best match first
    (``"relevance"``, paged by `offset` up to MOST_RANKED results).

    Time pages are keyset pages: the page after `older_than`, the one before `newer_than`, or
    the first on or before a Stockholm day (`on_or_before`, the deep jump). Each is one range
    scan of an index in the log's order that stops after a page, however deep, and mentions
    that arrive meanwhile neither repeat nor hide a row on the next page.

    A search that cannot be read raises monitor.query.QueryError, before any query runs.
    """
    require(user, Action.VIEW_MENTIONS)
    per_page = max(1, min(per_page, 200))
    if order not in ORDERS or (order == "relevance" and not filters.text):
        order = "time"
    found = filtered(filters, order, postgres=on_postgres(session))
    options = (defer(Mention.signature),  # a kilobyte a row the log never shows
               selectinload(Mention.watchlists), selectinload(Mention.sightings),
               selectinload(Mention.party_rows), selectinload(Mention.person_rows))
    if order == "relevance":
        offset = max(0, min(offset, MOST_RANKED - per_page))
        items = list(session.scalars(found.ordered().options(*options)
                                     .offset(offset).limit(per_page + 1)))
        more = len(items) > per_page and offset + per_page < MOST_RANKED
        return Page(items[:per_page], count(session, found), per_page, offset=offset,
                    next_offset=offset + per_page if more else None,
                    previous_offset=max(0, offset - per_page) if offset else None)
    if on_or_before is not None and older_than is None and newer_than is None:
        older_than = Position(stockholm_day_bounds(on_or_before)[1], 0)
    rows = list(session.execute(
        page_query(found, older_than=older_than, newer_than=newer_than)
        .options(*options).limit(per_page + 1)).all())
    more = len(rows) > per_page
    rows = rows[:per_page]
    if newer_than is not None:
        rows.reverse()
    items = [row[0] for row in rows]
    first = Position(rows[0][1], rows[0][2]) if rows else None
    last = Position(rows[-1][1], rows[-1][2]) if rows else None
    if newer_than is not None:
        newer, older = (first if more else None), last
    else:
        newer, older = (first if older_than is not None else None), (last if more else None)
    return Page(items, count(session, found), per_page, older=older, newer=newer)


def page_query(found: Filtered, *, older_than: Position | None = None,
               newer_than: Position | None = None) -> Select[Any]:
    """The rows after `older_than` (newest first) or before `newer_than` (oldest first, to be
    turned round), with the order columns added: a row comparison on the same two columns the
    index is ordered by, so the scan starts at the position instead of counting up to it."""
    key = tuple_(found.sort_at, found.id)
    query = found.query.add_columns(found.sort_at, found.id)
    if newer_than is not None:
        return query.where(key > tuple_(literal(newer_than.at, UTCDateTime()),
                                        literal(newer_than.id))
                           ).order_by(found.sort_at.asc(), found.id.asc())
    if older_than is not None:
        query = query.where(key < tuple_(literal(older_than.at, UTCDateTime()),
                                         literal(older_than.id)))
    return query.order_by(found.sort_at.desc(), found.id.desc())


def count(session: Session, found: Filtered) -> Count:
    """Exact while small (a count that stops at the threshold, read from the same indexes);
    beyond it PostgreSQL's planner estimate, never a scan of everything that matches. When the
    planner expects far more than the threshold, its estimate is taken without counting: a
    common word's capped count alone would read ten thousand matches a page."""
    estimate = _planner_rows(session, found.query) if on_postgres(session) else None
    if estimate is not None and estimate > ESTIMATE_ONLY_ABOVE:
        return Count(estimate, False)
    capped = session.scalar(select(func.count()).select_from(
        found.query.limit(EXACT_COUNT_UP_TO + 1).subquery())) or 0
    if capped <= EXACT_COUNT_UP_TO:
        return Count(capped, True)
    return Count(max(estimate or 0, capped), False)


def _planner_rows(session: Session, query: Select[Any]) -> int | None:
    """The planner's row estimate of `query` (EXPLAIN, not run)."""
    compiled = query.with_only_columns(literal(1), maintain_column_froms=True).compile(
        dialect=session.get_bind().dialect)
    plan = session.connection().exec_driver_sql(
        "EXPLAIN (FORMAT JSON) " + str(compiled), compiled.params).scalar()
    try:
        return int((plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"]["Plan Rows"])
    except (ValueError, KeyError, IndexError, TypeError):
        return None


def get_mention(session: Session, user: User, mention_id: int) -> Mention | None:
    """One mention, for someone who may read the log; None if there is no such mention."""
    require(user, Action.VIEW_MENTIONS)
    return session.get(Mention, mention_id)


@dataclass(frozen=True)
class FilterChoices:
    """What the log's filter form offers: (id, name) of issues and people, outlet names."""

    watchlists: list[tuple[int, str]]
    people: list[tuple[int, str]]
    outlets: list[str]


def filter_choices(session: Session) -> FilterChoices:
    """The filter form's choices, from the small tables (three narrow queries, no objects)."""
    return FilterChoices(
        [(i, name) for i, name in session.execute(
            select(Watchlist.id, Watchlist.name).order_by(Watchlist.name))],
        [(i, name) for i, name in session.execute(
            select(Person.id, Person.name).order_by(Person.name))],
        outlets(session))


def outlets(session: Session) -> list[str]:
    """Every outlet that has had a mention, for the filter's choices: from the small outlets
    table that ingest fills, never from mentions."""
    return sorted(session.scalars(select(Outlet.name)), key=str.casefold)


def parties() -> list[str]:
    """The party codes the filter offers: the parliament's parties, in its order (a fixed
    list; reading which codes occur would cost a scan)."""
    return list(CODES)


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

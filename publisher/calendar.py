"""The publishing calendar: a week or a month of every account's posts, by Stockholm day, and
moving a post to another day or slot.

A day is a Stockholm calendar day (00:00 to 00:00 wall clock: 23 hours on the spring night,
25 on the autumn one); its edges are computed here in UTC, so a post belongs to the day its
Stockholm time falls on. The grid starts on a Monday. Posts are placed by their deliveries'
due time; a past post shows what became of it (its link, or that it failed) and its latest
numbers. Moving a post goes through `publisher.posts.edit_post`, with every check it makes: a
post out on any account, or being sent, is not moved.
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, joinedload

from core.auth import Action, require, scope_condition
from core.clock import STOCKHOLM, ensure_utc, local_to_utc, to_local
from core.clock import exists as wall_clock_exists
from core.entered_time import EnteredTime
from core.i18n import N_
from core.users import User
from publisher.deliveries import WAITING, can_edit
from publisher.metrics import PostMetric
from publisher.models import Account, Delivery, DeliveryState, Post
from publisher.posting_slots import PostingSlot
from publisher.posts import DraftImage, PostDraft, edit_post, post_for

WEEK, MONTH = "week", "month"
VIEWS = (WEEK, MONTH)
MONTHS = (N_("January"), N_("February"), N_("March"), N_("April"), N_("May"), N_("June"),
          N_("July"), N_("August"), N_("September"), N_("October"), N_("November"),
          N_("December"))


@dataclass(frozen=True)
class Grid:
    """The days shown, week by week from a Monday, and their edges in UTC."""

    view: str
    day: date  # the day asked for
    weeks: list[list[date]]
    start: datetime  # UTC: the first day's Stockholm midnight
    end: datetime  # UTC: the Stockholm midnight after the last day
    previous: date
    following: date

    @property
    def days(self) -> list[date]:
        return [day for week in self.weeks for day in week]

    def in_view(self, day: date) -> bool:
        """In the month asked for (a month's grid shows the neighbours' days too)."""
        return self.view == WEEK or (day.year, day.month) == (self.day.year, self.day.month)


def _midnight(day: date) -> datetime:
    """The UTC moment a Stockholm day begins (midnight always exists there: the clocks change
    at 02:00 and 03:00)."""
    return local_to_utc(datetime.combine(day, time()))


def grid(view: str, day: date) -> Grid:
    """The week (Monday to Sunday) or the month (whole weeks) around `day`."""
    if view == MONTH:
        first = day.replace(day=1)
        last = first.replace(day=monthrange(first.year, first.month)[1])
        start = first - timedelta(days=first.weekday())
        end = last + timedelta(days=6 - last.weekday())
        previous = (first - timedelta(days=1)).replace(day=1)
        following = last + timedelta(days=1)
    else:
        view = WEEK
        start = day - timedelta(days=day.weekday())
        end = start + timedelta(days=6)
        previous, following = day - timedelta(days=7), day + timedelta(days=7)
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    weeks = [days[n:n + 7] for n in range(0, len(days), 7)]
    return Grid(view, day, weeks, _midnight(start), _midnight(end + timedelta(days=1)),
                previous, following)


@dataclass(frozen=True)
class Filters:
    """What the calendar is narrowed to; None is everything in the reader's scope.
    `post_ids`: a campaign's posts (handed in by the caller: campaigns sit above publisher)."""

    account_id: int | None = None
    organisation_id: int | None = None
    state: DeliveryState | None = None
    author_id: int | None = None
    post_ids: Collection[int] | None = None


@dataclass
class Entry:
    """One post on one day: its deliveries there (narrowed by the filters), whether it can
    still be moved, and each published delivery's latest numbers."""

    post: Post
    at: datetime  # UTC: the earliest due time of its deliveries shown
    deliveries: list[Delivery] = field(default_factory=list)
    metrics: dict[int, PostMetric] = field(default_factory=dict)

    @property
    def local(self) -> datetime:
        return to_local(self.at)

    @property
    def movable(self) -> bool:
        return can_edit(self.post.deliveries)


def entries(session: Session, user: User, shown: Grid, filters: Filters = Filters()
            ) -> dict[date, list[Entry]]:
    """The posts of the grid's days, per Stockholm day, in time order (one query for the
    deliveries with their posts and accounts, one for the numbers)."""
    require(user, Action.VIEW_DASHBOARD)
    query = (select(Delivery).join(Account, Account.id == Delivery.account_id)
             .where(scope_condition(user, Account.organisation_id),
                    Delivery.due_at >= shown.start, Delivery.due_at < shown.end)
             .options(joinedload(Delivery.account),
                      joinedload(Delivery.post).selectinload(Post.deliveries))
             .order_by(Delivery.due_at, Delivery.post_id, Delivery.id))
    if filters.account_id is not None:
        query = query.where(Delivery.account_id == filters.account_id)
    if filters.organisation_id is not None:
        query = query.where(Account.organisation_id == filters.organisation_id)
    if filters.state is not None:
        query = query.where(Delivery.state == filters.state)
    if filters.author_id is not None:
        query = query.where(exists().where(Post.id == Delivery.post_id,
                                           Post.author_id == filters.author_id))
    if filters.post_ids is not None:
        query = query.where(Delivery.post_id.in_(list(filters.post_ids) or [-1]))
    found = list(session.scalars(query).unique())
    latest = _latest_metrics(session, [d.id for d in found
                                       if d.state is DeliveryState.PUBLISHED])
    days: dict[date, list[Entry]] = {}
    by_post: dict[tuple[int, date], Entry] = {}
    for delivery in found:
        due = ensure_utc(delivery.due_at)
        day = to_local(due).date()
        entry = by_post.get((delivery.post_id, day))
        if entry is None:
            entry = by_post[(delivery.post_id, day)] = Entry(delivery.post, due)
            days.setdefault(day, []).append(entry)
        entry.deliveries.append(delivery)
        if delivery.id in latest:
            entry.metrics[delivery.id] = latest[delivery.id]
    return days


def _latest_metrics(session: Session, delivery_ids: list[int]) -> dict[int, PostMetric]:
    if not delivery_ids:
        return {}
    latest: dict[int, PostMetric] = {}
    for metric in session.scalars(select(PostMetric)
                                  .where(PostMetric.delivery_id.in_(delivery_ids))
                                  .order_by(PostMetric.fetched_at, PostMetric.id)):
        latest[metric.delivery_id] = metric
    return latest


def day_slots(session: Session, shown: Grid, account_ids: Collection[int]) -> dict[date,
                                                                                  list[time]]:
    """The posting slots of the accounts on each day of the grid (the times the wall clock
    shows that day: a slot in the spring gap is left out), for dropping a post on."""
    minutes: dict[int, set[int]] = {}
    if account_ids:
        for slot in session.scalars(select(PostingSlot).where(
                PostingSlot.account_id.in_(list(account_ids)))):
            minutes.setdefault(slot.weekday, set()).add(slot.minute_of_day)
    found: dict[date, list[time]] = {}
    for day in shown.days:
        times = [time(m // 60, m % 60) for m in sorted(minutes.get(day.weekday(), ()))]
        found[day] = [t for t in times
                      if wall_clock_exists(datetime.combine(day, t), STOCKHOLM)]
    return found


def move_post(session: Session, user: User, post_id: int, to: EnteredTime,
              now: datetime | None = None) -> Post:
    """Move a post to another Stockholm time, as `edit_post` changes a post's time: the same
    scope, the same checks of the time (not past, not in the spring gap, the doubled autumn
    hour answered), refused once the post is out or going out on any account. Its words,
    pictures and the accounts still waiting stay as they are."""
    post = post_for(session, user, post_id)
    waiting = [d.account_id for d in post.deliveries if d.state in WAITING]
    draft = PostDraft(
        text=post.text, link=post.link, account_ids=waiting, entered_time=to,
        media=[DraftImage(m.media_id, m.alt_text, f"#{m.position}") for m in post.media],
        thread=[part.text for part in post.parts], first_comment=post.first_comment)
    return edit_post(session, user, post_id, draft, now)


def authors(session: Session, user: User) -> list[User]:
    """Whoever wrote a post on an account in the user's scope (the author filter's choices)."""
    require(user, Action.VIEW_DASHBOARD)
    wrote = exists().where(Post.author_id == User.id, Delivery.post_id == Post.id,
                           Account.id == Delivery.account_id,
                           scope_condition(user, Account.organisation_id))
    return list(session.scalars(select(User).where(wrote).order_by(User.name, User.id)))

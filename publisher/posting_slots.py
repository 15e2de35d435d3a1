"""Posting schedules: the times of the week (Stockholm wall clock) an account posts at, and the
next of them no post has taken yet.

The comms team sets an account's slots (Monday 08:00, Monday 12:30 …); the composer offers the
chosen accounts' next free slot. Slots are wall-clock times, so a slot is computed day by day in
Europe/Stockholm: on the spring night a slot in the hour the clocks skip does not happen (it is
passed over), and on the autumn night a slot in the doubled hour is its first occurrence (summer
time). A slot is taken when a post not cancelled or failed is due on the account in that minute.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta

from sqlalchemy import ForeignKey, SmallInteger, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.auth import Action, NotAllowed, require
from core.clock import STOCKHOLM, ensure_utc, exists, local_to_utc, to_local, utcnow
from core.db import Base, UTCDateTime
from core.entered_time import parse_time
from core.i18n import N_, UserError, ValidationErrors
from core.users import User
from publisher.accounts import get_account_for
from publisher.models import Delivery, DeliveryState

# Monday first, as the Swedish week; the names are msgids, translated by web/.
WEEKDAYS = (N_("Monday"), N_("Tuesday"), N_("Wednesday"), N_("Thursday"), N_("Friday"),
            N_("Saturday"), N_("Sunday"))
MAX_SLOTS = 7 * 24  # per account: one an hour, every hour of the week; a guard, not a plan
HORIZON_DAYS = 366  # how far ahead a free slot is looked for (a post is scheduled a year ahead)
NO_FREE_SLOT = N_("No free posting time for the chosen accounts: set their posting times under "
                  "Accounts, or type a time.")
# A post in these states does not hold its minute: it will not go out then.
NOT_TAKING = (DeliveryState.CANCELLED, DeliveryState.FAILED)


class PostingSlot(Base):
    """A time of the week an account posts at: weekday (0 = Monday) and minute of the day,
    Stockholm wall clock."""

    __tablename__ = "posting_slots"
    # also the index the schedule and the composer read an account's slots by
    __table_args__ = (UniqueConstraint("account_id", "weekday", "minute_of_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    weekday: Mapped[int] = mapped_column(SmallInteger)
    minute_of_day: Mapped[int] = mapped_column(SmallInteger)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def clock(self) -> time:
        return time(self.minute_of_day // 60, self.minute_of_day % 60)


def slots_for(session: Session, user: User, account_id: int) -> list[PostingSlot]:
    """An account's slots in the order of the week (NotAllowed outside the user's scope)."""
    require(user, Action.VIEW_DASHBOARD)
    get_account_for(session, user, account_id)
    return _slots(session, [account_id])


def _slots(session: Session, account_ids: Iterable[int]) -> list[PostingSlot]:
    return list(session.scalars(
        select(PostingSlot).where(PostingSlot.account_id.in_(list(account_ids)))
        .order_by(PostingSlot.weekday, PostingSlot.minute_of_day, PostingSlot.id)))


def add_slot(session: Session, user: User, account_id: int, weekday: str, clock: str
             ) -> PostingSlot:
    """A new slot for the account, from the form's weekday (0–6) and time (TT:MM)."""
    account = get_account_for(session, user, account_id)
    require(user, Action.MANAGE_ACCOUNTS, account.organisation_id)
    errors: list[UserError] = []
    day = int(weekday) if weekday.strip().isdigit() and int(weekday) < 7 else None
    if day is None:
        errors.append(UserError(N_("Choose a weekday."), field="weekday"))
    at = parse_time(clock or "")
    if at is None:
        errors.append(UserError(
            N_("Write the time as HH:MM on a 24-hour clock, e.g. 14:30.") if (clock or "").strip()
            else N_("Give a time, as HH:MM on a 24-hour clock."), field="time"))
    if errors or day is None or at is None:
        raise ValidationErrors(errors)
    minute = at.hour * 60 + at.minute
    existing = _slots(session, [account_id])
    if any(s.weekday == day and s.minute_of_day == minute for s in existing):
        raise ValidationErrors([UserError(N_("The account already has that time."),
                                          field="time")])
    if len(existing) >= MAX_SLOTS:
        raise ValidationErrors([UserError(N_("An account can have at most %(limit)s times a "
                                             "week."), field="time", limit=MAX_SLOTS)])
    slot = PostingSlot(account_id=account_id, weekday=day, minute_of_day=minute,
                       created_by_id=user.id)
    session.add(slot)
    session.flush()
    return slot


def remove_slot(session: Session, user: User, account_id: int, slot_id: int) -> bool:
    """Take a slot off the account's schedule; False if it was already gone."""
    account = get_account_for(session, user, account_id)
    require(user, Action.MANAGE_ACCOUNTS, account.organisation_id)
    slot = session.get(PostingSlot, slot_id)
    if slot is None:
        return False
    if slot.account_id != account_id:
        raise NotAllowed("slot of another account")
    session.delete(slot)
    session.flush()
    return True


def occurrences(slots: Iterable[tuple[int, int]], after: datetime,
                days: int = HORIZON_DAYS) -> Iterator[datetime]:
    """The moments (UTC) of weekly slots (weekday, minute of the day; Stockholm wall clock)
    after `after`, in order, for `days` Stockholm days. A slot in the spring gap is passed
    over; one in the doubled autumn hour happens once, at its first occurrence (summer time)."""
    by_day: dict[int, list[int]] = {}
    for weekday, minute in set(slots):
        by_day.setdefault(weekday, []).append(minute)
    if not by_day:
        return
    first: date = to_local(after).date()
    for offset in range(days + 1):
        day = first + timedelta(days=offset)
        for minute in sorted(by_day.get(day.weekday(), [])):
            wall = datetime.combine(day, time(minute // 60, minute % 60))
            if not exists(wall, STOCKHOLM):
                continue
            moment = local_to_utc(wall.replace(fold=0))
            if moment > after:
                yield moment


def next_free_slot(session: Session, user: User, account_ids: Iterable[int],
                   now: datetime | None = None) -> datetime | None:
    """The first moment after now that is a slot of every chosen account that has a schedule
    and that no post (cancelled and failed ones aside) holds on any of them; None when the
    chosen accounts have no slots or none is free within a year. Accounts outside the user's
    scope are refused (NotAllowed)."""
    require(user, Action.COMPOSE)
    now = now or utcnow()
    ids = list(dict.fromkeys(account_ids))
    for account_id in ids:
        get_account_for(session, user, account_id)
    per_account: dict[int, set[tuple[int, int]]] = {}
    for slot in _slots(session, ids):
        per_account.setdefault(slot.account_id, set()).add((slot.weekday, slot.minute_of_day))
    if not per_account:
        return None
    shared = set.intersection(*per_account.values())
    until = now + timedelta(days=HORIZON_DAYS + 1)
    taken = {_minute(due) for due in session.scalars(
        select(Delivery.due_at).where(Delivery.account_id.in_(list(per_account)),
                                      Delivery.due_at > now - timedelta(minutes=1),
                                      Delivery.due_at < until,
                                      Delivery.state.not_in(NOT_TAKING)))}
    for moment in occurrences(shared, now):
        if moment not in taken:
            return moment
    return None


def _minute(moment: datetime) -> datetime:
    return ensure_utc(moment).replace(second=0, microsecond=0)

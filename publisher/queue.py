"""What the dashboard shows: upcoming and recent deliveries a user may see, and how many
of the recent ones were published, failed or cancelled.

Each list is one query narrowed to the user's scope in SQL before its LIMIT (an association's
users see their own hundred, not whatever of the first hundred is theirs), read from an index
in its order ((state, due_at, id) and (state, updated_at, id)), with the account and post of
every row loaded alongside (no query per row while the page renders).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from core.auth import Action, require, scope_condition
from core.clock import utcnow
from core.users import User
from publisher.accounts import get_account_for
from publisher.deliveries import FINISHED, OPEN
from publisher.models import Account, Delivery, DeliveryState, Post

RECENT_DAYS = 14


def _in_scope(query: Select, user: User) -> Select:
    return query.join(Account, Account.id == Delivery.account_id).where(
        scope_condition(user, Account.organisation_id))


def upcoming(session: Session, user: User, limit: int = 100) -> list[Delivery]:
    """The next deliveries not yet finished, soonest first."""
    query = (_in_scope(select(Delivery), user)
             .where(Delivery.state.in_(sorted(OPEN)))
             .options(joinedload(Delivery.account),
                      selectinload(Delivery.post).selectinload(Post.deliveries))
             .order_by(Delivery.due_at, Delivery.id).limit(limit))
    return list(session.scalars(query).unique())


def open_count(session: Session, user: User) -> int:
    """How many deliveries are not finished (the upcoming list shows the first of them)."""
    return session.scalar(_in_scope(select(func.count()).select_from(Delivery), user)
                          .where(Delivery.state.in_(sorted(OPEN)))) or 0


def _recent_query(user: User, since: datetime) -> Select:
    return _in_scope(select(Delivery), user).where(Delivery.state.in_(sorted(FINISHED)),
                                                   Delivery.updated_at >= since)


def recent(session: Session, user: User, *, days: int = RECENT_DAYS, limit: int = 100,
           now: datetime | None = None) -> list[Delivery]:
    """The deliveries finished in the last `days`, latest first."""
    since = (now or utcnow()) - timedelta(days=days)
    query = (_recent_query(user, since)
             .options(joinedload(Delivery.account), joinedload(Delivery.post))
             .order_by(Delivery.updated_at.desc(), Delivery.id.desc()).limit(limit))
    return list(session.scalars(query).unique())


def recent_counts(session: Session, user: User, *, days: int = RECENT_DAYS,
                  now: datetime | None = None) -> dict[str, int]:
    """How many deliveries were published, failed or were cancelled in the last `days`, all of
    them (not only the hundred listed), by state."""
    since = (now or utcnow()) - timedelta(days=days)
    rows = session.execute(_recent_query(user, since)
                           .with_only_columns(Delivery.state, func.count())
                           .group_by(Delivery.state)).all()
    return {DeliveryState(state).value: n for state, n in rows}


def account_queue(session: Session, user: User, account_id: int, limit: int = 100
                  ) -> list[Delivery]:
    """One account's queue in the order it goes out: its unfinished deliveries, soonest first
    (NotAllowed outside the user's scope)."""
    require(user, Action.VIEW_DASHBOARD)
    get_account_for(session, user, account_id)
    query = (select(Delivery).where(Delivery.account_id == account_id,
                                    Delivery.state.in_(sorted(OPEN)))
             .options(joinedload(Delivery.account),
                      selectinload(Delivery.post).selectinload(Post.deliveries))
             .order_by(Delivery.due_at, Delivery.id).limit(limit))
    return list(session.scalars(query).unique())

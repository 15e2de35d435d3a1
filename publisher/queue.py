"""What the dashboard shows: upcoming and recent deliveries a user may see."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from core.auth import in_scope
from core.clock import utcnow
from core.users import User
from publisher.deliveries import FINISHED, OPEN
from publisher.models import Delivery, Post


def _visible(user: User, deliveries: list[Delivery]) -> list[Delivery]:
    return [d for d in deliveries if in_scope(user, d.account.organisation_id)]


def upcoming(session: Session, user: User, limit: int = 100) -> list[Delivery]:
    rows = session.scalars(select(Delivery).where(Delivery.state.in_(OPEN))
                           .options(selectinload(Delivery.post).selectinload(Post.deliveries))
                           .order_by(Delivery.due_at, Delivery.id).limit(limit)).unique()
    return _visible(user, list(rows))


def recent(session: Session, user: User, *, days: int = 14, limit: int = 100,
           now: datetime | None = None) -> list[Delivery]:
    since = (now or utcnow()) - timedelta(days=days)
    rows = session.scalars(select(Delivery)
                           .where(Delivery.state.in_(FINISHED), Delivery.updated_at >= since)
                           .order_by(Delivery.updated_at.desc(), Delivery.id.desc())
                           .limit(limit)).unique()
    return _visible(user, list(rows))


def counts(deliveries: list[Delivery]) -> dict[str, int]:
    result: dict[str, int] = {}
    for d in deliveries:
        result[d.state.value] = result.get(d.state.value, 0) + 1
    return result

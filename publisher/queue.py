"""What the dashboard shows: upcoming and recent deliveries a user may see."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth import in_scope
from core.clock import utcnow
from core.users import User
from publisher.accounts import NotAllowed
from publisher.models import Delivery, DeliveryState

S = DeliveryState
OPEN_STATES = (S.SCHEDULED, S.SENDING, S.RETRY_WAIT, S.UNCERTAIN, S.HELD)


def _visible(user: User, deliveries: list[Delivery]) -> list[Delivery]:
    return [d for d in deliveries if in_scope(user, d.account.organisation_id)]


def upcoming(session: Session, user: User, limit: int = 100) -> list[Delivery]:
    rows = session.scalars(select(Delivery).where(Delivery.state.in_(OPEN_STATES))
                           .order_by(Delivery.due_at, Delivery.id).limit(limit)).unique()
    return _visible(user, list(rows))


def recent(session: Session, user: User, *, days: int = 14, limit: int = 100,
           now: datetime | None = None) -> list[Delivery]:
    since = (now or utcnow()) - timedelta(days=days)
    rows = session.scalars(select(Delivery)
                           .where(Delivery.state.not_in(OPEN_STATES), Delivery.updated_at >= since)
                           .order_by(Delivery.updated_at.desc(), Delivery.id.desc())
                           .limit(limit)).unique()
    return _visible(user, list(rows))


def delivery_for(session: Session, user: User, delivery_id: int) -> Delivery:
    delivery = session.get(Delivery, delivery_id)
    if delivery is None or not in_scope(user, delivery.account.organisation_id):
        raise NotAllowed("delivery not in your organisation")
    return delivery


def counts(deliveries: list[Delivery]) -> dict[str, int]:
    result: dict[str, int] = {}
    for d in deliveries:
        result[d.state.value] = result.get(d.state.value, 0) + 1
    return result

"""The delivery state machine: every change is one guarded UPDATE plus a history row.

A transition names the state it expects; if another worker (or a cancel) got there first the
UPDATE matches no row and the caller learns it lost, so no two processes can both act on one
delivery. Claims are leases: `claimed_by` and `lease_expires_at` say who holds it until when.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.clock import utcnow
from core.db import Database
from publisher.models import Delivery, DeliveryEvent, DeliveryState

S = DeliveryState

# Allowed moves; anything else is a bug and raises.
TRANSITIONS: dict[DeliveryState, frozenset[DeliveryState]] = {
    S.SCHEDULED: frozenset({S.SENDING, S.CANCELLED}),
    S.SENDING: frozenset({S.PUBLISHED, S.FAILED, S.SCHEDULED}),
    S.FAILED: frozenset({S.SCHEDULED}),
    S.CANCELLED: frozenset({S.SCHEDULED}),
    S.PUBLISHED: frozenset(),
}


class IllegalTransition(RuntimeError):
    pass


def record_event(session: Session, delivery_id: int, from_state: DeliveryState | None,
                 to_state: DeliveryState, detail: str | None = None) -> None:
    session.add(DeliveryEvent(delivery_id=delivery_id, from_state=from_state and from_state.value,
                              to_state=to_state.value, detail=detail))


def transition(
    session: Session,
    delivery_id: int,
    expected: DeliveryState,
    new: DeliveryState,
    *,
    detail: str | None = None,
    holder: str | None = None,
    **values: Any,
) -> bool:
    """Move one delivery from `expected` to `new`; False when it was not in `expected`.

    With `holder`, the move only happens while that worker still holds the claim.
    """
    if new not in TRANSITIONS[expected]:
        raise IllegalTransition(f"{expected.value} → {new.value}")
    query = update(Delivery).where(Delivery.id == delivery_id, Delivery.state == expected)
    if holder is not None:
        query = query.where(Delivery.claimed_by == holder)
    result = session.execute(
        query.values(state=new, updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    record_event(session, delivery_id, expected, new, detail)
    return True


def claim_due(db: Database, worker_id: str, *, limit: int = 20, lease_seconds: int = 120,
              now: datetime | None = None) -> list[int]:
    """Claim up to `limit` due deliveries for this worker, oldest due first.

    One statement: on PostgreSQL the inner SELECT locks with SKIP LOCKED so concurrent workers
    take different rows; on SQLite the database's single writer makes the guarded UPDATE atomic.
    """
    now = now or utcnow()
    due = (
        select(Delivery.id)
        .where(Delivery.state == S.SCHEDULED, Delivery.due_at <= now)
        .order_by(Delivery.due_at, Delivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    with db.session() as session:
        claimed = list(session.scalars(
            update(Delivery)
            .where(Delivery.id.in_(due), Delivery.state == S.SCHEDULED)
            .values(state=S.SENDING, claimed_by=worker_id, attempts=Delivery.attempts + 1,
                    lease_expires_at=now + timedelta(seconds=lease_seconds), updated_at=now)
            .returning(Delivery.id)
            .execution_options(synchronize_session=False)
        ))
        for delivery_id in claimed:
            record_event(session, delivery_id, S.SCHEDULED, S.SENDING, f"claimed by {worker_id}")
    return sorted(claimed)


def cancel(session: Session, delivery_id: int, by: str) -> bool:
    return transition(session, delivery_id, S.SCHEDULED, S.CANCELLED, detail=f"cancelled by {by}")


def history(session: Session, delivery_id: int) -> list[DeliveryEvent]:
    return list(session.scalars(
        select(DeliveryEvent).where(DeliveryEvent.delivery_id == delivery_id)
        .order_by(DeliveryEvent.id)))

"""The delivery state machine: every change is one guarded UPDATE plus a history row.

A transition names the state it expects; if another worker (or a cancel) got there first the
UPDATE matches no row and the caller learns it lost, so no two processes can both act on one
delivery. Claims are leases (`claimed_by`, `lease_expires_at`): a worker that dies leaves a lease
that runs out, and recovery then reconciles with the platform before anything is resent.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Integer,
    String,
    Text,
    and_,
    bindparam,
    case,
    cast,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from core.claims import locked_ids
from core.clock import utcnow
from core.db import Database, UTCDateTime
from publisher.history_notes import (
    ATTEMPT,
    CANCELLED,
    LEASE_RAN_OUT,
    RECONNECTED,
    SENT_AGAIN,
    note,
)
from publisher.models import Account, CredentialStatus, Delivery, DeliveryEvent, DeliveryState

S = DeliveryState

# Allowed moves; anything else is a bug and raises.
TRANSITIONS: dict[DeliveryState, frozenset[DeliveryState]] = {
    S.SCHEDULED: frozenset({S.SENDING, S.CANCELLED, S.HELD}),
    S.RETRY_WAIT: frozenset({S.SENDING, S.CANCELLED, S.HELD}),
    S.SENDING: frozenset({S.PUBLISHED, S.RETRY_WAIT, S.UNCERTAIN, S.HELD, S.FAILED}),
    S.UNCERTAIN: frozenset({S.PUBLISHED, S.RETRY_WAIT, S.UNCERTAIN, S.FAILED}),
    S.HELD: frozenset({S.SCHEDULED, S.CANCELLED, S.FAILED}),
    S.FAILED: frozenset({S.SCHEDULED}),
    S.CANCELLED: frozenset({S.SCHEDULED}),
    S.PUBLISHED: frozenset(),
}
CLAIMABLE = (S.SCHEDULED, S.RETRY_WAIT)
DELIVERIES = Delivery.__table__
D = DELIVERIES.c
EVENTS = DeliveryEvent.__table__


class IllegalTransition(RuntimeError):
    pass


def record_event(session: Session, delivery_id: int, from_state: DeliveryState | None,
                 to_state: DeliveryState, detail: str | None = None) -> None:
    record_events(session, [(delivery_id, from_state, to_state, detail)])


def record_events(session: Session,
                  events: list[tuple[int, DeliveryState | None, DeliveryState, str | None]]
                  ) -> None:
    """History rows, written at once as plain inserts (no unit-of-work flush on the hot path)."""
    if not events:
        return
    now = utcnow()
    session.execute(insert(EVENTS), [
        {"delivery_id": delivery_id, "from_state": from_state and from_state.value,
         "to_state": to_state.value, "detail": detail, "at": now}
        for delivery_id, from_state, to_state, detail in events])


def transition(
    session: Session,
    delivery_id: int,
    expected: DeliveryState,
    new: DeliveryState,
    *,
    detail: str | None = None,
    holder: str | None = None,
    durable: bool = True,
    **values: Any,
) -> bool:
    """Move one delivery from `expected` to `new`; False when it was not in `expected`.

    With `holder`, the move only happens while that worker still holds the claim. With
    `durable=False` (PostgreSQL) the commit does not wait for the disk flush: for outcomes whose
    loss the recovery rule covers (a lost "published" is found again by reconciliation).
    """
    if new not in TRANSITIONS[expected]:
        raise IllegalTransition(f"{expected.value} → {new.value}")
    postgres = session.get_bind().dialect.name == "postgresql"
    statement = _transition_statement(postgres, holder is not None, not durable and postgres,
                                      tuple(sorted(values)))
    params = _transition_params(delivery_id, expected, new, holder, utcnow(), detail, values)
    if postgres:
        return len(session.execute(statement, params).all()) == 1
    if session.execute(statement, params).rowcount != 1:
        return False
    record_event(session, delivery_id, expected, new, detail)
    return True


def transition_many(
    session: Session,
    expected: DeliveryState,
    new: DeliveryState,
    moves: Sequence[tuple[int, str | None, dict[str, Any]]],
    *,
    holder: str | None = None,
    durable: bool = True,
) -> list[int]:
    """`transition` for many deliveries at once: (id, detail, values) each, the same value
    columns in all. Returns the ids that did not move. On PostgreSQL one batched execution."""
    if new not in TRANSITIONS[expected]:
        raise IllegalTransition(f"{expected.value} → {new.value}")
    if session.get_bind().dialect.name != "postgresql" or len(moves) == 1:
        return [delivery_id for delivery_id, detail, values in moves
                if not transition(session, delivery_id, expected, new, detail=detail,
                                  holder=holder, durable=durable, **values)]
    columns = tuple(sorted(moves[0][2]))
    now = utcnow()
    statement = _transition_statement(True, holder is not None, not durable, columns,
                                      returning=False)
    result = session.execute(statement, [
        _transition_params(delivery_id, expected, new, holder, now, detail, values)
        for delivery_id, detail, values in moves])
    if result.rowcount == len(moves):
        return []
    ids = [delivery_id for delivery_id, _, _ in moves]
    moved = set(session.scalars(select(D.id).where(D.id.in_(ids), D.state == new,
                                                   D.updated_at == now)))
    return [delivery_id for delivery_id in ids if delivery_id not in moved]


def _transition_params(delivery_id: int, expected: DeliveryState, new: DeliveryState,
                       holder: str | None, now: datetime, detail: str | None,
                       values: dict[str, Any]) -> dict[str, Any]:
    """The values for _transition_statement's parameters."""
    return {"m_id": delivery_id, "m_expected": expected, "m_new": new, "m_holder": holder,
            "m_now": now, "m_from": expected.value, "m_to": new.value, "m_detail": detail,
            **{f"v_{key}": value for key, value in values.items()}}


@lru_cache(maxsize=128)
def _transition_statement(postgres: bool, guarded_by_holder: bool, relaxed: bool,
                          columns: tuple[str, ...], returning: bool = True) -> Any:
    """Built once per shape and reused: constructing SQLAlchemy statements costs more CPU than
    running them, and transitions are the dispatcher's hottest path."""
    query = update(DELIVERIES).where(D.id == bindparam("m_id"),
                                     D.state == bindparam("m_expected", type_=D.state.type))
    if guarded_by_holder:
        query = query.where(D.claimed_by == bindparam("m_holder", type_=D.claimed_by.type))
    query = query.values(state=bindparam("m_new", type_=D.state.type),
                         updated_at=bindparam("m_now", type_=UTCDateTime()),
                         **{c: bindparam(f"v_{c}", type_=D[c].type) for c in columns})
    if not postgres:
        return query
    # One round trip: the history row is written by the same statement, only if it moved.
    moved = query.returning(D.id).cte("moved")
    source = select(moved.c.id, bindparam("m_from", type_=String()),
                    bindparam("m_to", type_=String()), bindparam("m_detail", type_=Text()),
                    bindparam("m_now", type_=UTCDateTime()))
    if relaxed:  # the transaction's commit then skips the flush wait (SET LOCAL, in-statement)
        source = source.where(func.set_config("synchronous_commit", "off", True).is_not(None))
    logged = insert(EVENTS).from_select(
        ["delivery_id", "from_state", "to_state", "detail", "at"], source)
    return logged.returning(EVENTS.c.delivery_id) if returning else logged


def _blocked_accounts(now: datetime) -> Any:
    """Accounts nobody may call now: rate-limited, broken credentials or disconnected."""
    return select(Account.id).where(or_(
        Account.rate_limited_until > now,
        Account.credentials_status == CredentialStatus.BROKEN,
        Account.active.is_(False),
    ))


def claim_due(db: Database, worker_id: str, *, limit: int = 20, lease_seconds: int = 120,
              now: datetime | None = None) -> list[int]:
    """Claim up to `limit` deliveries whose time has come, oldest first, as `sending`, in a
    transaction of its own."""
    with db.session() as session:
        return claim_due_in(session, worker_id, limit=limit, lease_seconds=lease_seconds,
                            now=now)


def claim_due_in(session: Session, worker_id: str, *, limit: int = 20, lease_seconds: int = 120,
                 now: datetime | None = None) -> list[int]:
    """`claim_due` inside the caller's transaction, which must commit before anything is sent.

    One statement: on PostgreSQL the inner SELECT locks with SKIP LOCKED so concurrent workers
    take different rows (and the history rows are written by the same statement); on SQLite the
    database's single writer makes the guarded UPDATE atomic.
    """
    now = now or utcnow()
    params = {"m_now": now, "m_limit": limit, "m_worker": worker_id,
              "m_lease": now + timedelta(seconds=lease_seconds)}
    postgres = session.get_bind().dialect.name == "postgresql"
    rows = list(session.execute(_claim_statement(postgres), params))
    if postgres:
        return sorted(delivery_id for delivery_id, in rows)
    record_events(session, [
        (delivery_id, S.SCHEDULED if attempts == 1 else S.RETRY_WAIT, S.SENDING,
         note(ATTEMPT, attempt=attempts, worker=worker_id)) for delivery_id, attempts in rows])
    return sorted(delivery_id for delivery_id, _ in rows)


_ATTEMPT_PARTS = note(ATTEMPT, attempt="\0", worker="\0").split("\0")[:2]


@lru_cache(maxsize=2)
def _claim_statement(postgres: bool) -> Any:
    """The claim, built once (see _transition_statement)."""
    now = bindparam("m_now", type_=UTCDateTime())
    due = locked_ids(
        select(D.id)
        .where(D.state.in_(CLAIMABLE), D.next_attempt_at <= now,
               D.account_id.not_in(_blocked_accounts(now)))
        .order_by(D.next_attempt_at, D.id)
        .limit(bindparam("m_limit", type_=Integer()))
    )
    claim = (
        update(DELIVERIES)
        .where(D.id.in_(due), D.state.in_(CLAIMABLE))
        .values(state=S.SENDING, claimed_by=bindparam("m_worker", type_=D.claimed_by.type),
                attempts=D.attempts + 1, updated_at=now,
                lease_expires_at=bindparam("m_lease", type_=UTCDateTime()),
                first_attempt_at=func.coalesce(D.first_attempt_at, now))
        .returning(D.id, D.attempts)
    )
    if not postgres:
        return claim
    moved = claim.cte("moved")
    return insert(EVENTS).from_select(
        ["delivery_id", "from_state", "to_state", "detail", "at"],
        select(moved.c.id,
               case((moved.c.attempts == 1, S.SCHEDULED.value), else_=S.RETRY_WAIT.value),
               literal(S.SENDING.value),
               # note(ATTEMPT, …) written by the database
               literal(_ATTEMPT_PARTS[0]) + cast(moved.c.attempts, String())
               + literal(_ATTEMPT_PARTS[1]) + bindparam("m_worker", type_=String()),
               now),
    ).returning(EVENTS.c.delivery_id)


def next_due(db: Database, now: datetime | None = None) -> datetime | None:
    """When a claim would next find work. Deliveries a claim would skip (their account is
    blocked, or another worker holds them) are left out: waking up for them would find nothing,
    again and again; the regular tick picks them up once they are free."""
    now = now or utcnow()
    with db.session() as session:
        return session.scalar(select(func.min(D.next_attempt_at)).where(*_workable(now)))


def overdue(session: Session, since: datetime, now: datetime | None = None
            ) -> tuple[int, datetime | None]:
    """Work a worker could have done but has not, waiting since before `since`: how many
    deliveries, and the earliest time one was due. Held, paused and claimed ones are not."""
    now = now or utcnow()
    count, earliest = session.execute(
        select(func.count(), func.min(D.next_attempt_at))
        .where(*_workable(now), D.next_attempt_at < since)).one()
    return count or 0, earliest


def _workable(now: datetime) -> tuple[Any, ...]:
    """Deliveries a claim would take now or later: neither held nor claimed nor blocked."""
    return (or_(D.state.in_(CLAIMABLE),
                and_(D.state == S.UNCERTAIN,
                     or_(D.lease_expires_at.is_(None), D.lease_expires_at < now))),
            D.account_id.not_in(_blocked_accounts(now)))


def recover_expired(db: Database, now: datetime | None = None) -> list[int]:
    """Sends whose worker vanished (lease ran out) become `uncertain`, to be reconciled."""
    now = now or utcnow()
    with db.session() as session:
        expired = list(session.scalars(
            update(DELIVERIES)
            .where(D.state == S.SENDING, D.lease_expires_at < now)
            .values(state=S.UNCERTAIN, claimed_by=None, lease_expires_at=None,
                    next_attempt_at=now, updated_at=now, error_kind="uncertain")
            .returning(D.id)
        ))
        record_events(session, [
            (delivery_id, S.SENDING, S.UNCERTAIN,
             LEASE_RAN_OUT)
            for delivery_id in expired])
    return sorted(expired)


def claim_uncertain(db: Database, worker_id: str, *, limit: int = 20, lease_seconds: int = 120,
                    now: datetime | None = None) -> list[int]:
    """Claim uncertain deliveries whose reconcile time has come (state stays `uncertain`)."""
    now = now or utcnow()
    due = locked_ids(
        select(D.id)
        .where(D.state == S.UNCERTAIN, D.next_attempt_at <= now,
               or_(D.lease_expires_at.is_(None), D.lease_expires_at < now),
               D.account_id.not_in(_blocked_accounts(now)))
        .order_by(D.next_attempt_at, D.id)
        .limit(limit)
    )
    with db.session() as session:
        return sorted(session.scalars(
            update(DELIVERIES)
            .where(D.id.in_(due), D.state == S.UNCERTAIN,
                   or_(D.lease_expires_at.is_(None), D.lease_expires_at < now))
            .values(claimed_by=worker_id, lease_expires_at=now + timedelta(seconds=lease_seconds))
            .returning(D.id)
        ))


def hold_account(session: Session, account_id: int, reason: str) -> list[int]:
    """The account's credentials stopped working: keep its queue instead of failing it."""
    session.execute(update(Account).where(Account.id == account_id).values(
        credentials_status=CredentialStatus.BROKEN, credentials_problem=reason))
    held = []
    for state in CLAIMABLE:
        ids = list(session.scalars(
            update(DELIVERIES)
            .where(D.account_id == account_id, D.state == state)
            .values(state=S.HELD, updated_at=utcnow(), error_kind="auth", error_message=reason)
            .returning(D.id)))
        record_events(session, [(delivery_id, state, S.HELD, reason) for delivery_id in ids])
        held += ids
    return held


def release_account(session: Session, account_id: int, by: str) -> list[int]:
    """Credentials work again: held deliveries go back to the queue (now, or at their time)."""
    now = utcnow()
    released = list(session.scalars(
        update(DELIVERIES)
        .where(D.account_id == account_id, D.state == S.HELD)
        .values(state=S.SCHEDULED, attempts=0, claimed_by=None, updated_at=now,
                next_attempt_at=case((D.due_at > now, D.due_at), else_=now))
        .returning(D.id)))
    record_events(session, [(delivery_id, S.HELD, S.SCHEDULED, note(RECONNECTED, name=by))
                            for delivery_id in released])
    return released


def cancel(session: Session, delivery_id: int, by: str) -> bool:
    for state in (S.SCHEDULED, S.RETRY_WAIT, S.HELD):
        if transition(session, delivery_id, state, S.CANCELLED, detail=note(CANCELLED, name=by)):
            return True
    return False


def requeue(session: Session, delivery_id: int, by: str, at: datetime | None = None, *,
            detail: str | None = None) -> bool:
    """Send a failed or cancelled delivery again with a clean slate of attempts, from `at`: now
    for the author's "try again", the post's time for an account put back on an edited post."""
    at = at or utcnow()
    for state in (S.FAILED, S.CANCELLED):
        if transition(session, delivery_id, state, S.SCHEDULED,
                      detail=detail or note(SENT_AGAIN, name=by),
                      due_at=at, next_attempt_at=at, attempts=0, claimed_by=None,
                      first_attempt_at=None, error_kind=None, error_code=None,
                      error_message=None):
            return True
    return False


def history(session: Session, delivery_id: int) -> list[DeliveryEvent]:
    return list(session.scalars(
        select(DeliveryEvent).where(DeliveryEvent.delivery_id == delivery_id)
        .order_by(DeliveryEvent.id)))

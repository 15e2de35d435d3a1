"""The delivery state machine: every change is one guarded UPDATE plus a history row.

A transition names the state it expects; if another worker (or a cancel) got there first the
UPDATE matches no row and the caller learns it lost, so no two processes can both act on one
delivery. Claims are leases (`claimed_by`, `lease_expires_at`): a worker that dies leaves a lease
that runs out, and recovery then reconciles with the platform before anything is resent.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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

from core.audit import record
from core.auth import Action, NotAllowed, in_scope, require
from core.claims import Lease, claim, lease_clock, lease_end, locked_ids
from core.clock import utcnow
from core.db import Database, UTCDateTime, on_postgres
from core.users import User
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

# Allowed moves; anything else is a bug and raises. docs/ARCHITECTURE.md draws the same diagram
# (tests/publisher/test_state_diagram.py holds the two together). A move to the same state is a
# change that keeps the state: a waiting delivery whose post was edited, an uncertain one asked
# again later.
TRANSITIONS: dict[DeliveryState, frozenset[DeliveryState]] = {
    S.SCHEDULED: frozenset({S.SCHEDULED, S.SENDING, S.CANCELLED, S.HELD, S.AWAITING_APPROVAL}),
    S.RETRY_WAIT: frozenset({S.RETRY_WAIT, S.SENDING, S.CANCELLED, S.HELD,
                             S.AWAITING_APPROVAL}),
    S.SENDING: frozenset({S.PUBLISHED, S.RETRY_WAIT, S.UNCERTAIN, S.HELD, S.FAILED}),
    S.UNCERTAIN: frozenset({S.PUBLISHED, S.RETRY_WAIT, S.UNCERTAIN, S.FAILED}),
    S.HELD: frozenset({S.HELD, S.SCHEDULED, S.CANCELLED, S.AWAITING_APPROVAL}),
    # publisher.approval: a reviewer approves (→ scheduled, at a time still to come) or sends
    # it back with a comment; a change keeps it waiting; the author may cancel it.
    S.AWAITING_APPROVAL: frozenset({S.AWAITING_APPROVAL, S.SCHEDULED, S.RETURNED, S.CANCELLED}),
    # Changed by its author: back for approval (or queued, if the account no longer needs it).
    S.RETURNED: frozenset({S.AWAITING_APPROVAL, S.SCHEDULED, S.CANCELLED}),
    S.FAILED: frozenset({S.SCHEDULED, S.AWAITING_APPROVAL}),
    S.CANCELLED: frozenset({S.SCHEDULED, S.AWAITING_APPROVAL}),
    S.PUBLISHED: frozenset(),
}

# The groups of states, defined here only; the rest of Megafon (and its templates, through the
# predicates below) asks these instead of listing states.
# A claim may take it when it is due: never one awaiting approval or sent back.
CLAIMABLE = frozenset({S.SCHEDULED, S.RETRY_WAIT})
IN_REVIEW = frozenset({S.AWAITING_APPROVAL, S.RETURNED})  # written, not approved (approval.py)
# Nothing on its way: change or cancel.
WAITING = frozenset({S.SCHEDULED, S.RETRY_WAIT, S.HELD}) | IN_REVIEW
UNDER_WAY = frozenset({S.SENDING, S.UNCERTAIN, S.PUBLISHED})  # on, or perhaps on, the platform
OPEN = frozenset({S.SCHEDULED, S.SENDING, S.RETRY_WAIT, S.UNCERTAIN, S.HELD}) | IN_REVIEW
FINISHED = frozenset(S) - OPEN  # published, failed or cancelled: the "recent" list
SENT_AGAIN_FROM = frozenset({S.FAILED, S.CANCELLED})  # "send again" takes these
ON_THE_ACCOUNT = OPEN | {S.PUBLISHED}  # out, or going out (for clash warnings)
NEXT_TRY_SHOWN = frozenset({S.RETRY_WAIT, S.UNCERTAIN})  # a next attempt time means something
EXPLAINED = frozenset({S.HELD, S.UNCERTAIN, S.RETRY_WAIT})  # the overview says why it waits

DELIVERIES = Delivery.__table__
D = DELIVERIES.c
EVENTS = DeliveryEvent.__table__


def can_cancel(delivery: Delivery) -> bool:
    """Cancelling is possible until the delivery is on its way."""
    return delivery.state in WAITING


def can_send_again(delivery: Delivery) -> bool:
    return delivery.state in SENT_AGAIN_FROM


def can_edit(deliveries: Iterable[Delivery]) -> bool:
    """Whether a post with these deliveries may be changed: something waits and nothing of it is
    on its way (publisher.posts.edit_post refuses otherwise)."""
    states = {d.state for d in deliveries}
    return bool(states & WAITING) and not states & UNDER_WAY


def shows_next_try(delivery: Delivery) -> bool:
    return delivery.state in NEXT_TRY_SHOWN


def is_explained(delivery: Delivery) -> bool:
    return delivery.state in EXPLAINED


class IllegalTransition(RuntimeError):
    """A move TRANSITIONS does not list: a bug in Megafon, never a user's mistake."""


def _check_moves(expected: Iterable[DeliveryState], new: DeliveryState) -> None:
    for state in expected:
        if new not in TRANSITIONS[state]:
            raise IllegalTransition(f"{state.value} → {new.value}")


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
    _check_moves((expected,), new)
    postgres = on_postgres(session)
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
    _check_moves((expected,), new)
    if not on_postgres(session) or len(moves) == 1:
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


def _blocked_accounts(now: Any) -> Any:
    """Accounts nobody may call now: rate-limited, broken credentials or disconnected."""
    return select(Account.id).where(or_(
        Account.rate_limited_until > now,
        Account.credentials_status == CredentialStatus.BROKEN,
        Account.active.is_(False),
    ))


# A worker's hold on a delivery: while `sending`, and while it reconciles an `uncertain` one.
LEASE = Lease(holder=Delivery.claimed_by, until=Delivery.lease_expires_at)


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
    database's single writer makes the guarded UPDATE atomic. Whether a delivery is due is judged
    by this worker's clock (`now`); the lease it takes is written on the lease clock.
    """
    _check_moves(CLAIMABLE, S.SENDING)
    now = now or utcnow()
    params = {"m_now": now, "m_limit": limit, "m_worker": worker_id,
              "m_lease_s": lease_seconds, "m_lease": now + timedelta(seconds=lease_seconds)}
    postgres = on_postgres(session)
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
    lease = lease_end(postgres, bindparam("m_lease_s", type_=Integer()),
                      bindparam("m_lease", type_=UTCDateTime()))
    claim = (
        update(DELIVERIES)
        .where(D.id.in_(due), D.state.in_(CLAIMABLE))
        .values(state=S.SENDING, claimed_by=bindparam("m_worker", type_=D.claimed_by.type),
                attempts=D.attempts + 1, updated_at=now, lease_expires_at=lease,
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
        return session.scalar(select(func.min(D.next_attempt_at))
                              .where(*_workable(on_postgres(session), now)))


def overdue(session: Session, since: datetime, now: datetime | None = None
            ) -> tuple[int, datetime | None]:
    """Work a worker could have done but has not, waiting since before `since`: how many
    deliveries, and the earliest time one was due. Held, paused and claimed ones are not."""
    now = now or utcnow()
    count, earliest = session.execute(
        select(func.count(), func.min(D.next_attempt_at))
        .where(*_workable(on_postgres(session), now), D.next_attempt_at < since)).one()
    return count or 0, earliest


def _workable(postgres: bool, now: datetime) -> tuple[Any, ...]:
    """Deliveries a claim would take now or later: neither held nor claimed nor blocked."""
    return (or_(D.state.in_(CLAIMABLE), and_(D.state == S.UNCERTAIN, LEASE.free(postgres, now))),
            D.account_id.not_in(_blocked_accounts(now)))


def _move_where(session: Session, expected: Iterable[DeliveryState], new: DeliveryState,
                *conditions: Any, detail: str | None, now: datetime, **values: Any
                ) -> list[int]:
    """The bulk door: every delivery matching `conditions` in one of the `expected` states
    moves to `new` (checked against TRANSITIONS), with one history row each."""
    expected = tuple(expected)
    _check_moves(expected, new)
    moved: list[int] = []
    for state in expected:
        ids = list(session.scalars(
            update(DELIVERIES).where(D.state == state, *conditions)
            .values(state=new, updated_at=now, **values).returning(D.id)))
        record_events(session, [(delivery_id, state, new, detail) for delivery_id in ids])
        moved += ids
    return sorted(moved)


def recover_expired(db: Database, now: datetime | None = None) -> list[int]:
    """Sends whose worker vanished (lease ran out on the lease clock) become `uncertain`, to be
    reconciled with the platform before anything is sent again."""
    now = now or utcnow()
    with db.session() as session:
        return _move_where(session, (S.SENDING,), S.UNCERTAIN,
                           D.lease_expires_at < lease_clock(on_postgres(session), now),
                           detail=LEASE_RAN_OUT, now=now, claimed_by=None,
                           lease_expires_at=None, next_attempt_at=now, error_kind="uncertain")


def claim_uncertain(db: Database, worker_id: str, *, limit: int = 20, lease_seconds: int = 120,
                    now: datetime | None = None) -> list[int]:
    """Claim uncertain deliveries whose reconcile time has come (state stays `uncertain`: the
    claim is only a lease, the outcome of the check is the transition)."""
    now = now or utcnow()
    with db.session() as session:
        return claim(session, Delivery.id, where=[D.state == S.UNCERTAIN,
                                                  D.next_attempt_at <= now],
                     pick_only=[D.account_id.not_in(_blocked_accounts(now))],
                     order_by=[D.next_attempt_at, D.id], limit=limit, now=now, lease=LEASE,
                     worker=worker_id, seconds=lease_seconds)


def hold_account(session: Session, account_id: int, reason: str) -> list[int]:
    """The account's credentials stopped working: keep its queue instead of failing it."""
    session.execute(update(Account).where(Account.id == account_id).values(
        credentials_status=CredentialStatus.BROKEN, credentials_problem=reason))
    return _move_where(session, CLAIMABLE, S.HELD, D.account_id == account_id, detail=reason,
                       now=utcnow(), error_kind="auth", error_message=reason)


def release_account(session: Session, account_id: int, by: str) -> list[int]:
    """Credentials work again: held deliveries go back to the queue (now, or at their time)."""
    now = utcnow()
    return _move_where(session, (S.HELD,), S.SCHEDULED, D.account_id == account_id,
                       detail=note(RECONNECTED, name=by), now=now, attempts=0, claimed_by=None,
                       next_attempt_at=case((D.due_at > now, D.due_at), else_=now))


def cancel_waiting(session: Session, account_id: int, by: str) -> list[int]:
    """An account was disconnected: everything still waiting for it is cancelled."""
    return _move_where(session, WAITING, S.CANCELLED, D.account_id == account_id,
                       detail=note(CANCELLED, name=by), now=utcnow())


def lock_waiting(session: Session, post_id: int, now: datetime) -> set[int]:
    """Lock a post's waiting deliveries for a change (a guarded UPDATE that moves nothing; on
    PostgreSQL its row locks make a claim's SKIP LOCKED pass them by until the commit)."""
    return set(session.scalars(
        update(DELIVERIES).where(D.post_id == post_id, D.state.in_(WAITING))
        .values(updated_at=now).returning(D.id)))


def any_under_way(session: Session, post_id: int) -> bool:
    """Whether any of the post is on, or perhaps on, its platform."""
    return bool(session.scalar(select(func.count()).where(
        D.post_id == post_id, D.state.in_(UNDER_WAY))))


def change_waiting(session: Session, delivery_id: int, state: DeliveryState, detail: str,
                   due: datetime | None = None) -> bool:
    """A waiting delivery whose post was changed keeps its state (and moves to `due` if the time
    changed); its history says who changed it."""
    values = {"due_at": due, "next_attempt_at": due} if due is not None else {}
    return transition(session, delivery_id, state, state, detail=detail, **values)


def cancel(session: Session, delivery_id: int, by: str) -> bool:
    """Cancel a waiting delivery; False when it is already on its way or done."""
    for state in sorted(WAITING):
        if transition(session, delivery_id, state, S.CANCELLED, detail=note(CANCELLED, name=by)):
            return True
    return False


def requeue(session: Session, delivery_id: int, by: str, at: datetime | None = None, *,
            detail: str | None = None, for_approval: bool = False) -> bool:
    """Send a failed or cancelled delivery again with a clean slate of attempts, from `at`: now
    for the author's "try again", the post's time for an account put back on an edited post.
    `for_approval`: its account needs approval first (awaiting_approval, not scheduled)."""
    at = at or utcnow()
    target = S.AWAITING_APPROVAL if for_approval else S.SCHEDULED
    for state in sorted(SENT_AGAIN_FROM):
        if transition(session, delivery_id, state, target,
                      detail=detail or note(SENT_AGAIN, name=by),
                      due_at=at, next_attempt_at=at, attempts=0, claimed_by=None,
                      first_attempt_at=None, error_kind=None, error_code=None,
                      error_message=None):
            return True
    return False


def to_review(session: Session, delivery_id: int, expected: DeliveryState, detail: str,
              due: datetime | None = None) -> bool:
    """A waiting (or sent back) delivery goes to awaiting approval: new, changed after its
    approval, or changed by its author after it was sent back. No claim takes it there."""
    values = {"due_at": due, "next_attempt_at": due} if due is not None else {}
    return transition(session, delivery_id, expected, S.AWAITING_APPROVAL, detail=detail,
                      claimed_by=None, **values)


def approve(session: Session, delivery_id: int, detail: str, due: datetime) -> bool:
    """Approved: queued for `due` (a time still to come, publisher.approval checks)."""
    return transition(session, delivery_id, S.AWAITING_APPROVAL, S.SCHEDULED, detail=detail,
                      due_at=due, next_attempt_at=due, attempts=0)


def send_back(session: Session, delivery_id: int, detail: str) -> bool:
    """A reviewer sent it back to its author, with a comment (in post_reviews)."""
    return transition(session, delivery_id, S.AWAITING_APPROVAL, S.RETURNED, detail=detail)


def delivery_for(session: Session, user: User, delivery_id: int) -> Delivery:
    """A delivery the user may see: NotAllowed for one of another organisation's accounts."""
    delivery = session.get(Delivery, delivery_id)
    if delivery is None or not in_scope(user, delivery.account.organisation_id):
        raise NotAllowed("delivery not in your organisation")
    return delivery


def cancel_for(session: Session, user: User, delivery_id: int) -> bool:
    """The author's or comms team's "cancel": their role and organisation are checked here."""
    require(user, Action.COMPOSE)
    delivery = delivery_for(session, user, delivery_id)
    if done := cancel(session, delivery_id, user.name):
        _audit(session, user, "cancel", delivery)
    return done


def _audit(session: Session, user: User, action: str, delivery: Delivery) -> None:
    """A person's cancel or send-again, in the audit log under the post it belongs to."""
    record(session, user, action, "post", delivery.post_id, delivery.account.organisation_id,
           {"delivery_id": delivery.id, "account_id": delivery.account_id})


def send_again_for(session: Session, user: User, delivery_id: int, *,
                   for_approval: bool = False) -> bool:
    """The author's or comms team's "send again" (now), checked like `cancel_for`; through
    publisher.approval, which says whether it waits for approval first."""
    require(user, Action.COMPOSE)
    delivery = delivery_for(session, user, delivery_id)
    if done := requeue(session, delivery_id, user.name, for_approval=for_approval):
        _audit(session, user, "send_again", delivery)
    return done


def history(session: Session, delivery_id: int) -> list[DeliveryEvent]:
    return list(session.scalars(
        select(DeliveryEvent).where(DeliveryEvent.delivery_id == delivery_id)
        .order_by(DeliveryEvent.id)))

"""The state machine's promise on both databases: a move happens once, only from the expected
state and only for the worker holding the claim, and each move leaves exactly one history row."""

import pytest
from sqlalchemy import text

from core.auth import NotAllowed
from core.users import Role
from publisher.deliveries import (
    IllegalTransition,
    cancel_for,
    cancel_waiting,
    claim_due,
    history,
    hold_account,
    release_account,
    send_again_for,
    transition,
    transition_many,
)
from publisher.models import DeliveryState, Platform
from publisher.services import Services
from tests.factories import deliveries, queue_post

S = DeliveryState


@pytest.fixture
def services(services_on_any_db: Services) -> Services:
    """Every test here runs on SQLite and on PostgreSQL."""
    return services_on_any_db


@pytest.fixture
def claimed(services, make_user, make_account) -> int:
    x, _ = make_account(Platform.X)
    queue_post(services.db, make_user(Role.COMMS), [x], text="Valupptakt i Karlstad")
    [delivery_id] = claim_due(services.db, "w1")
    return delivery_id


def moves(services, delivery_id: int) -> list[tuple[str | None, str, str | None]]:
    with services.db.session() as session:
        return [(e.from_state, e.to_state, e.detail) for e in history(session, delivery_id)]


def test_a_move_happens_once_with_one_history_row(services, claimed):
    with services.db.session() as session:
        assert transition(session, claimed, S.SENDING, S.PUBLISHED, holder="w1",
                          detail="published (123)", external_id="123")
    with services.db.session() as session:  # the same move again: it lost, nothing changes
        assert not transition(session, claimed, S.SENDING, S.PUBLISHED, holder="w1",
                              detail="published (456)", external_id="456")
    [delivery] = deliveries(services.db)
    assert delivery.state is S.PUBLISHED and delivery.external_id == "123"
    assert moves(services, claimed)[-2:] == [
        ("scheduled", "sending", "attempt 1 by w1"), ("sending", "published", "published (123)")]


def test_only_the_claim_holder_can_record_an_outcome(services, claimed):
    with services.db.session() as session:
        assert not transition(session, claimed, S.SENDING, S.PUBLISHED, holder="w2",
                              detail="not mine")
    [delivery] = deliveries(services.db)
    assert delivery.state is S.SENDING and delivery.claimed_by == "w1"
    assert [to for _, to, _ in moves(services, claimed)] == ["scheduled", "sending"]


def test_a_move_the_state_machine_does_not_allow_is_refused(services, claimed):
    with services.db.session() as session, pytest.raises(IllegalTransition):
        transition(session, claimed, S.SENDING, S.SCHEDULED)
    assert deliveries(services.db)[0].state is S.SENDING


@pytest.mark.parametrize("durable", [True, False])
def test_only_outcomes_marked_not_durable_skip_the_flush_wait(services, claimed, durable):
    """Claims and most moves wait for the disk; a publication record may not (PostgreSQL; on
    SQLite the flag changes nothing)."""
    with services.db.session() as session:
        assert transition(session, claimed, S.SENDING, S.PUBLISHED, holder="w1",
                          durable=durable, detail="published (9)")
        waits = None if services.db.is_sqlite else \
            session.execute(text("SHOW synchronous_commit")).scalar()
    assert deliveries(services.db)[0].state is S.PUBLISHED
    assert waits in ((None,) if services.db.is_sqlite else ("on" if durable else "off",))


def test_many_moves_at_once_report_the_ones_that_lost(services, make_user, make_account):
    x, _ = make_account(Platform.X)
    user = make_user(Role.COMMS)
    for n in range(3):
        queue_post(services.db, user, [x], text=f"Inlägg {n}")
    mine = claim_due(services.db, "w1", limit=3)
    with services.db.session() as session:  # one of them was taken over meanwhile
        assert transition(session, mine[1], S.SENDING, S.UNCERTAIN, holder="w1")
    with services.db.session() as session:
        lost = transition_many(session, S.SENDING, S.PUBLISHED, [
            (delivery_id, f"published ({delivery_id})", {"external_id": str(delivery_id)})
            for delivery_id in mine], holder="w1", durable=False)
    assert lost == [mine[1]]
    by_id = {d.id: d for d in deliveries(services.db)}
    assert [by_id[i].state for i in mine] == [S.PUBLISHED, S.UNCERTAIN, S.PUBLISHED]
    assert by_id[mine[0]].external_id == str(mine[0]) and by_id[mine[1]].external_id is None
    for delivery_id in (mine[0], mine[2]):
        assert moves(services, delivery_id)[-1] == (
            "sending", "published", f"published ({delivery_id})")
    assert [to for _, to, _ in moves(services, mine[1])] == ["scheduled", "sending", "uncertain"]


def test_an_accounts_queue_moves_in_bulk_through_the_door_with_history(services, make_user,
                                                                       make_account):
    """Holding, releasing and cancelling an account's queue move only what may move, and each
    delivery moved says so in its history (no side door)."""
    x, _ = make_account(Platform.X)
    user = make_user(Role.COMMS)
    for n in range(3):
        queue_post(services.db, user, [x], text=f"Köat {n}")
    [out, *_] = claim_due(services.db, "w1", limit=1)
    with services.db.session() as session:
        assert transition(session, out, S.SENDING, S.PUBLISHED, holder="w1", detail="ute")
    waiting = [d.id for d in deliveries(services.db) if d.id != out]
    with services.db.session() as session:
        assert hold_account(session, x.id, "Invalid token") == waiting
    with services.db.session() as session:
        assert release_account(session, x.id, "Anna") == waiting
    with services.db.session() as session:
        assert cancel_waiting(session, x.id, "Anna (account disconnected)") == waiting
    assert {d.id: d.state for d in deliveries(services.db)} == {
        out: S.PUBLISHED, **{i: S.CANCELLED for i in waiting}}
    for delivery_id in waiting:
        assert [(f, t) for f, t, _ in moves(services, delivery_id)] == [
            (None, "scheduled"), ("scheduled", "held"), ("held", "scheduled"),
            ("scheduled", "cancelled")]
    assert [t for _, t, _ in moves(services, out)] == ["scheduled", "sending", "published"]


def test_a_cancel_or_send_again_checks_the_users_organisation(services, make_user, make_org,
                                                              make_account):
    karlstad, arvika = make_org("Karlstad"), make_org("Arvika")
    x, _ = make_account(Platform.X, organisation=karlstad)
    queue_post(services.db, make_user(Role.COMMS), [x], text="Karlstads inlägg")
    [delivery] = deliveries(services.db)
    stranger = make_user(Role.COMMS, organisation=arvika)
    board = make_user(Role.BOARD, organisation=karlstad)
    for user in (stranger, board):
        with services.db.session() as session, pytest.raises(NotAllowed):
            cancel_for(session, user, delivery.id)
    with services.db.session() as session:
        assert cancel_for(session, make_user(Role.COMMS, organisation=karlstad), delivery.id)
    with services.db.session() as session, pytest.raises(NotAllowed):
        send_again_for(session, stranger, delivery.id)
    assert deliveries(services.db)[0].state is S.CANCELLED

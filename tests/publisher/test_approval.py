"""Approval: a post on an account that needs it waits, unclaimed, until a district reviewer
approves it; changed after approval it waits again; its time passed, it needs a new one."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from core.auth import NotAllowed
from core.clock import STOCKHOLM, to_local, utcnow
from core.db import Database
from core.entered_time import EnteredTime
from core.i18n import ValidationErrors
from core.users import Organisation, Role, User
from publisher import approval
from publisher.approval import PostReview
from publisher.deliveries import (
    TRANSITIONS,
    WAITING,
    IllegalTransition,
    claim_due,
    history,
    transition,
)
from publisher.models import Account, Delivery, DeliveryState, Platform, Post
from publisher.posts import PostDraft, create_post, edit_post
from publisher.services import Services
from tests.factories import deliveries, queue_post

S = DeliveryState


@pytest.fixture
def services(services_on_any_db: Services) -> Services:
    return services_on_any_db


def needing_approval(db: Database, account: Account) -> None:
    with db.session() as session:
        session.execute(update(Account).where(Account.id == account.id)
                        .values(needs_approval=True))


def state(db: Database, delivery_id: int) -> DeliveryState:
    with db.session() as session:
        return session.get(Delivery, delivery_id).state


def in_minutes(minutes: int) -> datetime:
    return (datetime.now(STOCKHOLM) + timedelta(minutes=minutes)).replace(
        tzinfo=None, second=0, microsecond=0)


def act(db: Database, user: User, call, *args, **kwargs):
    with db.session() as session:
        return call(session, session.get(User, user.id), *args, **kwargs)


def thread_of(db: Database, post_id: int) -> list[str]:
    with db.session() as session:
        return [r.action for r in session.scalars(
            select(PostReview).where(PostReview.post_id == post_id).order_by(PostReview.id))]


def edit(db: Database, user: User, post_id: int, text: str, at: datetime | None = None) -> None:
    with db.session() as session:
        post = session.get(Post, post_id)
        accounts = [d.account_id for d in post.deliveries if d.state in WAITING]
        at = at or to_local(post.scheduled_at).replace(tzinfo=None, second=0, microsecond=0)
        edit_post(session, session.get(User, user.id), post_id,
                  PostDraft(text=text, account_ids=accounts, scheduled_local=at))


def test_the_state_machine_has_the_review_moves_and_no_claim_leaves_review():
    assert TRANSITIONS[S.AWAITING_APPROVAL] == {S.AWAITING_APPROVAL, S.SCHEDULED, S.RETURNED,
                                                S.CANCELLED}
    assert TRANSITIONS[S.RETURNED] == {S.AWAITING_APPROVAL, S.SCHEDULED, S.CANCELLED}
    assert S.SENDING not in TRANSITIONS[S.AWAITING_APPROVAL] | TRANSITIONS[S.RETURNED]
    assert S.AWAITING_APPROVAL in TRANSITIONS[S.SCHEDULED] & TRANSITIONS[S.FAILED]


def test_a_post_waits_approved_by_a_reviewer_then_goes_out(services, make_user, make_account):
    db = services.db
    x, _ = make_account(Platform.X)
    fb, _ = make_account(Platform.FACEBOOK)
    needing_approval(db, x)
    author, reviewer = make_user(Role.COMMS), make_user(Role.CAMPAIGN_LEAD)
    post = queue_post(db, author, [x, fb], text="Väntar på granskning")
    x_delivery, fb_delivery = (d.id for d in post.deliveries)
    assert state(db, x_delivery) is S.AWAITING_APPROVAL
    assert state(db, fb_delivery) is S.SCHEDULED  # Facebook's account needs no approval
    assert claim_due(db, "w1", limit=10) == [fb_delivery]
    assert state(db, x_delivery) is S.AWAITING_APPROVAL

    act(db, reviewer, approval.approve, post.id, comment="Bra!")
    assert state(db, x_delivery) is S.SCHEDULED
    assert claim_due(db, "w1", limit=10) == [x_delivery]
    assert thread_of(db, post.id) == ["submitted", "approved"]
    with db.session() as session:
        notes = [(e.from_state, e.to_state, e.detail) for e in history(session, x_delivery)]
    assert notes[:2] == [(None, "awaiting_approval", f"sent for approval by {author.name}"),
                         ("awaiting_approval", "scheduled", f"approved by {reviewer.name}")]


def test_a_post_sent_back_waits_for_its_author_and_returns_when_changed(services, make_user,
                                                                        make_account):
    db = services.db
    x, _ = make_account(Platform.X)
    needing_approval(db, x)
    author, reviewer = make_user(Role.COMMS), make_user(Role.ADMIN)
    post = queue_post(db, author, [x], text="Första versionen", at_local=in_minutes(90))
    delivery_id = post.deliveries[0].id
    with pytest.raises(ValidationErrors) as refused:
        act(db, reviewer, approval.send_back, post.id, "  ")
    assert refused.value.errors[0].field == "comment"
    act(db, reviewer, approval.send_back, post.id, "Nämn mötet")
    assert state(db, delivery_id) is S.RETURNED
    assert claim_due(db, "w1", now=utcnow() + timedelta(hours=2)) == []
    with pytest.raises(ValidationErrors):  # nothing waits for approval now
        act(db, reviewer, approval.approve, post.id)

    edit(db, author, post.id, "Andra versionen, med mötet")
    assert state(db, delivery_id) is S.AWAITING_APPROVAL
    act(db, reviewer, approval.approve, post.id)
    assert thread_of(db, post.id) == ["submitted", "returned", "changed", "approved"]


def test_a_post_changed_after_approval_needs_approval_again(services, make_user, make_account):
    db = services.db
    x, _ = make_account(Platform.X)
    needing_approval(db, x)
    author, reviewer = make_user(Role.CAMPAIGN_LEAD), make_user(Role.COMMS)
    post = queue_post(db, author, [x], text="Godkänd text", at_local=in_minutes(60))
    delivery_id = post.deliveries[0].id
    act(db, reviewer, approval.approve, post.id)
    assert state(db, delivery_id) is S.SCHEDULED
    with db.session() as session:
        assert approval.is_approved(session, post.id)

    edit(db, author, post.id, "Ändrad efter godkännandet")
    assert state(db, delivery_id) is S.AWAITING_APPROVAL
    with db.session() as session:
        assert not approval.is_approved(session, post.id)
    assert claim_due(db, "w1", now=utcnow() + timedelta(hours=2)) == []
    assert thread_of(db, post.id) == ["submitted", "approved", "changed"]


def test_a_post_whose_time_passed_while_waiting_needs_a_new_time(services, make_user,
                                                                 make_account):
    db = services.db
    x, _ = make_account(Platform.X)
    needing_approval(db, x)
    author, reviewer = make_user(Role.COMMS), make_user(Role.ADMIN)
    post = queue_post(db, author, [x], text="Tidskänsligt", at_local=in_minutes(30))
    delivery_id = post.deliveries[0].id
    later = utcnow() + timedelta(hours=2)  # the reviewer comes back after the post's time
    assert claim_due(db, "w1", now=later) == []  # waiting, it is never sent late

    with pytest.raises(ValidationErrors) as refused:
        act(db, reviewer, approval.approve, post.id, now=later)
    assert [e.field for e in refused.value.errors] == ["scheduled_at"]
    assert "passed while it waited" in refused.value.errors[0].message
    old = EnteredTime.showing(post.scheduled_at)  # the old time typed again: still refused
    with pytest.raises(ValidationErrors):
        act(db, reviewer, approval.approve, post.id, entered=EnteredTime(old.date, old.time),
            now=later)
    assert state(db, delivery_id) is S.AWAITING_APPROVAL

    new = EnteredTime.showing(later + timedelta(hours=1))
    act(db, reviewer, approval.approve, post.id, entered=EnteredTime(new.date, new.time),
        now=later)
    with db.session() as session:
        delivery = session.get(Delivery, delivery_id)
        assert delivery.state is S.SCHEDULED
        assert delivery.due_at == delivery.next_attempt_at == delivery.post.scheduled_at
        assert abs(delivery.due_at - (later + timedelta(hours=1))) < timedelta(minutes=1)
    assert claim_due(db, "w1", now=later) == []
    assert claim_due(db, "w1", now=later + timedelta(hours=1, minutes=1)) == [delivery_id]


def test_who_may_approve(services, make_user, make_account, make_org):
    db = services.db
    association = make_org()
    x, _ = make_account(Platform.X, organisation=association)
    with db.session() as session:
        session.execute(update(Organisation).where(Organisation.id == association.id)
                        .values(posts_need_approval=True))
    author = make_user(Role.COMMS, organisation=association)
    post = queue_post(db, author, [x], text="Föreningens inlägg")
    assert state(db, post.deliveries[0].id) is S.AWAITING_APPROVAL  # the association's rule
    for outsider in (make_user(Role.BOARD), make_user(Role.ADMIN, organisation=association),
                     make_user(Role.COMMS, organisation=association)):
        with pytest.raises(NotAllowed):
            act(db, outsider, approval.approve, post.id)
    with pytest.raises(NotAllowed):
        act(db, make_user(Role.BOARD), approval.set_rules, [x.id], [])
    admin = make_user(Role.ADMIN)
    act(db, admin, approval.set_rules, [x.id], [])
    with db.session() as session:
        assert session.get(Account, x.id).needs_approval
        assert not session.get(Organisation, association.id).posts_need_approval
    # an approver never approves their own post
    lead = make_user(Role.CAMPAIGN_LEAD)
    own = queue_post(db, lead, [x], text="Mitt eget")
    with pytest.raises(ValidationErrors):
        act(db, lead, approval.approve, own.id)
    act(db, admin, approval.approve, own.id)


def test_a_cancelled_post_sent_again_waits_for_approval_again(services, make_user,
                                                              make_account):
    db = services.db
    x, _ = make_account(Platform.X)
    needing_approval(db, x)
    author = make_user(Role.COMMS)
    post = queue_post(db, author, [x], text="Avbruten och skickad igen")
    delivery_id = post.deliveries[0].id
    with db.session() as session:
        assert transition(session, delivery_id, S.AWAITING_APPROVAL, S.CANCELLED)
        with pytest.raises(IllegalTransition):
            transition(session, delivery_id, S.RETURNED, S.RETURNED)
    assert act(db, author, approval.send_again_for, delivery_id)
    assert state(db, delivery_id) is S.AWAITING_APPROVAL
    assert thread_of(db, post.id) == ["submitted", "submitted"]


def test_workers_claiming_at_once_never_take_a_post_awaiting_approval(services, make_user,
                                                                      make_account):
    db = services.db
    waiting, _ = make_account(Platform.X)
    free, _ = make_account(Platform.FACEBOOK)
    needing_approval(db, waiting)
    author = make_user(Role.COMMS)
    with db.session() as session:
        user = session.get(User, author.id)
        for n in range(12):
            create_post(session, user, PostDraft(text=f"Inlägg {n}",
                                                 account_ids=[waiting.id, free.id]))
    # some sent back: no claim takes those either
    with db.session() as session:
        first = session.scalars(select(Post.id).order_by(Post.id).limit(3)).all()
    reviewer = make_user(Role.ADMIN)
    for post_id in first:
        act(db, reviewer, approval.send_back, post_id, "Inte än")
    workers = [Database(db.url) for _ in range(4)]
    start = threading.Barrier(len(workers))
    claimed: list[list[int]] = [[] for _ in workers]
    later = utcnow() + timedelta(minutes=5)

    def work(n: int) -> None:
        start.wait()
        for _ in range(6):
            claimed[n] += claim_due(workers[n], f"worker-{n}", limit=2, now=later)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(len(workers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for worker in workers:
        worker.dispose()

    every = [d for batch in claimed for d in batch]
    rows = deliveries(db)
    on_free = {d.id for d in rows if d.account_id == free.id}
    assert sorted(every) == sorted(on_free)  # each free one once, by one worker
    assert {d.state for d in rows if d.account_id == waiting.id} == {S.AWAITING_APPROVAL,
                                                                     S.RETURNED}
    assert sum(d.state is S.RETURNED for d in rows) == 3


def test_the_campaign_coverage_shows_posts_awaiting_approval_and_sent_back(services, make_user,
                                                                          make_account):
    from campaigns.campaigns import link_post
    from campaigns.coverage import Cell, matrix
    from tests.campaigns.helpers import new_campaign

    db = services.db
    waiting, _ = make_account(Platform.X, name="Väntar på granskning")
    returned, _ = make_account(Platform.FACEBOOK, name="Skickat tillbaka")
    needing_approval(db, waiting)
    needing_approval(db, returned)
    lead, comms = make_user(Role.CAMPAIGN_LEAD), make_user(Role.COMMS)
    campaign = new_campaign(db, lead)
    first = queue_post(db, comms, [waiting], text="Välfärd före vinster")
    second = queue_post(db, comms, [returned], text="Välfärd före vinster, från Kil")
    act(db, lead, approval.send_back, second.id, "Kortare, tack")
    with db.session() as session:
        for post in (first, second):
            link_post(session, session.get(User, lead.id), campaign.id,
                      f"https://megafon.example/deliveries/{post.deliveries[0].id}")
    with db.session() as session:
        found = matrix(session, session.get(User, lead.id), campaign.id)
    cells = {row.account_id: row.cell for row in found.rows}
    assert cells[waiting.id] is Cell.AWAITING_APPROVAL
    assert cells[returned.id] is Cell.RETURNED

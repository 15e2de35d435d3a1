"""A failed, uncertain or held delivery reaches its author and the comms team, in the app and by
e-mail."""

from datetime import timedelta

from sqlalchemy import select, update

from core.clock import utcnow
from core.mail import MailSender, send_pending
from core.notifications import ALL, Notification, mark_read, translations_for, unread_count
from core.users import OrganisationKind, Role, User
from publisher.deliveries import claim_due, requeue, transition
from publisher.dispatch import Dispatcher
from publisher.models import Delivery, DeliveryState, Platform
from publisher.notify import (
    FAILED,
    HELD,
    SENT_AGAIN,
    SETTLED,
    SETTLED_OTHERWISE,
    UNCERTAIN,
    notify_delivery_problem,
)
from publisher.user_messages import explanation_for
from tests.factories import deliveries, queue_post
from tests.publisher.sandbox_faults import set_faults

S = DeliveryState


def _run(services) -> None:
    Dispatcher(services.db, services.platforms, services.box, "w1").run_once()


def _make_late(db, delivery_id) -> None:
    """Due over half an hour ago: the dispatcher fails it as too late without sending."""
    long_ago = utcnow() - timedelta(minutes=31)
    with db.session() as session:
        session.execute(update(Delivery).where(Delivery.id == delivery_id)
                        .values(due_at=long_ago, next_attempt_at=long_ago))


def _notified(db, user) -> list[Notification]:
    with db.session() as session:
        return list(session.scalars(select(Notification).where(Notification.user_id == user.id)))


def _fail(db, delivery_id, error_kind="auth", message="Invalid or expired token."):
    """Fail a claimed delivery the way the dispatcher does, notifying in the same transaction."""
    with db.session() as session:
        assert transition(session, delivery_id, S.SENDING, S.FAILED, detail=message,
                          error_kind=error_kind, error_message=message, lease_expires_at=None)
        return notify_delivery_problem(session, delivery_id)


def test_failed_delivery_reaches_author_and_comms_by_app_and_email(
        services, sandbox, make_org, make_user, make_account, smtp_server):
    db = services.db
    arvika, karlstad = make_org("Vänsterpartiet Arvika"), make_org("Vänsterpartiet Karlstad")
    account, creds = make_account(Platform.X, organisation=arvika, name="VP Arvika på X")
    author = make_user(Role.CAMPAIGN_LEAD, organisation=arvika)
    comms = make_user(Role.COMMS, organisation=arvika)
    district_comms = make_user(Role.COMMS, organisation=make_org(kind=OrganisationKind.DISTRICT))
    board = make_user(Role.BOARD, organisation=arvika)
    other_comms = make_user(Role.COMMS, organisation=karlstad)
    other_admin = make_user(Role.ADMIN, organisation=karlstad)

    queue_post(db, author, [account], text="Gratis kollektivtrafik för unga i Värmland!")
    _make_late(db, deliveries(db)[0].id)
    _run(services)
    [delivery] = deliveries(db)
    assert (delivery.state, delivery.error_kind) == (S.FAILED, "too_late")
    with db.session() as session:   # whether or not the dispatcher already did: once each
        notify_delivery_problem(session, delivery.id)
        notify_delivery_problem(session, delivery.id)

    for person in (author, comms, district_comms):
        [notice] = _notified(db, person)
        assert (notice.kind, notice.link) == (FAILED, f"/deliveries/{delivery.id}")
        assert notice.parameters["account"] == "VP Arvika på X"
    for person in (board, other_comms, other_admin):
        assert _notified(db, person) == []

    sender = MailSender(smtp_server.url, "megafon@example.org",
                        base_url="https://megafon.example.org")
    send_pending(db, sender)
    send_pending(db, sender)
    for person in (author, comms, district_comms):
        [mail] = smtp_server.messages(to=person.email)
        assert "VP Arvika på X" in mail.subject
        assert "Gratis kollektivtrafik för unga i Värmland!" in mail.body
        assert f"https://megafon.example.org/deliveries/{delivery.id}" in mail.body
        # Megafon's own reason, in the reader's language: not passed off as the platform's words
        assert "inom 30 minuter" in mail.body
        assert "min late" not in mail.body and "Plattformen svarade" not in mail.body
    for person in (board, other_comms, other_admin):
        assert smtp_server.messages(to=person.email) == []
    with db.session() as session:   # e-mailed, still unread in the app
        assert unread_count(session, session.get(User, comms.id)) == 1


def test_each_reader_gets_their_own_language(services, make_user, make_account, smtp_server):
    db = services.db
    account, _ = make_account(Platform.FACEBOOK, name="VP Värmland")
    author, colleague = make_user(Role.COMMS), make_user(Role.COMMS)
    with db.session() as session:
        session.get(User, author.id).locale = "en"       # the colleague keeps the default, sv
    queue_post(db, author, [account], text="Hej Värmland!")
    [delivery_id] = claim_due(db, "w1")
    _fail(db, delivery_id, error_kind="rejected", message="Status is a duplicate.")
    send_pending(db, MailSender(smtp_server.url, "megafon@example.org"))
    explanation = explanation_for("rejected")
    [english] = smtp_server.messages(to=author.email)
    assert english.subject == "Post to VP Värmland failed"
    assert explanation in english.body and "“Hej Värmland!”" in english.body
    [swedish] = smtp_server.messages(to=colleague.email)
    assert "VP Värmland" in swedish.subject and "Hej Värmland!”" in swedish.body
    assert translations_for("sv").gettext(explanation) in swedish.body
    assert "Status is a duplicate." in swedish.body


def test_uncertain_and_held_deliveries_say_so(services, sandbox, make_user, make_account):
    db = services.db
    flaky, flaky_creds = make_account(Platform.X, name="VP Säffle")
    expired, expired_creds = make_account(Platform.FACEBOOK, name="VP Sunne")
    author = make_user(Role.COMMS)
    set_faults(sandbox.url, flaky_creds["user_id"], error_rate=1.0, error_status=503)
    set_faults(sandbox.url, expired_creds["page_id"], expire_token=True)
    queue_post(db, author, [flaky, expired])
    _run(services)
    by_account = {d.account_id: d for d in deliveries(db)}
    assert by_account[flaky.id].state is S.UNCERTAIN and by_account[expired.id].state is S.HELD
    with db.session() as session:
        for delivery in by_account.values():
            notify_delivery_problem(session, delivery.id)
    notices = {n.link: n for n in _notified(db, author)}
    uncertain = notices[f"/deliveries/{by_account[flaky.id].id}"]
    held = notices[f"/deliveries/{by_account[expired.id].id}"]
    assert (uncertain.kind, held.kind) == (UNCERTAIN, HELD)
    assert uncertain.subject == "Post to %(account)s may not have gone out"
    assert "not known whether it went out" in uncertain.parameters["explanation"]["msgid"]
    assert held.subject == "Post to %(account)s is on hold"
    assert "Reconnect the account" in held.parameters["explanation"]["msgid"]


def test_nothing_for_a_delivery_that_has_not_failed(services, make_user, make_account):
    db = services.db
    account, _ = make_account(Platform.X)
    author = make_user(Role.COMMS)
    queue_post(db, author, [account])
    [delivery] = deliveries(db)
    with db.session() as session:
        assert notify_delivery_problem(session, delivery.id) == []
        assert notify_delivery_problem(session, 999_999) == []
    assert _notified(db, author) == []


def test_notices_are_part_of_the_failure_transaction(services, make_user, make_account):
    db = services.db
    account, _ = make_account(Platform.X)
    author = make_user(Role.COMMS)
    queue_post(db, author, [account])
    [delivery_id] = claim_due(db, "w1")
    session = db.sessions()
    try:
        transition(session, delivery_id, S.SENDING, S.FAILED, error_kind="rejected",
                   error_message="nope")
        assert notify_delivery_problem(session, delivery_id)
        session.rollback()              # the transition did not happen: neither did the news
    finally:
        session.close()
    assert _notified(db, author) == []
    assert deliveries(db)[0].state is S.SENDING


def test_a_repeated_failure_is_not_news_while_the_first_is_unread(services, make_user,
                                                                  make_account):
    db = services.db
    account, _ = make_account(Platform.X)
    author = make_user(Role.COMMS)
    queue_post(db, author, [account])
    [delivery_id] = claim_due(db, "w1")
    assert len([n for n in _fail(db, delivery_id) if n.user_id == author.id]) == 1
    with db.session() as session:       # sent again, fails again while the first is unread
        assert requeue(session, delivery_id, "Anna")
    assert claim_due(db, "w2") == [delivery_id]
    assert [n for n in _fail(db, delivery_id) if n.user_id == author.id] == []
    assert len(_notified(db, author)) == 1


def test_a_settled_uncertain_notice_is_not_emailed_and_whoever_read_it_hears_the_outcome(
        services, sandbox, make_user, make_account, smtp_server):
    db = services.db
    account, creds = make_account(Platform.X, name="VP Filipstad")
    author, colleague = make_user(Role.COMMS), make_user(Role.COMMS)
    set_faults(sandbox.url, creds["user_id"], error_rate=1.0, error_status=503)
    queue_post(db, author, [account], text="Bussen till Filipstad")
    _run(services)                                   # 503 after sending: outcome unknown
    Dispatcher(services.db, services.platforms, services.box, "w1",
               clock=lambda: utcnow() + timedelta(seconds=10)).run_once()  # X can't be asked
    [delivery] = deliveries(db)
    assert delivery.state is S.UNCERTAIN
    assert [n.kind for n in _notified(db, author)] == [UNCERTAIN]
    with db.session() as session:                    # the colleague has read it in the app
        assert mark_read(session, session.get(User, colleague.id), ALL) == 1

    set_faults(sandbox.url, creds["user_id"])        # X answers: the post is not there
    Dispatcher(services.db, services.platforms, services.box, "w1",
               clock=lambda: utcnow() + timedelta(seconds=60)).run_once()
    assert deliveries(db)[0].state is S.RETRY_WAIT

    [settled] = _notified(db, author)                # never seen: resolved, no news of it
    assert settled.resolution == SETTLED[S.RETRY_WAIT]
    assert (settled.read_at is not None, settled.email_due_at) == (True, None)
    read_it = {n.kind: n for n in _notified(db, colleague)}
    assert read_it[UNCERTAIN].resolution == SETTLED[S.RETRY_WAIT]
    assert read_it[SENT_AGAIN].read_at is None and read_it[SENT_AGAIN].link == settled.link
    with db.session() as session:
        assert unread_count(session, session.get(User, author.id)) == 0

    send_pending(db, MailSender(smtp_server.url, "megafon@example.org"))
    assert smtp_server.messages(to=author.email) == []   # stale news is not e-mailed
    [mail] = smtp_server.messages(to=colleague.email)
    assert mail.subject == "Inlägget på VP Filipstad skickas igen"  # the reader's language
    assert "Megafon skickar det igen av sig själv" in mail.body


def test_an_uncertain_notice_is_resolved_when_the_post_fails_as_a_duplicate(
        services, make_user, make_account):
    """X refuses a repeat; reconciliation finds nothing of ours: the failure is the news."""
    db = services.db
    account, _ = make_account(Platform.X)
    author = make_user(Role.COMMS)
    queue_post(db, author, [account], text="Samma sak en gång till")
    _run(services)
    queue_post(db, author, [account], text="Samma sak en gång till")
    _run(services)
    repeat = deliveries(db)[1]
    assert repeat.state is S.UNCERTAIN
    with db.session() as session:  # as if X could not be asked at first: people were told
        notify_delivery_problem(session, repeat.id)
    Dispatcher(services.db, services.platforms, services.box, "w1",
               clock=lambda: utcnow() + timedelta(seconds=10)).run_once()
    assert deliveries(db)[1].state is S.FAILED
    notices = {n.kind: n for n in _notified(db, author)}
    assert notices[UNCERTAIN].resolution == SETTLED_OTHERWISE
    assert notices[FAILED].resolution is None and notices[FAILED].read_at is None

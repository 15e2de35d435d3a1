"""The daily token check: broken credentials hold the account's queue with the platform's
reason, expiring ones warn while posts keep going out, working ones release what was held."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from core.clock import STOCKHOLM, utcnow
from core.mail import MailSender, send_pending
from core.notifications import Notification, mark_read
from core.users import Role, User
from publisher.accounts import connect_account
from publisher.adapters.base import CredentialState
from publisher.deliveries import history
from publisher.dispatch import Dispatcher
from publisher.models import Account, CredentialStatus, DeliveryState, Platform
from publisher.notify import ACCOUNT_BROKEN, ACCOUNT_EXPIRING
from publisher.token_checks import check_accounts
from tests.factories import deliveries, queue_post
from tests.publisher.sandbox_faults import set_faults, stored_posts

S = DeliveryState
DAY = timedelta(hours=25)


def check(services, now: datetime | None = None):
    return check_accounts(services.db, services.box, services.platforms, now=now)


def dispatch(services) -> None:
    Dispatcher(services.db, services.platforms, services.box, "w1").run_once()


def account(services, account_id: int) -> Account:
    with services.db.session() as session:
        return session.get(Account, account_id)


def later_today() -> datetime:
    return (datetime.now(STOCKHOLM) + timedelta(hours=2)).replace(tzinfo=None, microsecond=0)


def test_expired_facebook_token_holds_the_queue_with_the_reason(services, sandbox, make_user,
                                                                make_account):
    fb, creds = make_account(Platform.FACEBOOK)
    author = make_user()
    queue_post(services.db, author, [fb], text="Nu direkt")
    queue_post(services.db, author, [fb], text="Senare idag", at_local=later_today())
    set_faults(sandbox.url, creds["page_id"], expire_token=True)

    [outcome] = check(services)
    assert outcome.state is CredentialState.BROKEN and len(outcome.held) == 2
    broken = account(services, fb.id)
    assert broken.credentials_status is CredentialStatus.BROKEN
    assert "Session has expired" in broken.credentials_problem
    held = deliveries(services.db)
    assert [d.state for d in held] == [S.HELD, S.HELD]
    assert all(d.error_message == broken.credentials_problem for d in held)
    with services.db.session() as session:
        assert [e.to_state for e in history(session, held[0].id)] == ["scheduled", "held"]

    dispatch(services)  # the held posts are not even tried
    assert [d.state for d in deliveries(services.db)] == [S.HELD, S.HELD]
    assert stored_posts(sandbox.url, creds["page_id"]) == []


def test_debug_token_answer_for_an_expired_token_seen_with_an_app_token(services, sandbox,
                                                                        make_account):
    """With an app token as the caller, Graph answers data.is_valid false with the error."""
    _, creds = make_account(Platform.FACEBOOK)
    set_faults(sandbox.url, creds["page_id"], expire_token=True)
    result = services.platforms.facebook.check_credentials(
        {**creds, "app_access_token": "100000000000001|sandboxsecret"})
    assert result.state is CredentialState.BROKEN and result.code == "190/463"
    assert result.reason.startswith("Error validating access token: Session has expired")


def test_token_expiring_in_three_days_warns_and_posts_still_go_out(services, sandbox, make_user,
                                                                   make_account):
    fb, creds = make_account(Platform.FACEBOOK)
    set_faults(sandbox.url, creds["page_id"], token_expires_in_s=3 * 86400)
    [outcome] = check(services)
    assert outcome.state is CredentialState.EXPIRING
    warned = account(services, fb.id)
    assert warned.credentials_status is CredentialStatus.EXPIRING
    assert abs(warned.credentials_expire_at - (utcnow() + timedelta(days=3))) < timedelta(
        seconds=30)

    queue_post(services.db, make_user(), [fb], text="Går ut ändå")
    dispatch(services)
    assert [d.state for d in deliveries(services.db)] == [S.PUBLISHED]
    assert len(stored_posts(sandbox.url, creds["page_id"])) == 1


def test_a_far_expiry_is_recorded_without_a_warning(services, sandbox, make_account):
    fb, creds = make_account(Platform.FACEBOOK)
    set_faults(sandbox.url, creds["page_id"], token_expires_in_s=60 * 86400)
    assert check(services)[0].state is CredentialState.OK
    fine = account(services, fb.id)
    assert fine.credentials_status is CredentialStatus.OK and fine.credentials_expire_at


def test_fixed_token_releases_what_the_check_held(services, sandbox, make_user, make_account):
    fb, creds = make_account(Platform.FACEBOOK)
    queue_post(services.db, make_user(), [fb], text="Väntar på token")
    set_faults(sandbox.url, creds["page_id"], expire_token=True)
    check(services)
    assert [d.state for d in deliveries(services.db)] == [S.HELD]

    set_faults(sandbox.url, creds["page_id"])  # the Page's token works again
    assert check(services) == []  # not due again within the day
    [outcome] = check(services, utcnow() + DAY)
    assert outcome.state is CredentialState.OK and len(outcome.released) == 1
    fixed = account(services, fb.id)
    assert (fixed.credentials_status, fixed.credentials_problem) == (CredentialStatus.OK, None)
    assert [d.state for d in deliveries(services.db)] == [S.SCHEDULED]
    dispatch(services)
    assert [d.state for d in deliveries(services.db)] == [S.PUBLISHED]


def test_reconnecting_releases_what_the_check_held(services, sandbox, make_user, make_account):
    x, creds = make_account(Platform.X)
    user = make_user()
    queue_post(services.db, user, [x], text="Återanslut mig")
    set_faults(sandbox.url, creds["user_id"], expire_token=True)
    [outcome] = check(services)
    assert outcome.state is CredentialState.BROKEN and outcome.reason == "Unauthorized"

    set_faults(sandbox.url, creds["user_id"])
    with services.db.session() as session:
        connect_account(session, box=services.box, platforms=services.platforms,
                        user=session.get(User, user.id), platform=Platform.X, name=x.name,
                        organisation_id=x.organisation_id, credentials=creds)
    assert [d.state for d in deliveries(services.db)] == [S.SCHEDULED]


def test_a_working_account_is_not_touched_and_keeps_its_queue(services, sandbox, make_user,
                                                              make_account):
    x, _ = make_account(Platform.X)
    queue_post(services.db, make_user(), [x], text="Allt väl", at_local=later_today())
    [outcome] = check(services)
    assert (outcome.state, outcome.held, outcome.released) == (CredentialState.OK, (), ())
    ok = account(services, x.id)
    assert ok.credentials_status is CredentialStatus.OK and ok.credentials_expire_at is None
    assert [d.state for d in deliveries(services.db)] == [S.SCHEDULED]


def test_unreachable_platform_is_asked_again_an_hour_later(services, sandbox, make_account):
    x, creds = make_account(Platform.X)
    set_faults(sandbox.url, creds["user_id"], error_rate=1.0, error_status=503)
    now = utcnow()
    [outcome] = check(services, now)
    assert outcome.state is None
    assert account(services, x.id).credentials_status is CredentialStatus.OK  # no verdict
    assert check(services, now + timedelta(minutes=30)) == []
    set_faults(sandbox.url, creds["user_id"])
    assert check(services, now + timedelta(minutes=61))[0].state is CredentialState.OK


def test_each_account_is_checked_by_one_worker_once_a_day(services, make_account):
    ids = {make_account(Platform.X)[0].id for _ in range(3)}
    ids |= {make_account(Platform.FACEBOOK)[0].id for _ in range(3)}
    now = datetime.now(UTC)
    start = threading.Barrier(2)
    outcomes: list = []

    def worker() -> None:
        start.wait()
        outcomes.extend(check_accounts(services.db, services.box, services.platforms, now=now,
                                       limit=4))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(o.account_id for o in outcomes) == sorted(ids)
    assert check(services, now + timedelta(hours=23)) == []
    assert {o.account_id for o in check(services, now + DAY)} == ids


# -- telling people ----------------------------------------------------------------------------

def notices(services, user: User) -> list[Notification]:
    with services.db.session() as session:
        return list(session.scalars(select(Notification).where(Notification.user_id == user.id)
                                    .order_by(Notification.id)))


def test_a_login_that_stopped_working_is_told_once_to_the_team_and_the_authors(
        services, sandbox, make_user, make_account, smtp_server):
    fb, creds = make_account(Platform.FACEBOOK, name="VP Karlstad på Facebook")
    author, comms, board = make_user(Role.CAMPAIGN_LEAD), make_user(Role.COMMS), \
        make_user(Role.BOARD)
    queue_post(services.db, author, [fb], text="Kommer att vänta", at_local=later_today())
    set_faults(sandbox.url, creds["page_id"], expire_token=True)
    check(services)
    for person in (author, comms):
        [notice] = notices(services, person)
        assert (notice.kind, notice.link) == (ACCOUNT_BROKEN, f"/accounts/#account-{fb.id}")
    assert notices(services, board) == []

    send_pending(services.db, MailSender(smtp_server.url, "megafon@example.org",
                                         base_url="https://megafon.example.org"))
    [mail] = smtp_server.messages(to=comms.email)
    assert "VP Karlstad på Facebook" in mail.subject
    assert "Session has expired" in mail.body and ": 1." in mail.body  # one post on hold
    assert f"https://megafon.example.org/accounts/#account-{fb.id}" in mail.body

    with services.db.session() as session:  # read; still broken the next day: not told again
        mark_read(session, session.get(User, comms.id), "all")
    check(services, utcnow() + DAY)
    assert len(notices(services, comms)) == 1


def test_two_accounts_that_stop_working_together_are_each_told(services, sandbox, make_user,
                                                               make_account):
    comms = make_user(Role.COMMS)
    broken = [make_account(Platform.X) for _ in range(2)]
    for _, creds in broken:
        set_faults(sandbox.url, creds["user_id"], expire_token=True)
    check(services)
    assert sorted(n.link for n in notices(services, comms)) == sorted(
        f"/accounts/#account-{account.id}" for account, _ in broken)


def test_a_login_about_to_expire_is_told_to_the_team_when_it_starts(
        services, sandbox, make_user, make_account):
    fb, creds = make_account(Platform.FACEBOOK)
    comms = make_user(Role.COMMS)
    set_faults(sandbox.url, creds["page_id"], token_expires_in_s=3 * 86400)
    check(services)
    [notice] = notices(services, comms)
    expires = account(services, fb.id).credentials_expire_at.astimezone(STOCKHOLM)
    assert notice.kind == ACCOUNT_EXPIRING
    assert notice.parameters["date"] == expires.strftime("%Y-%m-%d %H:%M")
    with services.db.session() as session:
        mark_read(session, session.get(User, comms.id), "all")
    check(services, utcnow() + DAY)  # still expiring: no second notice
    assert len(notices(services, comms)) == 1

"""E-mail through a real SMTP server process: UTF-8 intact, each message once, failures retried."""

import logging
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, update

from core import migrate
from core.auth import create_user
from core.clock import utcnow
from core.db import Database
from core.i18n import N_
from core.mail import (
    MAX_EMAIL_ATTEMPTS,
    RETRY,
    Attachment,
    MailSender,
    OutgoingMail,
    SmtpTarget,
    claim_pending,
    redact,
    send_pending,
)
from core.notifications import Notification, notify, unread_count
from core.settings import Settings, SettingsError
from core.users import Role, User
from tests.conftest import PASSWORD
from tests.smtp import free_port

SUBJECT = N_("Post to %(account)s failed")
BODY = N_("%(explanation)s")


def _sender(url, **kwargs):
    kwargs.setdefault("base_url", "https://megafon.example.org")
    return MailSender(url, "Megafon <megafon@example.org>", **kwargs)


def _notify(db, users, link="/deliveries/7", **params):
    params.setdefault("account", "VP Värmland")
    params.setdefault("explanation", "Kollektivtrafiken i Värmland ska vara gratis för unga")
    with db.session() as session:
        people = [session.get(User, u.id) for u in users]
        return [n.id for n in notify(session, people, "delivery_failed", SUBJECT, BODY, link,
                                     **params)]


def _row(db, notification_id) -> Notification:
    with db.session() as session:
        return session.get(Notification, notification_id)


# --- the sender --------------------------------------------------------------------------------

def test_smtp_urls_are_understood():
    plain = SmtpTarget.parse("smtp://mail.example.org")
    assert (plain.host, plain.port, plain.implicit_tls, plain.starttls) == (
        "mail.example.org", 25, False, False)
    assert plain.username is None
    tls = SmtpTarget.parse("smtps://anna%40vp.se:p%C3%A5ss%2Fw@smtp.example.org")
    assert (tls.port, tls.implicit_tls, tls.username, tls.password) == (
        465, True, "anna@vp.se", "påss/w")
    submission = SmtpTarget.parse("smtp://u:p@smtp.example.org?starttls=1&timeout=5")
    assert (submission.port, submission.starttls, submission.timeout) == (587, True, 5.0)
    assert SmtpTarget.parse("smtp://h:2525?starttls=1").port == 2525


def test_the_password_never_shows():
    url = "smtp://megafon:hemligt-lösen@smtp.example.org:587?starttls=1"
    assert redact(url) == "smtp://megafon:***@smtp.example.org:587?starttls=1"
    assert "hemligt" not in repr(_sender(url))
    with pytest.raises(SettingsError) as refused:
        MailSender("http://megafon:hemligt@smtp.example.org")
    assert "hemligt" not in str(refused.value)


def test_empty_url_means_not_configured_and_nothing_is_sent(db, make_user):
    sender = MailSender.from_settings(Settings.from_env({}, smtp_url=""))
    assert not sender.configured and "not configured" in repr(sender)
    [nid] = _notify(db, [make_user(Role.COMMS)])
    assert send_pending(db, sender).claimed == 0
    row = _row(db, nid)
    assert row.emailed_at is None and row.email_attempts == 0 and row.email_error is None


def test_settings_give_sender_address_and_base_url():
    settings = Settings.from_env({}, smtp_url="smtp://127.0.0.1:2525", mail_from="m@vp.se")
    sender = MailSender.from_settings(settings)
    assert sender.configured and sender.mail_from == "m@vp.se"
    assert sender.base_url == "http://127.0.0.1:5000" and sender.default_locale == "sv"


def test_a_message_arrives_with_swedish_characters_intact(smtp_server):
    sender = _sender(smtp_server.url)
    sender.send(OutgoingMail(to="asa@example.org", subject="Inlägget till Åmål misslyckades",
                             body="Hej Åsa!\n\nVänsterpartiet i Värmland — ö, ä, å.\n"))
    [got] = smtp_server.messages(to="asa@example.org")
    assert got.subject == "Inlägget till Åmål misslyckades"
    assert got.body == "Hej Åsa!\n\nVänsterpartiet i Värmland — ö, ä, å.\n"
    assert got.message["From"] == "Megafon <megafon@example.org>"
    assert got.mail_from == "megafon@example.org"
    assert got.message.get_content_charset() == "utf-8"
    assert got.message["Auto-Submitted"] == "auto-generated"


# --- the queue ---------------------------------------------------------------------------------

def test_a_file_arrives_attached_beside_the_text(smtp_server):
    sender = _sender(smtp_server.url)
    paper = b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"
    sender.send(OutgoingMail(
        to="styrelsen@example.org", subject="Rapporten för augusti", language="sv",
        body="Hej!\n\nRapporten ligger bifogad — läs den före mötet.\n",
        attachments=(Attachment("megafon-rapport-2014-08.pdf", paper, "application/pdf"),)))
    [got] = smtp_server.messages(to="styrelsen@example.org")
    assert got.message.get_content_type() == "multipart/mixed"
    assert got.body == "Hej!\n\nRapporten ligger bifogad — läs den före mötet.\n"
    assert got.attachments == {"megafon-rapport-2014-08.pdf": ("application/pdf", paper)}
    assert got.message["Content-Language"] == "sv"
    shown = repr(Attachment("megafon-rapport-2014-08.pdf", paper, "application/pdf"))
    assert "megafon-rapport-2014-08.pdf" in shown and "%PDF" not in shown  # no bytes in logs


def test_pending_notifications_are_emailed_once(db, make_user, smtp_server):
    anna, bo = make_user(Role.COMMS), make_user(Role.BOARD)
    with db.session() as session:
        session.get(User, bo.id).locale = "en"
    ids = _notify(db, [anna, bo])
    sender = _sender(smtp_server.url)
    report = send_pending(db, sender)
    assert (report.claimed, report.sent) == (2, 2)
    assert send_pending(db, sender).claimed == 0
    [to_anna] = smtp_server.messages(to=anna.email)
    [to_bo] = smtp_server.messages(to=bo.email)
    assert to_bo.subject == "Post to VP Värmland failed"
    for got in (to_anna, to_bo):
        assert "VP Värmland" in got.subject
        assert "Kollektivtrafiken i Värmland ska vara gratis för unga" in got.body
        assert "https://megafon.example.org/deliveries/7" in got.body
    assert to_bo.message["Content-Language"] == "en" and to_anna.message["Content-Language"] == "sv"
    for nid in ids:
        row = _row(db, nid)
        assert row.emailed_at is not None and row.email_due_at is None
        assert row.email_attempts == 1 and row.email_error is None and row.read_at is None


@pytest.fixture
def shared_db(any_db_url):
    """A migrated database on SQLite and on PostgreSQL, for the races between workers."""
    migrate.upgrade(any_db_url)
    database = Database(any_db_url)
    yield database
    database.dispose()


def test_two_workers_at_once_send_each_email_once(shared_db, smtp_server):
    db = shared_db
    with db.session() as session:
        people = [create_user(session, email=f"race{n}-{id(db)}@example.org", name=f"P {n}",
                              password=PASSWORD, role=Role.COMMS) for n in range(12)]
    ids = _notify(db, people)
    sender = _sender(smtp_server.url)
    start = threading.Barrier(2)
    reports = {}

    def work(name):
        start.wait()
        reports[name] = send_pending(db, sender, limit=5, worker_id=name)
        while (more := send_pending(db, sender, limit=5, worker_id=name)).claimed:
            reports[name].sent += more.sent

    threads = [threading.Thread(target=work, args=(name,)) for name in ("w1", "w2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(r.sent for r in reports.values()) == 12
    for person in people:
        assert len(smtp_server.messages(to=person.email)) == 1
    assert all(_row(db, nid).emailed_at is not None for nid in ids)


def test_claims_do_not_overlap_and_a_dead_workers_claim_runs_out(db, make_user, smtp_server):
    people = [make_user(Role.COMMS) for _ in range(3)]
    _notify(db, people)
    first = claim_pending(db, "w1", limit=2)
    second = claim_pending(db, "w2", limit=2)
    assert len(first) == 2 and len(second) == 1 and not set(first) & set(second)
    sender = _sender(smtp_server.url)
    assert send_pending(db, sender, worker_id="w3").claimed == 0   # all held
    later = utcnow() + timedelta(minutes=5)
    report = send_pending(db, sender, worker_id="w3", now=later)   # w1 and w2 died
    assert report.sent == 3
    for person in people:
        assert len(smtp_server.messages(to=person.email)) == 1


@pytest.mark.postgres
def test_on_postgresql_the_outbox_lease_is_judged_on_the_database_servers_clock(
        postgres_url, smtp_server):
    """A worker whose clock runs slow cannot write a lease that others already see as run
    out, and one whose clock runs fast cannot take a lease that has not run out: e-mail once."""
    migrate.upgrade(postgres_url)
    db = Database(postgres_url)
    with db.session() as session:
        anna = create_user(session, email=f"clock-{id(db)}@example.org", name="Anna",
                           password=PASSWORD, role=Role.COMMS)
    [nid] = _notify(db, [anna])
    assert claim_pending(db, "slow", now=utcnow() - timedelta(minutes=5)) == [nid]
    sender = _sender(smtp_server.url)
    assert send_pending(db, sender, worker_id="fast",
                        now=utcnow() + timedelta(minutes=5)).claimed == 0
    with db.session() as session:  # the slow worker died; its lease runs out
        session.execute(update(Notification).where(Notification.id == nid)
                        .values(email_due_at=func.statement_timestamp()
                                - timedelta(seconds=1)))
    assert send_pending(db, sender, worker_id="fast").sent == 1
    assert len(smtp_server.messages(to=anna.email)) == 1
    db.dispose()


def test_server_down_records_the_error_and_retries_later(db, make_user, smtp_server):
    anna = make_user(Role.COMMS)
    [nid] = _notify(db, [anna])
    down = _sender(f"smtp://megafon:hemligt-lösen@127.0.0.1:{free_port()}?timeout=3")
    report = send_pending(db, down)
    assert (report.claimed, report.failed) == (1, 1)
    row = _row(db, nid)
    assert row.emailed_at is None and row.email_attempts == 1 and row.email_claimed_by is None
    assert "refused" in row.email_error.lower() and "hemligt" not in row.email_error
    assert row.email_due_at > utcnow() + timedelta(seconds=30)
    with db.session() as session:
        assert unread_count(session, session.get(User, anna.id)) == 1   # still in the app

    up = _sender(smtp_server.url)
    assert send_pending(db, up).claimed == 0                      # not before its backoff
    report = send_pending(db, up, now=row.email_due_at + timedelta(seconds=1))
    assert report.sent == 1
    assert len(smtp_server.messages(to=anna.email)) == 1
    row = _row(db, nid)
    assert row.emailed_at is not None and row.email_error is None and row.email_attempts == 2


def test_a_failed_email_waits_1_2_4_minutes_and_so_on_up_to_an_hour():
    assert [RETRY.delay(n) for n in range(1, 9)] == \
        [timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 32, 60, 60)]


def test_gives_up_after_a_few_attempts(db, make_user):
    [nid] = _notify(db, [make_user(Role.COMMS)])
    down = _sender(f"smtp://127.0.0.1:{free_port()}?timeout=3")
    moment = utcnow()
    for _ in range(MAX_EMAIL_ATTEMPTS):
        assert send_pending(db, down, now=moment).claimed == 1
        moment = _row(db, nid).email_due_at or moment
    row = _row(db, nid)
    assert row.email_attempts == MAX_EMAIL_ATTEMPTS and row.email_due_at is None
    assert row.emailed_at is None and row.email_error
    assert send_pending(db, down, now=moment + timedelta(days=1)).claimed == 0


def test_a_refused_recipient_is_not_retried(db, make_user, smtp_server):
    refused = make_user(Role.COMMS, email="refuse-me@example.org")
    [nid] = _notify(db, [refused])
    report = send_pending(db, _sender(smtp_server.url))
    assert report.gave_up == 1
    row = _row(db, nid)
    assert row.email_due_at is None and "550" in row.email_error and row.emailed_at is None


def test_inactive_users_get_no_email(db, make_user, smtp_server):
    bo = make_user(Role.BOARD)
    [nid] = _notify(db, [bo])
    with db.session() as session:
        session.execute(update(User).where(User.id == bo.id).values(active=False))
    assert send_pending(db, _sender(smtp_server.url)).gave_up == 1
    assert smtp_server.messages(to=bo.email) == []
    assert _row(db, nid).email_due_at is None


def test_login_failures_never_reveal_the_password(db, make_user, smtp_server, caplog):
    [nid] = _notify(db, [make_user(Role.COMMS)])
    host_port = smtp_server.url.removeprefix("smtp://")
    sender = _sender(f"smtp://megafon:hemligt-lösen@{host_port}")   # this server has no AUTH
    with caplog.at_level(logging.DEBUG):
        assert send_pending(db, sender).failed == 1
    assert "hemligt" not in caplog.text
    assert "hemligt" not in _row(db, nid).email_error


class BrokenMailer:
    """A Mailer with a bug in it: the queue must survive it and try again later."""

    configured = True
    base_url = "https://megafon.example.org"
    default_locale = "sv"

    def send(self, mail: OutgoingMail) -> None:
        raise RuntimeError("bug")


def test_a_bug_in_the_mailer_is_recorded_and_retried(db, make_user, smtp_server):
    anna = make_user(Role.COMMS)
    [nid] = _notify(db, [anna])
    assert send_pending(db, BrokenMailer()).failed == 1
    row = _row(db, nid)
    assert row.email_error == "internal error: RuntimeError" and row.email_claimed_by is None
    assert send_pending(db, _sender(smtp_server.url), now=row.email_due_at).sent == 1
    assert len(smtp_server.messages(to=anna.email)) == 1


def test_a_notification_whose_workers_keep_dying_is_given_up(db, make_user):
    [nid] = _notify(db, [make_user(Role.COMMS)])
    moment = utcnow()
    for _ in range(MAX_EMAIL_ATTEMPTS):                 # claimed, then the worker is killed
        assert claim_pending(db, "doomed", now=moment) == [nid]
        moment += timedelta(minutes=5)
    report = send_pending(db, BrokenMailer(), now=moment)
    assert report.gave_up == 1
    row = _row(db, nid)
    assert row.email_due_at is None and row.emailed_at is None and row.email_error

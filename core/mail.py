"""E-mail: notifications sent through an SMTP server, once each, however many workers run.

MEGAFON_SMTP_URL says where: `smtp://user:pass@host:587?starttls=1`, `smtps://…@host:465` for
implicit TLS, or `smtp://host:25` without login. Empty means e-mail is not configured: nothing is
sent and notifications stay in the app.

`send_pending` claims due notifications with a guarded UPDATE (FOR UPDATE SKIP LOCKED on
PostgreSQL), so two workers never take the same one. The claim is a lease, renewed just before
each send; the send happens outside any transaction. Only a worker that dies after the server
accepted a message and before it recorded that can cause a second copy, once its lease runs out
(the copy carries the same Message-ID). A failed send is retried with backoff a few times, then
given up with the reason kept in `email_error`. The SMTP password is never logged or stored.

`MailSender` sends any `OutgoingMail`: plain text, with files attached when it has any (the
monthly board report, reports.mailing, attaches its PDF); other queues use it the same way.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy import update
from sqlalchemy.orm import Session

from core.backoff import Backoff
from core.claims import Lease, claim, lease_clock, lease_end
from core.clock import utcnow
from core.db import Database
from core.i18n import N_
from core.notifications import Notification, render_for, translations_for
from core.settings import Settings, SettingsError

log = logging.getLogger(__name__)

MAX_EMAIL_ATTEMPTS = 5
LEASE_SECONDS = 120
DEFAULT_TIMEOUT = 15

OPEN_LINE = N_("Open in Megafon: %(url)s")
FOOTER = N_("This message was sent by Megafon. All your notifications: %(url)s")


class MailError(RuntimeError):
    """A message was not accepted; `permanent` when trying again cannot help."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message: its name as the reader sees it, its bytes and MIME type."""

    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"

    def __repr__(self) -> str:  # never the bytes in a log line
        return f"<Attachment {self.filename} {self.mime_type} {len(self.content)} bytes>"


@dataclass(frozen=True)
class OutgoingMail:
    to: str
    subject: str
    body: str
    message_id: str | None = None
    language: str | None = None
    attachments: tuple[Attachment, ...] = ()


class Mailer(Protocol):
    """What send_pending needs: the real MailSender, or a recorder in a test."""

    base_url: str  # the app's address, put before notification links
    default_locale: str  # for recipients without a language of their own

    @property
    def configured(self) -> bool: ...

    def send(self, mail: OutgoingMail) -> None: ...


def redact(url: str) -> str:
    """The SMTP URL with its password replaced, safe for logs and error messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rpartition("@")
    user = netloc[0].partition(":")[0]
    return parts._replace(netloc=f"{user}:***@{netloc[2]}").geturl()


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    implicit_tls: bool
    starttls: bool
    username: str | None
    password: str | None
    timeout: float

    @classmethod
    def parse(cls, url: str) -> SmtpTarget:
        parts = urlsplit(url)
        if parts.scheme not in {"smtp", "smtps"}:
            raise SettingsError(
                f"MEGAFON_SMTP_URL must start with smtp:// or smtps://, not {redact(url)!r}")
        if not parts.hostname:
            raise SettingsError(f"MEGAFON_SMTP_URL has no host: {redact(url)!r}")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        starttls = query.get("starttls", "0").lower() in {"1", "true", "yes", "on"}
        implicit = parts.scheme == "smtps"
        try:
            port = parts.port or (465 if implicit else 587 if starttls else 25)
            timeout = float(query.get("timeout", DEFAULT_TIMEOUT))
        except ValueError:
            raise SettingsError(f"MEGAFON_SMTP_URL has a bad port or timeout: {redact(url)!r}"
                                ) from None
        return cls(host=parts.hostname, port=port, implicit_tls=implicit, starttls=starttls,
                   username=unquote(parts.username) if parts.username else None,
                   password=unquote(parts.password) if parts.password else None,
                   timeout=timeout)


def _describe(exc: BaseException) -> tuple[str, bool]:
    """A short reason for a failed send, and whether it is permanent (SMTP 5xx for the message)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        text = "; ".join(f"{rcpt}: {code} {_text(msg)}" for rcpt, (code, msg)
                         in exc.recipients.items())
        return f"recipient refused: {text}", bool(codes) and all(c >= 500 for c in codes)
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        # Wrong credentials are a configuration mistake an admin can fix: keep retrying.
        return f"SMTP login refused: {exc.smtp_code} {_text(exc.smtp_error)}", False
    if isinstance(exc, smtplib.SMTPSenderRefused | smtplib.SMTPDataError):
        return (f"{type(exc).__name__}: {exc.smtp_code} {_text(exc.smtp_error)}",
                exc.smtp_code >= 500)
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{type(exc).__name__}: {exc.smtp_code} {_text(exc.smtp_error)}", False
    return f"{type(exc).__name__}: {exc}", False


def _text(raw: bytes | str) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)


class MailSender:
    """Sends plain-text UTF-8 e-mail (with its attachments, if any) through the configured SMTP
    server, one connection each."""

    def __init__(self, smtp_url: str, mail_from: str = "megafon@localhost", *,
                 base_url: str = "", default_locale: str = "sv") -> None:
        self._url = smtp_url.strip()
        self._target = SmtpTarget.parse(self._url) if self._url else None
        self.mail_from = mail_from
        self.base_url = base_url.rstrip("/")
        self.default_locale = default_locale

    @classmethod
    def from_settings(cls, settings: Settings) -> MailSender:
        # A public base URL setting is better; until one exists, the address `megafon run` serves.
        base_url = settings.base_url or f"http://{settings.host}:{settings.port}"
        return cls(settings.smtp_url, settings.mail_from, base_url=base_url,
                   default_locale=settings.default_locale)

    @property
    def configured(self) -> bool:
        return self._target is not None

    def __repr__(self) -> str:
        where = redact(self._url) if self._url else "not configured"
        return f"<MailSender {where}>"

    def _scrub(self, text: str) -> str:
        password = self._target.password if self._target else None
        return text.replace(password, "***") if password else text

    def message(self, mail: OutgoingMail) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.mail_from
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message["Date"] = format_datetime(utcnow())
        domain = parseaddr(self.mail_from)[1].rpartition("@")[2] or "megafon.invalid"
        message["Message-ID"] = mail.message_id or f"<{uuid.uuid4().hex}@{domain}>"
        message["Auto-Submitted"] = "auto-generated"
        # Quoted-printable keeps å, ä, ö intact through any server, 8BITMIME or not.
        message.set_content(mail.body, charset="utf-8", cte="quoted-printable")
        for attachment in mail.attachments:  # the message becomes multipart/mixed, text first
            maintype, _, subtype = attachment.mime_type.partition("/")
            message.add_attachment(attachment.content, maintype=maintype,
                                   subtype=subtype or "octet-stream",
                                   filename=attachment.filename)
        if mail.language:  # last: set_content and add_attachment move every Content-* header
            message["Content-Language"] = mail.language
        return message

    def send(self, mail: OutgoingMail) -> None:
        target = self._target
        if target is None:
            raise MailError("e-mail is not configured (MEGAFON_SMTP_URL is empty)")
        message = self.message(mail)
        try:
            if target.implicit_tls:
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    target.host, target.port, timeout=target.timeout,
                    context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(target.host, target.port, timeout=target.timeout)
            with smtp:
                if target.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if target.username:
                    smtp.login(target.username, target.password or "")
                smtp.send_message(message, from_addr=parseaddr(self.mail_from)[1] or None,
                                  to_addrs=[mail.to])
        except (smtplib.SMTPException, OSError) as exc:
            reason, permanent = _describe(exc)
            raise MailError(self._scrub(reason), permanent=permanent) from None


# --- the queue ---------------------------------------------------------------------------------

@dataclass
class MailReport:
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    gave_up: int = 0
    skipped: int = 0


# 1, 2, 4, 8 … minutes after the 1st, 2nd, 3rd … failed attempt, at most an hour: a mail server
# that is down for a while is not hammered, and a notification still arrives the same hour.
RETRY = Backoff(base=timedelta(minutes=1), cap=timedelta(hours=1))


# The outbox's due time is its lease: a claim pushes `email_due_at` past the lease, so a worker
# that dies leaves a notification that falls due again. On PostgreSQL that column is written and
# judged on the database server's clock (`core.claims.lease_clock`), like every lease.
LEASE = Lease(holder=Notification.email_claimed_by, until=Notification.email_due_at,
              judged=False)


def _clock(db: Database, now: datetime) -> Any:
    return lease_clock(not db.is_sqlite, now)


def _until(db: Database, seconds: float, now: datetime) -> Any:
    """A moment `seconds` after now on the outbox's clock (see LEASE)."""
    return lease_end(not db.is_sqlite, seconds, now + timedelta(seconds=seconds))


def claim_pending(db: Database, worker_id: str, *, limit: int = 20,
                  lease_seconds: int = LEASE_SECONDS, now: datetime | None = None) -> list[int]:
    """Claim up to `limit` notifications due for e-mail. A claim whose worker died runs out
    after `lease_seconds` and is taken again (counted as an attempt)."""
    now = now or utcnow()
    with db.session() as session:
        return claim(session, Notification.id,
                     where=[Notification.email_due_at <= _clock(db, now),
                            Notification.emailed_at.is_(None)],
                     order_by=[Notification.email_due_at, Notification.id], limit=limit,
                     now=now, lease=LEASE, worker=worker_id, seconds=lease_seconds,
                     values={"email_attempts": Notification.email_attempts + 1})


def _record(session: Session, notification_id: int, worker_id: str | None,
            **values: object) -> bool:
    """A guarded update of one notification not yet e-mailed (and, with worker_id, still ours)."""
    query = update(Notification).where(Notification.id == notification_id,
                                       Notification.emailed_at.is_(None))
    if worker_id is not None:
        query = query.where(Notification.email_claimed_by == worker_id)
    result = session.execute(query.values(**values)
                             .execution_options(synchronize_session=False))
    return result.rowcount == 1


def _compose(notification: Notification, sender: Mailer) -> OutgoingMail:
    user = notification.user
    locale = user.locale or sender.default_locale
    gettext = translations_for(locale).gettext
    rendered = render_for(notification, locale)
    lines = [rendered.body, ""]
    if notification.link:
        lines += [gettext(OPEN_LINE) % {"url": sender.base_url + notification.link}, ""]
    lines += ["-- ", gettext(FOOTER) % {"url": sender.base_url + "/notifications"}]
    stamp = int(notification.created_at.timestamp())
    return OutgoingMail(to=user.email, subject=rendered.subject, body="\n".join(lines),
                        message_id=f"<notification-{notification.id}.{stamp}@megafon>",
                        language=locale)


def send_pending(db: Database, sender: Mailer, limit: int = 20, *,
                 worker_id: str | None = None, now: datetime | None = None,
                 lease_seconds: int = LEASE_SECONDS) -> MailReport:
    """E-mail the notifications that are due; safe to run in any number of workers at once."""
    report = MailReport()
    if not sender.configured:
        return report
    worker_id = worker_id or f"mail-{uuid.uuid4().hex[:8]}"
    claimed = claim_pending(db, worker_id, limit=limit, lease_seconds=lease_seconds, now=now)
    report.claimed = len(claimed)
    for notification_id in claimed:
        outcome = _send_one(db, sender, notification_id, worker_id, now, lease_seconds)
        setattr(report, outcome, getattr(report, outcome) + 1)
    return report


def _attempt(sender: Mailer, mail: OutgoingMail, notification_id: int) -> MailError | None:
    try:
        sender.send(mail)
    except MailError as exc:
        return exc
    except Exception as exc:  # a bug must not leave the notification claimed until it expires
        log.exception("notification %s: unexpected error while e-mailing", notification_id)
        return MailError(f"internal error: {type(exc).__name__}")
    return None


def _send_one(db: Database, sender: Mailer, notification_id: int, worker_id: str,
              now: datetime | None, lease_seconds: int) -> str:
    """Send one claimed notification; returns which MailReport counter it adds to."""
    with db.session() as session:
        # Renew the lease right before sending: a slow batch must not let another worker take
        # a later item of it meanwhile. Losing the claim here means someone else has it.
        if not _record(session, notification_id, worker_id,
                       email_due_at=_until(db, lease_seconds, now or utcnow())):
            return "skipped"
        notification = session.get(Notification, notification_id)
        if notification is None:
            return "skipped"
        attempts = notification.email_attempts
        if attempts > MAX_EMAIL_ATTEMPTS:  # claimed again and again by workers that died
            _record(session, notification_id, worker_id, email_due_at=None,
                    email_claimed_by=None, email_error=notification.email_error
                    or "not sent: no worker finished sending it")
            return "gave_up"
        if not notification.user.active:
            _record(session, notification_id, worker_id, email_due_at=None,
                    email_claimed_by=None, email_error="not sent: the user is inactive")
            return "gave_up"
        mail = _compose(notification, sender)
    error = _attempt(sender, mail, notification_id)
    if error is not None:
        give_up = error.permanent or attempts >= MAX_EMAIL_ATTEMPTS
        wait, moment = RETRY.delay(attempts), now or utcnow()
        retry_at = moment + wait
        with db.session() as session:
            _record(session, notification_id, worker_id, email_claimed_by=None,
                    email_error=str(error), email_due_at=None if give_up
                    else _until(db, wait.total_seconds(), moment))
        if give_up:
            log.error("notification %s: e-mail given up after %s attempts: %s",
                      notification_id, attempts, error)
            return "gave_up"
        log.warning("notification %s: e-mail attempt %s failed, next at %s: %s",
                    notification_id, attempts, retry_at.isoformat(timespec="seconds"), error)
        return "failed"
    with db.session() as session:
        # Whoever holds the claim now, the message is out: record it so nobody sends it again.
        if not _record(session, notification_id, None, email_due_at=None,
                       email_claimed_by=None, emailed_at=utcnow(), email_error=None):
            log.warning("notification %s was e-mailed twice (a claim ran out)", notification_id)
    return "sent"

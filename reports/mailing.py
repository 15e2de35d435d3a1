"""The board's report by e-mail, monthly: each recipient gets last month's report once.

**When.** On the first working day (Monday to Friday, not a Swedish public holiday) of each
month, or on the day of the month an administrator chose (1–28), at the chosen hour (07:00 by
default), Stockholm time. The job
(`send_due`, every few minutes in every worker) asks which month is due: the month before the
latest sending moment that has passed. If that month has no run yet it is planned now, so a
scheduler that was down on the day sends when it is back — for the most recent month only —
and no month is planned twice.

**Once.** Planning inserts the month's `report_mail_runs` row (keyed by the month) and one
`report_mailings` row per recipient (unique per month and user) in one transaction whose first
statement is that insert; another worker's insert conflicts and plans nothing. The run keeps the
report's figures as they were counted (`reports.snapshots.encode`), so every recipient, and a
retry days later, reads the same numbers in the text and in the PDF. Each mailing is then sent
like a notification from the outbox (core.mail): claimed with a lease through `core.claims`
(on PostgreSQL on the database server's clock), the lease renewed just before the send, the
send outside any transaction, a failure retried with backoff and at last given up with its
reason kept, which the admin page shows. Only a worker that dies between the server's "accepted"
and its record can cause a second copy (with the same Message-ID), as in the outbox.

**The paper.** Rendered once per month and language and stored (`report_mail_papers`): on
PostgreSQL one worker renders under an advisory lock while the others wait for its file; every
copy in a language is the same file. The rendering itself is the web app's board paper, handed
in by the caller (`web.reports.paper_maker`): reports/ never imports Flask.

**Who.** Every active board member, unless an administrator took them off, and anyone else who
may see reports whom an administrator added: `report_mail_recipients` holds only those choices,
so a new board member receives the report without anyone remembering to add them.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import holidays
from babel.dates import format_date
from babel.numbers import format_decimal, format_percent
from sqlalchemy import (
    Boolean,
    ForeignKey,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from core.audit import record
from core.auth import Action, can, district, require
from core.backoff import Backoff
from core.claims import Lease, claim, lease_clock, lease_end
from core.clock import STOCKHOLM, to_local, utcnow
from core.db import Base, Database, UTCDateTime, dialect_insert, on_postgres
from core.i18n import N_, UserError, ValidationErrors
from core.mail import Attachment, Mailer, MailError, OutgoingMail
from core.notifications import translations_for
from core.users import OrganisationKind, Role, User
from reports import snapshots
from reports.board import Report, board_report
from reports.period import Period, PeriodError, parse

log = logging.getLogger(__name__)

DEFAULT_HOUR = 7  # 07:00 Stockholm: in the inbox before the working day
LAST_DAY = 28  # a chosen day exists in every month
LEASE_SECONDS = 300  # longer than rendering a paper and one SMTP conversation
MAX_ATTEMPTS = 6
BATCH = 20
# 5, 10, 20, 40 … minutes after the 1st, 2nd, 3rd … failure, at most two hours: a mail server
# down for the morning is not hammered, and the report still arrives the same day.
RETRY = Backoff(base=timedelta(minutes=5), cap=timedelta(hours=2))

# (report, counted at, organisation, language) -> the board paper as PDF bytes.
PaperMaker = Callable[[Report, datetime, str, str], bytes]


# --- the rows ----------------------------------------------------------------------------------

class ReportMailSettings(Base):
    """When the monthly report goes out: one row (id 1), written by the admin page."""

    __tablename__ = "report_mail_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[int | None] = mapped_column()  # 1–28; NULL: the first weekday of the month
    hour: Mapped[int] = mapped_column(default=DEFAULT_HOUR)  # Stockholm, 0–23
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))


class ReportMailRecipient(Base):
    """An administrator's choice for one user: receives the report (True) or not (False).
    Without a row a user receives it if they are on the board."""

    __tablename__ = "report_mail_recipients"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    receives: Mapped[bool] = mapped_column(Boolean)


class ReportMailRun(Base):
    """A month's mailing, planned once: the report's figures as they were sent."""

    __tablename__ = "report_mail_runs"

    period: Mapped[str] = mapped_column(String(7), primary_key=True)  # "2014-08"
    planned_at: Mapped[datetime] = mapped_column(UTCDateTime())
    counted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    organisation: Mapped[str] = mapped_column(String(200))
    payload: Mapped[str] = mapped_column(Text)  # reports.snapshots.encode


class ReportMailPaper(Base):
    """A month's board paper in one language, rendered once and attached to every copy."""

    __tablename__ = "report_mail_papers"

    period: Mapped[str] = mapped_column(
        ForeignKey("report_mail_runs.period", ondelete="CASCADE"), primary_key=True)
    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    rendered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    pdf: Mapped[bytes] = mapped_column(LargeBinary)


class ReportMailing(Base):
    """One recipient's copy of a month's report: a small queue of its own, like the outbox.

    `due_at` is when the next attempt may be made and, while a worker holds it, its lease (NULL
    once sent or given up); `claimed_by` the worker holding it; `error` the last failure's
    reason, kept when given up."""

    __tablename__ = "report_mailings"
    __table_args__ = (UniqueConstraint("period", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(
        ForeignKey("report_mail_runs.period", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    attempts: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_to: Mapped[str | None] = mapped_column(String(254))
    language: Mapped[str | None] = mapped_column(String(8))
    error: Mapped[str | None] = mapped_column(Text)

    user: Mapped[User] = relationship(lazy="joined")

    @property
    def state(self) -> str:
        """"sent", "waiting" (not yet tried, or to be tried again after `error`) or "failed"
        (given up; `error` says why)."""
        if self.sent_at is not None:
            return "sent"
        return "waiting" if self.due_at is not None else "failed"


STATE_LABELS = {"sent": N_("Sent"), "waiting": N_("Waiting"), "failed": N_("Not sent")}


# --- when --------------------------------------------------------------------------------------

def sending_day(year: int, month: int, day: int | None) -> date:
    """The day the report goes out in that month: `day` (1–28), or the first working day —
    Monday to Friday and not a Swedish public holiday (python-holidays' calendar: New Year's
    Day, Epiphany, Good Friday, Easter Monday, May Day, Ascension, National Day, Midsummer Eve,
    Christmas Eve and Day, Boxing Day, New Year's Eve)."""
    if day is not None:
        return date(year, month, day)
    closed = holidays.country_holidays("SE", years=year)
    found = date(year, month, 1)
    while found.weekday() >= 5 or found in closed:
        found += timedelta(days=1)
    return found


def sending_moment(year: int, month: int, day: int | None, hour: int) -> datetime:
    """When that month's mailing falls due, in UTC: `hour`:00 on the Stockholm wall clock of
    its day (an hour that the spring change skips counts from an hour later)."""
    wall = datetime.combine(sending_day(year, month, day), time(hour), tzinfo=STOCKHOLM)
    return wall.astimezone(UTC)


def _month(first: date) -> Period:
    return parse(f"{first:%Y-%m}", first)


def _months_before(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def due_period(now: datetime, day: int | None, hour: int) -> Period:
    """The month whose report is due at `now`: the month before the latest sending moment
    that has passed (so last month once this month's moment has come, else the month before)."""
    this = to_local(now).date().replace(day=1)
    passed = now >= sending_moment(this.year, this.month, day, hour)
    return _month(_months_before(this, 1 if passed else 2))


def next_sending(now: datetime, day: int | None, hour: int) -> tuple[datetime, Period]:
    """The next sending moment after `now` and the month it will report."""
    this = to_local(now).date().replace(day=1)
    moment = sending_moment(this.year, this.month, day, hour)
    if moment <= now:
        this = _months_before(this, -1)
        moment = sending_moment(this.year, this.month, day, hour)
    return moment, _month(_months_before(this, 1))


# --- who ---------------------------------------------------------------------------------------

def may_receive(user: User) -> bool:
    """Only active users who may see reports can receive one."""
    return user.active and can(user, Action.VIEW_REPORTS)


def _choices(session: Session) -> dict[int, bool]:
    rows = session.execute(select(ReportMailRecipient.user_id, ReportMailRecipient.receives))
    return {user_id: receives for user_id, receives in rows}


def candidates(session: Session) -> list[tuple[User, bool]]:
    """Every user who could receive the report, by name, and whether they do."""
    choices = _choices(session)
    users = session.scalars(select(User).where(User.active.is_(True))
                            .order_by(User.name, User.id))
    return [(user, choices.get(user.id, user.role is Role.BOARD))
            for user in users if may_receive(user)]


def recipients(session: Session) -> list[User]:
    return [user for user, receives in candidates(session) if receives]


def _settings(session: Session) -> ReportMailSettings:
    found = session.get(ReportMailSettings, 1)
    return found if found is not None else ReportMailSettings(id=1, day=None, hour=DEFAULT_HOUR)


# --- planning a month --------------------------------------------------------------------------

def plan_due(db: Database, *, now: datetime | None = None, own_party: str = "V",
             period: Period | None = None) -> str | None:
    """Plan the month that is due (or `period`, a month an operator names), unless it is
    planned already: its run and one mailing per recipient. Returns the month ("2014-08") when
    this call planned it."""
    now = now or utcnow()
    with db.session() as session:  # reading only: the figures, the recipients
        if period is None:
            settings = _settings(session)
            period = due_period(now, settings.day, settings.hour)
        key = period.token()
        if session.get(ReportMailRun, key) is not None:
            return None
        people = recipients(session)
        if not people:  # nobody to send to; an admin who adds someone later sends it then
            return None
        # The board's paper shows the whole district's publishing: counted as a district
        # recipient where there is one (an association's user would narrow it to theirs).
        acting = next((p for p in people if p.organisation.kind is OrganisationKind.DISTRICT),
                      people[0])
        report = board_report(session, acting, period, own_party=own_party)
        organisation = district(session).name
        ids = [person.id for person in people]
    postgres = not db.is_sqlite
    with db.session() as session:
        # The first statement writes: on SQLite it waits for the write lock instead of failing
        # on a stale read, and a second planner's insert conflicts and plans nothing.
        insert = dialect_insert(session)
        planned = session.scalar(
            insert(ReportMailRun)
            .values(period=key, planned_at=now, counted_at=now, organisation=organisation,
                    payload=snapshots.encode(report, now))
            .on_conflict_do_nothing(index_elements=["period"])
            .returning(ReportMailRun.period))
        if planned is None:
            return None
        session.execute(
            insert(ReportMailing)
            .values([{"period": key, "user_id": user_id, "created_at": now,
                      "due_at": lease_clock(postgres, now), "attempts": 0}
                     for user_id in ids])
            .on_conflict_do_nothing(index_elements=["period", "user_id"]))
    log.info("monthly report %s planned for %s recipients", key, len(ids))
    return key


@dataclass(frozen=True)
class Planned:
    """One copy of a month's report: to whom, in which language, and (once the month is
    planned) its state and last error."""

    email: str
    language: str
    state: str | None = None
    error: str | None = None


def preview(db: Database, period: Period, *, default_locale: str = "sv"
            ) -> tuple[bool, list[Planned]]:
    """Whether the month is planned, and its copies: the planned mailings, or else who would
    receive it now. Writes nothing."""
    with db.session() as session:
        if session.get(ReportMailRun, period.token()) is not None:
            rows = session.scalars(select(ReportMailing)
                                   .where(ReportMailing.period == period.token())
                                   .order_by(ReportMailing.id))
            return True, [Planned(row.sent_to or row.user.email,
                                  row.language or row.user.locale or default_locale,
                                  row.state, row.error) for row in rows]
        return False, [Planned(user.email, user.locale or default_locale)
                       for user in recipients(session)]


def month_of(text: str, today: date) -> Period:
    """A month as an operator writes it ("2014-08"), or the default, last month; PeriodError
    for anything that is not one whole month."""
    period = parse(text or None, today)
    if period.first.day != 1 or _months_before(period.first, -1) != (
            period.last + timedelta(days=1)):
        raise PeriodError(N_("The monthly report covers one month: write it as 2014-08."),
                          field="period")
    return _month(period.first)


# --- sending -----------------------------------------------------------------------------------

LEASE = Lease(holder=ReportMailing.claimed_by, until=ReportMailing.due_at, judged=False)


@dataclass
class MailingReport:
    planned: str | None = None
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    gave_up: int = 0
    skipped: int = 0


def _until(db: Database, seconds: float, now: datetime) -> Any:
    return lease_end(not db.is_sqlite, seconds, now + timedelta(seconds=seconds))


def claim_mailings(db: Database, worker_id: str, *, limit: int = BATCH,
                   lease_seconds: int = LEASE_SECONDS, now: datetime | None = None) -> list[int]:
    """Claim up to `limit` mailings that are due; a dead worker's claim runs out and is taken
    again (counted as an attempt)."""
    now = now or utcnow()
    with db.session() as session:
        return claim(session, ReportMailing.id,
                     where=[ReportMailing.due_at <= lease_clock(not db.is_sqlite, now),
                            ReportMailing.sent_at.is_(None)],
                     order_by=[ReportMailing.due_at, ReportMailing.id], limit=limit, now=now,
                     lease=LEASE, worker=worker_id, seconds=lease_seconds,
                     values={"attempts": ReportMailing.attempts + 1})


def send_due(db: Database, sender: Mailer, paper: PaperMaker, *, worker_id: str | None = None,
             now: datetime | None = None, own_party: str = "V", limit: int = BATCH,
             lease_seconds: int = LEASE_SECONDS) -> MailingReport:
    """Plan the month that is due and send what is waiting: the scheduled job, safe in any
    number of workers at once. Without e-mail configured nothing is planned or sent."""
    if not sender.configured:
        return MailingReport()
    planned = plan_due(db, now=now, own_party=own_party)
    report = send_waiting(db, sender, paper, worker_id=worker_id, now=now, limit=limit,
                          lease_seconds=lease_seconds)
    report.planned = planned
    return report


def send_waiting(db: Database, sender: Mailer, paper: PaperMaker, *,
                 worker_id: str | None = None, now: datetime | None = None, limit: int = BATCH,
                 lease_seconds: int = LEASE_SECONDS) -> MailingReport:
    """Send every mailing that is due (new, or waiting to be tried again)."""
    report = MailingReport()
    worker_id = worker_id or f"report-mail-{uuid.uuid4().hex[:8]}"
    while True:
        claimed = claim_mailings(db, worker_id, limit=limit, lease_seconds=lease_seconds,
                                 now=now)
        report.claimed += len(claimed)
        for mailing_id in claimed:
            outcome = _send_one(db, sender, paper, mailing_id, worker_id, now, lease_seconds)
            setattr(report, outcome, getattr(report, outcome) + 1)
        if len(claimed) < limit:
            return report


def _record(session: Session, mailing_id: int, worker_id: str | None, **values: object) -> bool:
    """A guarded update of one mailing not yet sent (and, with worker_id, still ours)."""
    query = update(ReportMailing).where(ReportMailing.id == mailing_id,
                                        ReportMailing.sent_at.is_(None))
    if worker_id is not None:
        query = query.where(ReportMailing.claimed_by == worker_id)
    result = session.execute(query.values(**values)
                             .execution_options(synchronize_session=False))
    return result.rowcount == 1  # type: ignore[attr-defined]


@dataclass(frozen=True)
class _Job:
    user_id: int
    name: str
    email: str
    language: str
    period: str
    organisation: str
    payload: str
    attempts: int
    message_id: str


def _send_one(db: Database, sender: Mailer, paper: PaperMaker, mailing_id: int,
              worker_id: str, now: datetime | None, lease_seconds: int) -> str:
    """Send one claimed mailing; returns which MailingReport counter it adds to."""
    with db.session() as session:
        if not _record(session, mailing_id, worker_id,
                       due_at=_until(db, lease_seconds, now or utcnow())):
            return "skipped"  # the claim ran out and someone else has it
        mailing = session.get(ReportMailing, mailing_id)
        if mailing is None:
            return "skipped"
        problem = None
        if mailing.attempts > MAX_ATTEMPTS:  # claimed again and again by workers that died
            problem = mailing.error or "not sent: no worker finished sending it"
        elif not may_receive(mailing.user):
            problem = "not sent: the user is inactive or may not see reports"
        if problem is not None:
            _record(session, mailing_id, worker_id, due_at=None, claimed_by=None,
                    error=problem)
            return "gave_up"
        run = session.get_one(ReportMailRun, mailing.period)
        user = mailing.user
        job = _Job(user.id, user.name, user.email, user.locale or sender.default_locale,
                   run.period, run.organisation, run.payload, mailing.attempts,
                   f"<report-{run.period}-{user.id}@megafon>")
    error = _attempt(db, sender, paper, job, mailing_id)
    moment = now or utcnow()
    if error is not None:
        give_up = error.permanent or job.attempts >= MAX_ATTEMPTS
        wait = RETRY.delay(job.attempts)
        with db.session() as session:
            _record(session, mailing_id, worker_id, claimed_by=None, error=str(error),
                    due_at=None if give_up else _until(db, wait.total_seconds(), moment))
        if give_up:
            log.error("monthly report %s to user %s given up after %s attempts: %s",
                      job.period, job.user_id, job.attempts, error)
            return "gave_up"
        log.warning("monthly report %s to user %s: attempt %s failed, next in %s: %s",
                    job.period, job.user_id, job.attempts, wait, error)
        return "failed"
    with db.session() as session:
        # Whoever holds the claim now, the message is out: record it so nobody sends it again.
        if not _record(session, mailing_id, None, due_at=None, claimed_by=None,
                       sent_at=utcnow(), sent_to=job.email, language=job.language,
                       error=None):
            log.warning("monthly report %s to user %s was sent twice (a claim ran out)",
                        job.period, job.user_id)
    return "sent"


def _attempt(db: Database, sender: Mailer, paper: PaperMaker, job: _Job,
             mailing_id: int) -> MailError | None:
    try:
        report, counted = snapshots.decode(job.payload)
        pdf = paper_for(db, job.period, job.language,
                        lambda: paper(report, counted, job.organisation, job.language))
        sender.send(compose(job, report, pdf, sender.base_url))
    except MailError as exc:
        return exc
    except Exception as exc:  # a bug must not leave the mailing claimed until its lease ends
        log.exception("monthly report mailing %s: unexpected error", mailing_id)
        return MailError(f"internal error: {type(exc).__name__}: {exc}")
    return None


_rendering = threading.Lock()  # one rendering at a time in this process (SQLite's workers)


def _lock_id(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big",
                          signed=True)


def paper_for(db: Database, period: str, language: str, render: Callable[[], bytes]) -> bytes:
    """The month's paper in `language`: the stored one, else rendered now and stored. One
    worker renders it: on PostgreSQL under an advisory lock on (month, language), which the
    others wait on and then read its file; in one process under a lock."""
    stored = select(ReportMailPaper.pdf).where(ReportMailPaper.period == period,
                                               ReportMailPaper.language == language)
    with _rendering, db.session() as session:
        postgres = on_postgres(session)
        if postgres:
            session.execute(select(func.pg_advisory_xact_lock(
                _lock_id(f"report-mail:{period}:{language}"))))
        found = session.scalar(stored)
        if found is not None:
            return found
        if not postgres:
            session.commit()  # SQLite: the write below starts on a fresh snapshot
        pdf = render()
        session.execute(dialect_insert(session)(ReportMailPaper)
                        .values(period=period, language=language, rendered_at=utcnow(), pdf=pdf)
                        .on_conflict_do_nothing(index_elements=["period", "language"]))
        return session.scalar(stored) or pdf


# --- the message -------------------------------------------------------------------------------

SUBJECT = N_("The board's report for %(month)s")
GREETING = N_("Hello %(name)s,")
INTRO = N_("Here is the board's report for %(month)s on how visible we were in the media; "
           "the whole report is attached as a PDF.")
TOTAL = N_("Mentions in the media: %(total)s (%(change)s against the month before).")
TOTAL_NEW = N_("Mentions in the media: %(total)s (none the month before).")
SHARE = N_("Our share of voice: %(share)s of the parties named.")
GREW = N_("The issue that grew most: %(issue)s.")
OUTLET = N_("The outlet that wrote most: %(outlet)s.")
LIVE = N_("The report on the web, with every chart and table: %(url)s")
WHY = N_("You receive this every month because an administrator of Megafon put you on the "
         "list for the board's report; ask them to take you off it.")


def file_name(period: str) -> str:
    return f"megafon-rapport-{period}.pdf"


def _change(value: float, locale: str) -> str:
    return format_decimal(value * 100, "+#,##0;-#,##0", locale=locale) + " %"


def compose(job: _Job, report: Report, pdf: bytes, base_url: str) -> OutgoingMail:
    """The e-mail in the recipient's language: the headline figures in a few sentences, the
    link to the live page and the paper attached."""
    locale = job.language
    gettext = translations_for(locale).gettext
    month = format_date(report.period.first, "LLLL yyyy", locale=locale)
    total = format_decimal(report.total, locale=locale)
    figures = [gettext(TOTAL) % {"total": total, "change": _change(report.change, locale)}
               if report.change is not None else gettext(TOTAL_NEW) % {"total": total}]
    if report.own_share is not None and report.own_share.count:
        figures.append(gettext(SHARE) % {"share": format_percent(
            report.own_share.share, "#,##0.0 %", locale=locale)})
    if report.grew_most is not None:
        figures.append(gettext(GREW) % {"issue": report.grew_most.name})
    if report.top_outlet is not None:
        figures.append(gettext(OUTLET) % {"outlet": report.top_outlet.outlet})
    link = f"{base_url}/reports?period={job.period}"
    body = "\n".join([
        gettext(GREETING) % {"name": job.name}, "",
        gettext(INTRO) % {"month": month}, "",
        " ".join(figures), "",
        gettext(LIVE) % {"url": link}, "",
        "-- ", gettext(WHY), ""])
    return OutgoingMail(to=job.email, subject=gettext(SUBJECT) % {"month": month}, body=body,
                        message_id=job.message_id, language=locale,
                        attachments=(Attachment(file_name(job.period), pdf, "application/pdf"),))


# --- the admin page ----------------------------------------------------------------------------

RECENT = 50


@dataclass
class MailingAdmin:
    day: int | None
    hour: int
    candidates: list[tuple[User, bool]]
    next_at: datetime
    next_period: Period
    recent: list[ReportMailing]


def mailing_admin(session: Session, by: User, now: datetime | None = None) -> MailingAdmin:
    """What the admin page shows: the day and hour, who receives the report, when it goes out
    next, and the latest mailings with their state and errors. Administrators only."""
    require(by, Action.MANAGE_REPORT_MAIL)
    settings = _settings(session)
    next_at, period = next_sending(now or utcnow(), settings.day, settings.hour)
    recent = list(session.scalars(select(ReportMailing)
                                  .order_by(ReportMailing.period.desc(), ReportMailing.id)
                                  .limit(RECENT)))
    return MailingAdmin(settings.day, settings.hour, candidates(session), next_at, period,
                        recent)


def save_mailing(session: Session, by: User, *, recipient_ids: Iterable[int], day: int | None,
                 hour: int, now: datetime | None = None) -> None:
    """An administrator chooses who receives the report and when. Refuses (ValidationErrors,
    at the fields) a day outside 1–28, an hour outside 0–23 or a recipient who cannot receive
    it; only departures from the default (the board) are stored."""
    require(by, Action.MANAGE_REPORT_MAIL)
    chosen = set(recipient_ids)
    everyone = candidates(session)
    errors = []
    if day is not None and not 1 <= day <= LAST_DAY:
        errors.append(UserError(N_("Choose the first weekday or a day from 1 to 28."),
                                field="day"))
    if not 0 <= hour <= 23:
        errors.append(UserError(N_("Choose an hour from 0 to 23."), field="hour"))
    if chosen - {user.id for user, _ in everyone}:
        errors.append(UserError(N_("Only active users who may see reports can receive it."),
                                field="recipients"))
    if errors:
        raise ValidationErrors(errors)
    now = now or utcnow()
    insert = dialect_insert(session)
    session.execute(insert(ReportMailSettings)
                    .values(id=1, day=day, hour=hour, updated_at=now, updated_by_id=by.id)
                    .on_conflict_do_update(index_elements=["id"], set_={
                        "day": day, "hour": hour, "updated_at": now, "updated_by_id": by.id}))
    record(session, by, "update", "report_mail", 1, changes={
        "day": day, "hour": hour, "recipients": sorted(chosen)})
    choices = _choices(session)
    for user, _receives in everyone:
        wanted = user.id in chosen
        if wanted == (user.role is Role.BOARD):  # the default: no row needed
            if user.id in choices:
                session.delete(session.get_one(ReportMailRecipient, user.id))
        elif choices.get(user.id) != wanted:
            session.merge(ReportMailRecipient(user_id=user.id, receives=wanted))
    session.flush()

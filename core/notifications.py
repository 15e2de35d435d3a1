"""Telling people: notifications shown in the app and, when SMTP is configured, e-mailed.

A notification stores msgids (subject, body) and their parameters, never translated text, so each
reader sees it in their own language: the web translates with Flask-Babel, e-mail (core.mail) with
the catalogues in web/translations loaded through plain Babel. Any kind of news travels this way:
failed deliveries now, media-monitoring alerts and digests later.

The e-mail side of a row is a small queue of its own: `email_due_at` is when the next attempt may
be made (NULL once sent or given up), `email_claimed_by` the worker holding it (see core.mail).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from gettext import NullTranslations
from io import BytesIO
from pathlib import Path
from typing import Any, Literal

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from sqlalchemy import ForeignKey, Index, String, Text, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from core.claims import lease_clock
from core.clock import utcnow
from core.db import Base, UTCDateTime, on_postgres
from core.users import User

log = logging.getLogger(__name__)

TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "web" / "translations"
ALL: Literal["all"] = "all"
# Kept among a notification's parameters once its news is settled: no column needed, and no
# message placeholder is ever named so.
RESOLUTION = "_resolution"


class Notification(Base):
    """One piece of news for one user."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_read", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    params: Mapped[str] = mapped_column(Text, default="{}")
    link: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    email_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    email_claimed_by: Mapped[str | None] = mapped_column(String(120))
    email_attempts: Mapped[int] = mapped_column(default=0)
    email_error: Mapped[str | None] = mapped_column(Text)

    user: Mapped[User] = relationship()

    @property
    def parameters(self) -> dict[str, Any]:
        return json.loads(self.params or "{}")

    @property
    def resolution(self) -> str | None:
        """The msgid saying how the news was settled (see `resolve`), or None while it stands."""
        value = self.parameters.get(RESOLUTION)
        return str(value) if value else None

    def __repr__(self) -> str:
        return f"<Notification {self.id} {self.kind} user={self.user_id}>"


@dataclass(frozen=True)
class Msgid:
    """A parameter that is itself a message: translated into the reader's language on rendering.

    notify(..., explanation=Msgid(N_("The account's login has expired…")))
    notify(..., error=Msgid(N_("The host name could not be found (%(host)s)."), {"host": h}))
    """

    msgid: str
    params: Mapping[str, object] | None = None


def _encode(value: object) -> object:
    if isinstance(value, Msgid):
        return {"msgid": value.msgid, "params": dict(value.params or {})}
    return value


def notify(session: Session, users: Iterable[User], kind: str, subject: str, body: str,
           link: str | None = None, **params: object) -> list[Notification]:
    """Tell each of `users` (once each, active ones only) about something.

    `subject` and `body` are msgids marked with N_() whose %(name)s placeholders are filled from
    `params` (JSON values, or Msgid for a message to translate as well). A user who still has an
    unread notification of the same kind and link is not told again. Runs in the caller's
    transaction; returns the notifications created.
    """
    stored = json.dumps({k: _encode(v) for k, v in params.items()}, ensure_ascii=False,
                        sort_keys=True)
    now = utcnow()
    # The e-mail is due now on the outbox's own clock, the one its claims judge it by
    # (core.mail.LEASE: the database server's on PostgreSQL), not on this process's clock.
    due = lease_clock(on_postgres(session), now)
    created: list[Notification] = []
    seen: set[int] = set()
    for user in users:
        if user.id in seen or not user.active:
            continue
        seen.add(user.id)
        already = session.scalar(
            select(Notification.id).where(
                Notification.user_id == user.id, Notification.kind == kind,
                Notification.link.is_not_distinct_from(link), Notification.read_at.is_(None))
            .limit(1))
        if already is not None:
            continue
        notification = Notification(user_id=user.id, kind=kind, subject=subject, body=body,
                                    params=stored, link=link, created_at=now, email_due_at=due,
                                    email_attempts=0)
        session.add(notification)
        created.append(notification)
    session.flush()
    return created


def unread_count(session: Session, user: User) -> int:
    return session.scalar(
        select(func.count()).select_from(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def recent(session: Session, user: User, limit: int = 50) -> list[Notification]:
    """The user's notifications, newest first."""
    return list(session.scalars(
        select(Notification).where(Notification.user_id == user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)))


def mark_read(session: Session, user: User, ids: Iterable[int] | Literal["all"]) -> int:
    """Mark the user's own notifications read (the given ids, or ALL); returns how many changed.

    Ids of other users' notifications are ignored.
    """
    query = update(Notification).where(Notification.user_id == user.id,
                                       Notification.read_at.is_(None))
    if ids != ALL:
        wanted = [int(i) for i in ids]
        if not wanted:
            return 0
        query = query.where(Notification.id.in_(wanted))
    result = session.execute(query.values(read_at=utcnow())
                             .execution_options(synchronize_session=False))
    return result.rowcount or 0


def resolve(session: Session, kinds: Iterable[str], link: str,
            resolution: str) -> list[Notification]:
    """Settle news that is no longer true: each notification of `kinds` about `link` that still
    stands gets `resolution` (a msgid, shown with it in the reader's language) and no longer
    counts as unread; its e-mail, if not yet on its way, is not sent. Runs in the caller's
    transaction.

    Returns the ones whose reader may already have acted on them (read in the app, or e-mailed or
    being e-mailed), so the caller can tell those readers what became of it: a problem a reader
    never saw needs no news that it is over.
    """
    standing = [n for n in session.scalars(
        select(Notification).where(Notification.kind.in_(list(kinds)),
                                   Notification.link == link)
        .order_by(Notification.id).with_for_update())
        if n.resolution is None]
    now = utcnow()
    told = []
    for notification in standing:
        notification.params = json.dumps({**notification.parameters, RESOLUTION: resolution},
                                         ensure_ascii=False, sort_keys=True)
        e_mailed = notification.emailed_at is not None or notification.email_claimed_by is not None
        if e_mailed or notification.read_at is not None:
            told.append(notification)
        if not e_mailed and notification.email_due_at is not None:
            notification.email_due_at = None  # stale news: not e-mailed now
            notification.email_error = "not sent: settled before it went out"
        notification.read_at = notification.read_at or now
    session.flush()
    return told


# --- rendering in a language -------------------------------------------------------------------

@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    resolution: str | None = None  # how the news was settled, when it no longer stands


def _format(gettext: Callable[[str], str], msgid: str, params: Mapping[str, object]) -> str:
    """Translate and fill in; a broken translation falls back to the English msgid."""
    for template in (gettext(msgid), msgid):
        try:
            return template % params if params else template
        except (KeyError, ValueError, TypeError):
            log.warning("cannot fill in message %r", template)
    return msgid


def render(notification: Notification, gettext: Callable[[str], str]) -> Rendered:
    """The notification's subject and body through `gettext` (Flask-Babel's, or a catalogue's)."""
    params: dict[str, object] = {}
    for name, value in notification.parameters.items():
        if name == RESOLUTION:
            continue
        if isinstance(value, dict) and "msgid" in value:
            value = _format(gettext, str(value["msgid"]), value.get("params") or {})
        params[name] = value
    resolution = notification.resolution
    return Rendered(subject=_format(gettext, notification.subject, params),
                    body=_format(gettext, notification.body, params),
                    resolution=gettext(resolution) if resolution else None)


@lru_cache(maxsize=8)
def translations_for(locale: str) -> NullTranslations:
    """The web's message catalogue for `locale`, without Flask.

    Prefers the compiled .mo; falls back to compiling the .po in memory (a checkout where
    `make translations` has not run), then to English.
    """
    folder = TRANSLATIONS_DIR / locale / "LC_MESSAGES"
    if (folder / "messages.mo").exists():
        return Translations.load(str(TRANSLATIONS_DIR), [locale], "messages")
    po = folder / "messages.po"
    if po.exists():
        try:
            with po.open("rb") as handle:
                catalog = read_po(handle, locale=locale)
            compiled = BytesIO()
            write_mo(compiled, catalog, use_fuzzy=True)
            compiled.seek(0)
            return Translations(compiled, domain="messages")
        except Exception:
            log.exception("cannot read the %s catalogue; e-mail falls back to English", locale)
    return NullTranslations()


def render_for(notification: Notification, locale: str) -> Rendered:
    return render(notification, translations_for(locale).gettext)

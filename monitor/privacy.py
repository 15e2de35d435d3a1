"""Private persons' posts about a party are sensitive personal data (GDPR art. 9: political
opinions): kept only as long as a setting says, found and erased on request, every act logged.

*Personal* mentions are X search results and Page comments that are not our own accounts'
posts: what private persons wrote. News articles, web pages and clippings (media's published
work) and our own posts are not personal in this sense and are kept.

Removing a personal mention's personal data (`remove_personal`) empties its headline, its words,
its link and every copy's (sightings), forgets its author, the matched words and the duplicate
signature, and stamps `personal_removed_at`. What the board's report counts stays — when, which
outlet and kind, which issues, which parties and candidates it named, its tone — so a period's
figures never change when its personal data goes. SQLite's full-text row follows through the
mapper event (monitor.models); PostgreSQL's search vector is a generated column.

`remove_expired` (a daily job) does this for every personal mention first seen longer ago than
the retention time (MEGAFON_PERSONAL_DATA_DAYS, 90 by default). `find_person` finds what is
held about one person by handle or name, `export_person` gives it as JSON, `erase_person`
removes it; each is logged in `privacy_log` with who, when and how many.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ForeignKey, String, and_, false, func, or_, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship, selectinload

from core.audit import record
from core.auth import Action, require
from core.clock import utcnow
from core.db import Base, UTCDateTime
from core.i18n import N_, UserError, ValidationErrors
from core.users import User
from monitor.models import PERSONAL_KEPT, Mention, SourceKind

PERSONAL_KINDS = (SourceKind.X_SEARCH, SourceKind.FB_COMMENTS)
BATCH = 500
MOST_FOUND = 1000


class PrivacyLog(Base):
    """Who looked up, exported or erased whose data, when, and how many mentions; and each run
    of the retention job (actor empty)."""

    __tablename__ = "privacy_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(16))  # search | export | erase | retention
    subject: Mapped[str] = mapped_column(String(200))
    mentions: Mapped[int] = mapped_column(default=0)

    actor: Mapped[User | None] = relationship(lazy="joined")


def is_personal(mention: Mention) -> bool:
    return mention.source_kind in PERSONAL_KINDS and mention.own_account_id is None


def remove_personal(mention: Mention, now: datetime) -> bool:
    """Remove one personal mention's personal data (see the module); False if it is not a
    private person's or was removed already."""
    if not is_personal(mention) or mention.personal_removed_at is not None:
        return False
    mention.title = ""
    mention.text = ""
    mention.url = mention.normalized_url = None
    mention.author_id = mention.author_handle = None
    mention.hits = "[]"
    mention.signature = None
    mention.note = None
    for copy in mention.sightings:
        copy.title = ""
        copy.url = copy.normalized_url = None
        copy.item_key = f"removed:{copy.id}"
    mention.personal_removed_at = now
    mention.updated_at = now
    return True


def _kept(older_than: datetime) -> Any:
    """Personal mentions still holding their data, first seen before `older_than` (the partial
    index ix_mentions_personal_kept serves it)."""
    return and_(text(PERSONAL_KEPT), Mention.first_seen_at < older_than)


def remove_expired(session: Session, days: int, *, now: datetime | None = None,
                   limit: int = BATCH) -> int:
    """Remove the personal data of up to `limit` personal mentions first seen more than `days`
    ago, oldest first; the number done. Call again while it returns `limit`. Idempotent, so
    two workers at once do no harm (the second finds them done)."""
    now = now or utcnow()
    if days <= 0:
        return 0
    found = list(session.scalars(
        select(Mention).where(_kept(now - timedelta(days=days)))
        .order_by(Mention.first_seen_at, Mention.id).limit(limit)
        .options(selectinload(Mention.sightings))))
    done = sum(remove_personal(mention, now) for mention in found)
    if done:
        session.add(PrivacyLog(at=now, action="retention", subject=f"{days} days",
                               mentions=done))
    session.flush()
    return done


@dataclass(frozen=True)
class Found:
    """What is held about one person: the personal mentions by them or naming them."""

    subject: str
    mentions: list[Mention]


def _subject(raw: str) -> str:
    subject = " ".join((raw or "").split())
    if len(subject.lstrip("@")) < 3 or len(subject) > 200 or any(ord(c) < 32 for c in subject):
        raise ValidationErrors([UserError(
            N_("Give a handle (@name) or a name of at least three characters."),
            field="subject")])
    return subject


def _search(session: Session, subject: str) -> list[Mention]:
    handle = subject.lstrip("@").lower()
    by_author = Mention.author_handle == handle
    # Lower case on both sides, and as typed too (SQLite's lower() folds only A–Z, so "Åsa"
    # in a text is found by "Åsa" as typed).
    patterns = {_like(subject.lstrip("@").lower()), _like(subject.lstrip("@"))}
    naming = or_(*(column.like(pattern, escape="\\") for pattern in patterns
                   for column in (func.lower(Mention.title), func.lower(Mention.text),
                                  func.lower(Mention.url), Mention.title, Mention.text)))
    return list(session.scalars(
        select(Mention).where(Mention.source_kind.in_(PERSONAL_KINDS),
                              Mention.own_account_id.is_(None),
                              Mention.personal_removed_at.is_(None),
                              or_(by_author, naming) if handle else false())
        .order_by(Mention.first_seen_at.desc(), Mention.id.desc()).limit(MOST_FOUND)
        .options(selectinload(Mention.sightings))))


def _like(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def find_person(session: Session, actor: User, raw: str, *, now: datetime | None = None
                ) -> Found:
    """The personal mentions written by a handle or naming a person (headline, words or
    link), newest first; logged."""
    require(actor, Action.MANAGE_USERS)
    subject = _subject(raw)
    found = _search(session, subject)
    session.add(PrivacyLog(at=now or utcnow(), actor_id=actor.id, action="search",
                           subject=subject, mentions=len(found)))
    return Found(subject, found)


def export_person(session: Session, actor: User, raw: str, *, now: datetime | None = None
                  ) -> str:
    """Everything found about the person as JSON (a subject access request); logged."""
    require(actor, Action.MANAGE_USERS)
    subject = _subject(raw)
    found = _search(session, subject)
    session.add(PrivacyLog(at=now or utcnow(), actor_id=actor.id, action="export",
                           subject=subject, mentions=len(found)))
    return json.dumps({
        "subject": subject, "exported_at": (now or utcnow()).isoformat(),
        "mentions": [{"id": m.id, "source_kind": m.source_kind.value, "outlet": m.outlet,
                      "title": m.title, "text": m.text, "url": m.url,
                      "author_handle": m.author_handle,
                      "published_at": m.published_at.isoformat() if m.published_at else None,
                      "first_seen_at": m.first_seen_at.isoformat(),
                      "copies": [{"title": s.title, "url": s.url, "outlet": s.outlet,
                                  "seen_at": s.seen_at.isoformat()} for s in m.sightings]}
                     for m in found]}, ensure_ascii=False, indent=2)


def erase_person(session: Session, actor: User, raw: str, *, now: datetime | None = None
                 ) -> int:
    """Remove the personal data of everything found about the person; logged. The number of
    mentions erased."""
    require(actor, Action.MANAGE_USERS)
    now = now or utcnow()
    subject = _subject(raw)
    found = _search(session, subject)
    done = sum(remove_personal(mention, now) for mention in found)
    session.add(PrivacyLog(at=now, actor_id=actor.id, action="erase", subject=subject,
                           mentions=done))
    session.flush()
    # Not the subject: the audit log cannot be erased, so it holds no private person's name.
    record(session, actor, "erase", "personal_data", None, changes={"mentions": done})
    return done


def privacy_log(session: Session, actor: User, limit: int = 50) -> list[PrivacyLog]:
    require(actor, Action.MANAGE_USERS)
    return list(session.scalars(select(PrivacyLog).order_by(PrivacyLog.id.desc()).limit(limit)))

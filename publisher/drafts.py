"""Drafts: what a writer has typed in the composer and not yet queued, kept on the server.

The composer saves a draft when asked and, while the writer types, by itself (autosave), so a
closed tab or a lost connection loses nothing typed. A draft holds the composer's fields as they
stood, not a checked post: half a sentence, no account chosen yet, a date still being typed are
all fine here. The checks come when the post is queued (publisher.posts.create_post), and a
queued draft is gone in the same transaction.

A draft is its writer's own: nobody else lists, opens or changes it, whatever their role.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.auth import Action, require
from core.clock import utcnow
from core.db import Base, UTCDateTime
from core.i18n import N_, UserError
from core.text import CONTROL_MESSAGE, has_control_characters
from core.users import User

# The composer's fields a draft keeps; anything else sent along is left out.
TEXT_FIELDS = frozenset({"text", "link", "when", "scheduled_date", "scheduled_time",
                         "scheduled_reading", "first_comment", "mention", "ask",
                         "text_x", "text_facebook"})
LIST_FIELDS = frozenset({"accounts", "thread"})
MAX_DRAFT_BYTES = 64 * 1024  # far above a post, a thread and its comment; a guard, not a limit
MAX_DRAFTS = 200  # per writer: an autosave loop gone wrong must not fill the database
SUMMARY_LENGTH = 120


class Draft(Base):
    """A writer's unqueued post, as the composer's fields stood when it was last saved."""

    __tablename__ = "drafts"
    __table_args__ = (Index("ix_drafts_author_updated", "author_id", "updated_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)
    summary: Mapped[str] = mapped_column(String(SUMMARY_LENGTH), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def draft_fields(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The composer's fields from a form (or JSON): known names only, text as text, lists as
    lists of text. UserError for what cannot be kept (control characters, an absurd size)."""
    fields: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        value = raw.get(name)
        if isinstance(value, list):
            value = value[0] if value else None
        if value is not None:
            fields[name] = str(value)
    for name in LIST_FIELDS:
        value = raw.get(name)
        if value is None:
            continue
        fields[name] = [str(v) for v in (value if isinstance(value, list) else [value])]
    if has_control_characters(list(fields.values()) + [v for k in LIST_FIELDS
                                                        for v in fields.get(k, [])]):
        raise UserError(CONTROL_MESSAGE)
    if len(json.dumps(fields, ensure_ascii=False).encode()) > MAX_DRAFT_BYTES:
        raise UserError(N_("This draft is too long to keep (more than %(kb)s kB)."),
                        kb=MAX_DRAFT_BYTES // 1024)
    return fields


def save_draft(session: Session, user: User, raw: Mapping[str, Any],
               draft_id: int | None = None, now: datetime | None = None) -> Draft:
    """Keep what the composer holds: a new draft, or the writer's own `draft_id` brought up to
    date. LookupError when that draft is not the writer's (or is gone: queued elsewhere)."""
    require(user, Action.COMPOSE)
    fields = draft_fields(raw)
    now = now or utcnow()
    if draft_id is None:
        held = len(session.scalars(select(Draft.id).where(Draft.author_id == user.id)
                                   .limit(MAX_DRAFTS)).all())
        if held >= MAX_DRAFTS:
            raise UserError(N_("You have %(num)s drafts; queue or delete some before saving "
                               "another."), num=MAX_DRAFTS)
        draft = Draft(author_id=user.id, fields=fields, created_at=now)
        session.add(draft)
    else:
        draft = draft_for(session, user, draft_id)
        draft.fields = fields
    draft.summary = summary(fields)
    draft.updated_at = now
    session.flush()
    return draft


def summary(fields: Mapping[str, Any]) -> str:
    """A line to know the draft by in the list: its first words."""
    text = " ".join(str(fields.get("text") or fields.get("text_x") or "").split())
    return text if len(text) <= SUMMARY_LENGTH else text[:SUMMARY_LENGTH - 1] + "…"


def draft_for(session: Session, user: User, draft_id: int) -> Draft:
    """The writer's own draft; LookupError for anyone else's or one that is gone."""
    require(user, Action.COMPOSE)
    draft = session.get(Draft, draft_id)
    if draft is None or draft.author_id != user.id:
        raise LookupError(draft_id)
    return draft


def drafts_of(session: Session, user: User) -> list[Draft]:
    """The writer's drafts, the one last worked on first."""
    require(user, Action.COMPOSE)
    return list(session.scalars(select(Draft).where(Draft.author_id == user.id)
                                .order_by(Draft.updated_at.desc(), Draft.id.desc())
                                .limit(MAX_DRAFTS)))


def discard_draft(session: Session, user: User, draft_id: int) -> None:
    """The draft is queued or thrown away: gone. Another's draft is left alone (LookupError)."""
    draft_for(session, user, draft_id)
    session.execute(delete(Draft).where(Draft.id == draft_id, Draft.author_id == user.id))

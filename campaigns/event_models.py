"""What events add beside campaigns.models' `events`: the posts that announce them, the editable
announcement templates and the members' calendar links (campaigns.events)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import utcnow
from core.db import Base, UTCDateTime


class Announcement(enum.StrEnum):
    """Which of an event's announcements a post is: the week before, the day before, the same
    morning, or the word that it is cancelled."""

    WEEK = "week"
    DAY = "day"
    MORNING = "morning"
    CANCELLATION = "cancellation"


class EventAnnouncement(Base):
    """An ordinary post that announces an event: moved with the event, cancelled with it."""

    __tablename__ = "event_announcements"

    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"),
                                          index=True)
    which: Mapped[Announcement] = mapped_column(
        Enum(Announcement, name="event_announcement", native_enum=False, length=16,
             values_callable=lambda e: [m.value for m in e]))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class EventTemplate(Base):
    """A text an announcement starts from, per language and announcement, changed by a campaign
    lead; without a row the default in campaigns.events is used."""

    __tablename__ = "event_templates"
    __table_args__ = (UniqueConstraint("language", "which"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    language: Mapped[str] = mapped_column(String(8))
    which: Mapped[Announcement] = mapped_column(
        Enum(Announcement, name="event_announcement", native_enum=False, length=16,
             values_callable=lambda e: [m.value for m in e]))
    text: Mapped[str] = mapped_column(Text)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class EventFeedToken(Base):
    """A person's secret calendar link to every event, members-only ones too: only the SHA-256
    digest of the secret is kept; a new link replaces the old."""

    __tablename__ = "event_feed_tokens"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

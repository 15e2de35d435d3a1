"""Sources, watchlists (current issues), mentions and their sightings.

A mention is one story; each time it is seen (another feed, an update, a sister paper) adds a
sighting, so people are told once per story, not once per copy.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.clock import utcnow
from core.db import Base, UTCDateTime


def _enum(kind: type[enum.Enum], name: str) -> Enum:
    return Enum(kind, name=name, values_callable=lambda e: [m.value for m in e],
                native_enum=False, length=32)


class SourceKind(enum.StrEnum):
    FEED = "feed"  # RSS or Atom
    PAGE = "page"  # a web page or section page; article text extracted
    X_SEARCH = "x_search"  # X recent search for a query
    FB_COMMENTS = "fb_comments"  # comments on a connected Facebook Page's posts
    MANUAL = "manual"  # clippings entered by hand (print, radio)


class SourceState(enum.StrEnum):
    OK = "ok"
    FAILING = "failing"
    PAUSED = "paused"


class Priority(enum.StrEnum):
    NORMAL = "normal"
    HIGH = "high"  # immediate e-mail alerts


class Triage(enum.StrEnum):
    NEW = "new"
    RELEVANT = "relevant"
    NOT_RELEVANT = "not_relevant"


class Source(Base):
    __tablename__ = "sources"
    __table_args__ = (Index("ix_sources_state_next_poll", "state", "next_poll_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[SourceKind] = mapped_column(_enum(SourceKind, "source_kind"))
    outlet: Mapped[str] = mapped_column(String(200), default="")  # e.g. "NWT", "SVT Värmland"
    url: Mapped[str | None] = mapped_column(String(2000))
    # Kind-specific settings as JSON text: the X query, the Facebook account id, …
    config: Mapped[str] = mapped_column(Text, default="{}")
    # A minute: new items reach people well within the same-day promise, and an unchanged
    # feed costs one conditional GET.
    interval_seconds: Mapped[int] = mapped_column(default=60)
    state: Mapped[SourceState] = mapped_column(_enum(SourceState, "source_state"),
                                               default=SourceState.OK)
    last_error: Mapped[str | None] = mapped_column(Text)
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    failure_alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_poll_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(200))
    # A cursor for API sources (X since_id, the newest comment time seen, …).
    cursor: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SourcePoll(Base):
    """A source's history: one row per poll."""

    __tablename__ = "source_polls"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"),
                                           index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    outcome: Mapped[str] = mapped_column(String(32))  # ok | not_modified | error
    detail: Mapped[str | None] = mapped_column(Text)
    items_seen: Mapped[int] = mapped_column(default=0)
    items_new: Mapped[int] = mapped_column(default=0)
    duration_ms: Mapped[int] = mapped_column(default=0)


class Watchlist(Base):
    """A current issue (aktuell fråga) with the query that finds it."""

    __tablename__ = "watchlists"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    query: Mapped[str] = mapped_column(Text)
    priority: Mapped[Priority] = mapped_column(_enum(Priority, "watch_priority"),
                                               default=Priority.NORMAL)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Person(Base):
    """The organisation's own people (candidates, spokespeople), for share of voice."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # Other ways the person is written, one per line (e.g. a surname alone when distinctive).
    aliases: Mapped[str] = mapped_column(Text, default="")
    party: Mapped[str] = mapped_column(String(8), default="V")
    title: Mapped[str] = mapped_column(String(200), default="")


class Mention(Base):
    """One story that matched at least one watchlist, however many times it was seen."""

    __tablename__ = "mentions"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(2000))
    normalized_url: Mapped[str | None] = mapped_column(String(2000), index=True)
    outlet: Mapped[str] = mapped_column(String(200), default="")
    source_kind: Mapped[SourceKind] = mapped_column(_enum(SourceKind, "source_kind"))
    text: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    # JSON: MinHash signature of the text (near-duplicate detection) and the match details.
    signature: Mapped[str | None] = mapped_column(Text)
    hits: Mapped[str] = mapped_column(Text, default="[]")
    parties: Mapped[str] = mapped_column(String(100), default="")  # e.g. "V,S,M"
    people: Mapped[str] = mapped_column(Text, default="")  # person ids, comma-separated
    triage: Mapped[Triage] = mapped_column(_enum(Triage, "triage_state"), default=Triage.NEW)
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(Text)
    response_post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    watchlists: Mapped[list[MentionWatchlist]] = relationship(cascade="all, delete-orphan")
    sightings: Mapped[list[Sighting]] = relationship(cascade="all, delete-orphan",
                                                     order_by="Sighting.id")


class MentionWatchlist(Base):
    __tablename__ = "mention_watchlists"

    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id", ondelete="CASCADE"),
                                            primary_key=True)
    watchlist_id: Mapped[int] = mapped_column(ForeignKey("watchlists.id", ondelete="CASCADE"),
                                              primary_key=True, index=True)


class Sighting(Base):
    """One copy of a story: this source, this URL/GUID, this time."""

    __tablename__ = "sightings"
    __table_args__ = (UniqueConstraint("source_id", "item_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id", ondelete="CASCADE"),
                                            index=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id", ondelete="SET NULL"))
    # The item's identity within its source: GUID, else the normalised link.
    item_key: Mapped[str] = mapped_column(String(2000))
    url: Mapped[str | None] = mapped_column(String(2000))
    normalized_url: Mapped[str | None] = mapped_column(String(2000), index=True)
    title: Mapped[str] = mapped_column(Text, default="")
    outlet: Mapped[str] = mapped_column(String(200), default="")
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AlertSubscription(Base):
    """Who hears about which issue, how: immediately (high priority) and/or a daily digest."""

    __tablename__ = "alert_subscriptions"
    __table_args__ = (UniqueConstraint("user_id", "watchlist_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    watchlist_id: Mapped[int] = mapped_column(ForeignKey("watchlists.id", ondelete="CASCADE"))
    immediate: Mapped[bool] = mapped_column(default=True)
    digest_hour: Mapped[int | None] = mapped_column()  # Stockholm hour 0–23; None: no digest
    last_digest_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AlertSent(Base):
    """A person was told about a story: never again for another sighting of it."""

    __tablename__ = "alerts_sent"
    __table_args__ = (UniqueConstraint("user_id", "mention_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # immediate | digest
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MentionsSeen(Base):
    """Until when a user has looked at the mention log: the rest counts as unread."""

    __tablename__ = "mentions_seen"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    seen_until: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

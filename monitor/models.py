"""Sources, watchlists (current issues), mentions and their sightings.

A mention is one story; each time it is seen (another feed, an update, a sister paper) adds a
sighting, so people are told once per story, not once per copy.

The log is read newest first, filtered by issue, party, person, outlet, kind, triage or assignee,
over an archive of a million mentions. So the time it orders by is stored (`Mention.sort_at`,
published else first seen), the parties and people a mention names are rows, and each link row
(issue, party, person) carries a copy of its mention's sort_at: "this value, newest first" is then
one backward range scan of one index. `_keep_sort_times` keeps every copy equal to the mention's,
whoever writes it.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Enum,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    event,
    inspect,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from core.clock import utcnow
from core.db import Base, UTCDateTime
from monitor import fulltext
from monitor.parties import CODES


def _enum(kind: type[enum.Enum], name: str) -> Enum:
    return Enum(kind, name=name, values_callable=lambda e: [m.value for m in e],
                native_enum=False, length=32)


class SourceKind(enum.StrEnum):
    FEED = "feed"  # RSS or Atom
    PAGE = "page"  # a web page or section page; article text extracted
    X_SEARCH = "x_search"  # X recent search for a query
    FB_COMMENTS = "fb_comments"  # comments on a connected Facebook Page's posts
    MANUAL = "manual"  # clippings entered by hand (print, radio)


# Social posts and comments by private persons: X search results and Page comments that are
# not our own accounts' and whose words have not been removed yet (monitor.privacy).
PERSONAL_KEPT = ("(source_kind = 'x_search' OR source_kind = 'fb_comments') "
                 "AND own_account_id IS NULL AND personal_removed_at IS NULL")


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
    last_error: Mapped[str | None] = mapped_column(Text)  # in English, for logs and the CLI
    # The same failure as {"msgid", "params"} (monitor.fetch.FetchError.as_message), so each
    # reader sees it in their own language.
    last_error_message: Mapped[dict[str, Any] | None] = mapped_column(JSON)
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
    detail_message: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # as last_error_message
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
    # Each serves "this value, newest first" (the log's filters) as one backward index scan;
    # (first_seen_at, id) serves the "latest arrivals" order and dedupe's recent window.
    __table_args__ = (
        Index("ix_mentions_sort_at_id", "sort_at", "id"),
        Index("ix_mentions_first_seen_at_id", "first_seen_at", "id"),
        Index("ix_mentions_outlet_sort_at", "outlet", "sort_at", "id"),
        Index("ix_mentions_source_kind_sort_at", "source_kind", "sort_at", "id"),
        Index("ix_mentions_triage_sort_at", "triage", "sort_at", "id"),
        Index("ix_mentions_assigned_to_id_sort_at", "assigned_to_id", "sort_at", "id"),
        # The board's report: a period's mentions by outlet and kind, read from the index alone.
        Index("ix_mentions_sort_at_outlet_kind", "sort_at", "outlet", "source_kind", "id"),
        # Our own accounts' posts (monitor.own): few, so partial indexes. The log's "only ours"
        # newest first, and the set the report and alerts leave out (the ids, index only).
        Index("ix_mentions_own_sort_at", "sort_at", "id",
              postgresql_where=sql_text("own_account_id IS NOT NULL"),
              sqlite_where=sql_text("own_account_id IS NOT NULL")),
        # The mentions an account wrote, found when the account is connected later.
        Index("ix_mentions_author_id", "author_platform", "author_id",
              postgresql_where=sql_text("author_id IS NOT NULL"),
              sqlite_where=sql_text("author_id IS NOT NULL")),
        Index("ix_mentions_author_handle", "author_platform", "author_handle",
              postgresql_where=sql_text("author_handle IS NOT NULL"),
              sqlite_where=sql_text("author_handle IS NOT NULL")),
        # Private persons' posts still holding their words (monitor.privacy), oldest first:
        # what the retention job takes next.
        Index("ix_mentions_personal_kept", "first_seen_at", "id",
              postgresql_where=sql_text(PERSONAL_KEPT),
              sqlite_where=sql_text(PERSONAL_KEPT)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(2000))
    normalized_url: Mapped[str | None] = mapped_column(String(2000), index=True)
    outlet: Mapped[str] = mapped_column(String(200), default="")
    source_kind: Mapped[SourceKind] = mapped_column(_enum(SourceKind, "source_kind"))
    text: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The time the log shows and orders by: published_at, else first_seen_at. Stored (not an
    # expression) so that it can be copied onto the link rows; set by _keep_sort_times.
    sort_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # JSON: MinHash signature of the text (near-duplicate detection) and the match details.
    signature: Mapped[str | None] = mapped_column(Text)
    hits: Mapped[str] = mapped_column(Text, default="[]")
    # The text's tone at ingest (monitor.sentiment): its score and label; None before tone
    # was scored (mentions stored earlier).
    sentiment: Mapped[float | None] = mapped_column(Float)
    tone: Mapped[str | None] = mapped_column(String(8))
    triage: Mapped[Triage] = mapped_column(_enum(Triage, "triage_state"), default=Triage.NEW)
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(Text)
    response_post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Who wrote it, where the source said (monitor.items.Author; the copy the mention was made
    # from): the platform, its id of the author, the handle in lower case.
    author_platform: Mapped[str | None] = mapped_column(String(16))
    author_id: Mapped[str | None] = mapped_column(String(64))
    author_handle: Mapped[str | None] = mapped_column(String(200))
    # Set when the author is one of our own accounts (monitor.own): the district's or an
    # association's own post, shown in the log marked as ours, never counted as coverage
    # (the board's report) and never alerted.
    # (Accounts are never deleted, only disconnected: a disconnected account's posts stay ours.)
    own_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    # When a private person's words and identity were removed (monitor.privacy: after the
    # retention time, or on request); what the report counts stays.
    personal_removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    watchlists: Mapped[list[MentionWatchlist]] = relationship(back_populates="mention",
                                                              cascade="all, delete-orphan")
    party_rows: Mapped[list[MentionParty]] = relationship(back_populates="mention",
                                                          cascade="all, delete-orphan")
    person_rows: Mapped[list[MentionPerson]] = relationship(back_populates="mention",
                                                            cascade="all, delete-orphan")
    sightings: Mapped[list[Sighting]] = relationship(cascade="all, delete-orphan",
                                                     order_by="Sighting.id")

    @property
    def party_codes(self) -> list[str]:
        """The parties named, in the parliament's order (monitor.parties), as the chips show."""
        rank = {code: i for i, code in enumerate(CODES)}
        return sorted((row.party for row in self.party_rows),
                      key=lambda code: (rank.get(code, len(rank)), code))

    @property
    def person_ids(self) -> list[int]:
        """The ids of the people named."""
        return sorted(row.person_id for row in self.person_rows)


class MentionWatchlist(Base):
    """A mention matched this issue; sort_at is the mention's, so that "issue X, newest first"
    reads (watchlist_id, sort_at, mention_id) backwards and stops after a page."""

    __tablename__ = "mention_watchlists"
    __table_args__ = (Index("ix_mention_watchlists_watchlist_id_sort_at",
                            "watchlist_id", "sort_at", "mention_id"),
                      # The report: a period's links, counted from the index alone.
                      Index("ix_mention_watchlists_sort_at", "sort_at", "watchlist_id",
                            "mention_id"))

    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id", ondelete="CASCADE"),
                                            primary_key=True)
    watchlist_id: Mapped[int] = mapped_column(ForeignKey("watchlists.id", ondelete="CASCADE"),
                                              primary_key=True)
    sort_at: Mapped[datetime] = mapped_column(UTCDateTime())

    mention: Mapped[Mention] = relationship(back_populates="watchlists")


class MentionParty(Base):
    """A party the mention names (share of voice, the party filter); sort_at as above."""

    __tablename__ = "mention_parties"
    __table_args__ = (Index("ix_mention_parties_party_sort_at", "party", "sort_at",
                            "mention_id"),
                      Index("ix_mention_parties_sort_at", "sort_at", "party", "mention_id"))

    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id", ondelete="CASCADE"),
                                            primary_key=True)
    party: Mapped[str] = mapped_column(String(8), primary_key=True)  # a code: "V", "SD"
    sort_at: Mapped[datetime] = mapped_column(UTCDateTime())

    mention: Mapped[Mention] = relationship(back_populates="party_rows")


class MentionPerson(Base):
    """One of the organisation's people the mention names; sort_at as above."""

    __tablename__ = "mention_people"
    __table_args__ = (Index("ix_mention_people_person_id_sort_at", "person_id", "sort_at",
                            "mention_id"),
                      Index("ix_mention_people_sort_at", "sort_at", "person_id", "mention_id"))

    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id", ondelete="CASCADE"),
                                            primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"),
                                           primary_key=True)
    sort_at: Mapped[datetime] = mapped_column(UTCDateTime())

    mention: Mapped[Mention] = relationship(back_populates="person_rows")


class Outlet(Base):
    """An outlet that has had a mention, added on ingest: the log's outlet choices come from
    here, so filling the filter form never reads mentions."""

    __tablename__ = "outlets"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)


_LINKS = ("watchlists", "party_rows", "person_rows")
_LINK_TYPES = (MentionWatchlist, MentionParty, MentionPerson)


@event.listens_for(Mention, "after_insert")
@event.listens_for(Mention, "after_update")
def _keep_search_index(_mapper: Any, connection: Any, mention: Mention) -> None:
    """SQLite's full-text table (monitor.fulltext) follows every write of a mention's words,
    in the same transaction, whoever wrote it; deletes are followed by a trigger. PostgreSQL's
    search vector is a generated column and needs nothing."""
    attrs = inspect(mention).attrs
    if connection.dialect.name == "sqlite" and (attrs.title.history.has_changes()
                                                or attrs.text.history.has_changes()):
        fulltext.write_row(connection, mention.id, mention.title, mention.text)


@event.listens_for(Session, "before_flush")
def _keep_sort_times(session: Session, _context: Any, _instances: Any) -> None:
    """Mention.sort_at and its copies on the link rows are derived data, stored only so that
    indexes can serve the log's order. They are set here, before every flush, for a new
    mention and whenever its published_at (or first_seen_at) changed, and on every new link
    row: whoever writes a mention — ingest, a clipping, a test, a later feature — a copy can
    never lag behind and hide a mention from a filtered page or misplace it."""
    for obj in list(session.new) + list(session.dirty):
        if not isinstance(obj, Mention):
            continue
        attrs = inspect(obj).attrs
        if not (obj.sort_at is None or obj in session.new
                or attrs.published_at.history.has_changes()
                or attrs.first_seen_at.history.has_changes()):
            continue
        if obj.first_seen_at is None:
            obj.first_seen_at = utcnow()
        sort_at = obj.published_at or obj.first_seen_at
        if obj.sort_at != sort_at:
            obj.sort_at = sort_at
        for name in _LINKS:
            for link in getattr(obj, name):
                if link.sort_at != sort_at:
                    link.sort_at = sort_at
    for obj in list(session.new):
        if isinstance(obj, _LINK_TYPES) and obj.sort_at is None:
            parent = obj.mention if obj.mention is not None else (
                session.get(Mention, obj.mention_id) if obj.mention_id is not None else None)
            if parent is not None:
                obj.sort_at = parent.sort_at


class Sighting(Base):
    """One copy of a story: this source, this URL/GUID, this time."""

    __tablename__ = "sightings"
    __table_args__ = (UniqueConstraint("source_id", "item_key"),
                      # Top stories: how many outlets carried each, from the index alone.
                      Index("ix_sightings_mention_id_outlet", "mention_id", "outlet"))

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

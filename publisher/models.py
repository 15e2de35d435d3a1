"""Accounts, posts and deliveries: a post goes to each chosen account as one delivery row."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.clock import utcnow
from core.db import Base, UTCDateTime
from core.users import Organisation, User


class Platform(enum.StrEnum):
    X = "x"
    FACEBOOK = "facebook"


def variant_text(platform: Platform, text: str, text_x: str | None,
                 text_facebook: str | None) -> str:
    """The words that go to `platform`: the writer's variant for it when there is one."""
    variant = text_x if platform is Platform.X else text_facebook
    return variant if variant else text


class DeliveryState(enum.StrEnum):
    SCHEDULED = "scheduled"  # waiting for its time
    SENDING = "sending"  # claimed by a worker, which is calling the platform
    RETRY_WAIT = "retry_wait"  # a transient error; tried again at next_attempt_at
    UNCERTAIN = "uncertain"  # the outcome of a send was lost; reconciled before any resend
    HELD = "held"  # the account's credentials stopped working; resumes when reconnected
    AWAITING_APPROVAL = "awaiting_approval"  # written, not yet approved: no worker takes it
    RETURNED = "returned"  # sent back by a reviewer with a comment; the author changes it
    PUBLISHED = "published"
    FAILED = "failed"  # permanent, with the reason
    CANCELLED = "cancelled"


class CredentialStatus(enum.StrEnum):
    OK = "ok"
    EXPIRING = "expiring"  # still works, but will stop soon: warn
    BROKEN = "broken"  # refused by the platform: hold the account's deliveries


def _enum(kind: type[enum.Enum], name: str) -> Enum:
    return Enum(kind, name=name, values_callable=lambda e: [m.value for m in e],
                native_enum=False, length=32)


class Account(Base):
    """An X user or a Facebook Page that Megafon publishes to, owned by one organisation."""

    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[Platform] = mapped_column(_enum(Platform, "platform"))
    name: Mapped[str] = mapped_column(String(200))
    handle: Mapped[str] = mapped_column(String(200), default="")
    external_id: Mapped[str] = mapped_column(String(64))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    credentials_sealed: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True)
    credentials_status: Mapped[CredentialStatus] = mapped_column(
        _enum(CredentialStatus, "credential_status"), default=CredentialStatus.OK)
    credentials_problem: Mapped[str | None] = mapped_column(Text)
    credentials_expire_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set from the platform's rate-limit headers; every worker skips the account until then.
    rate_limited_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the daily token check last started (publisher.token_checks); also its claim.
    credentials_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Its posts wait for a reviewer's approval (publisher.approval); so do all of an
    # organisation's accounts' posts when organisations.posts_need_approval is set.
    needs_approval: Mapped[bool] = mapped_column(default=False, server_default=false())

    organisation: Mapped[Organisation] = relationship(lazy="joined")

    def __repr__(self) -> str:  # never the credentials
        return f"<Account {self.id} {self.platform.value} {self.name!r}>"


class Post(Base):
    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    # The writer's own words for one network, used there instead of `text` (text_for).
    text_x: Mapped[str | None] = mapped_column(Text)
    text_facebook: Mapped[str | None] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(2000))
    # Facebook only: a comment the Page writes under its own post right after publishing.
    first_comment: Mapped[str | None] = mapped_column(Text)
    # A reply (publisher.replies): written under this X post or Facebook post/comment, in its
    # thread, rather than as a new post on the account's timeline or Page.
    reply_to_platform: Mapped[str | None] = mapped_column(String(16))
    reply_to_external_id: Mapped[str | None] = mapped_column(String(128))
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    author: Mapped[User] = relationship(lazy="joined")
    deliveries: Mapped[list[Delivery]] = relationship(
        back_populates="post", order_by="Delivery.id", cascade="all, delete-orphan"
    )
    # X only: the follow-up tweets of a thread, each a reply to the one before.
    parts: Mapped[list[PostPart]] = relationship(
        order_by="PostPart.position", cascade="all, delete-orphan"
    )
    media: Mapped[list[PostMedia]] = relationship(
        order_by="PostMedia.position", cascade="all, delete-orphan"
    )

    def text_for(self, platform: Platform) -> str:
        """What this post says on one network: its variant there, or its one text."""
        return variant_text(platform, self.text, self.text_x, self.text_facebook)

    @property
    def full_text(self) -> str:
        """What goes out on X: the text with the link appended when it is not already in it."""
        if self.link and self.link not in self.text:
            return f"{self.text}\n\n{self.link}"
        return self.text


class Delivery(Base):
    """One post to one account. Its state changes only through guarded UPDATEs (deliveries.py)."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("post_id", "account_id"),
        Index("ix_deliveries_state_next_attempt", "state", "next_attempt_at"),
        # The dashboard's lists (publisher.queue): upcoming by due time, recent by last change.
        Index("ix_deliveries_state_due_at", "state", "due_at", "id"),
        Index("ix_deliveries_state_updated_at", "state", "updated_at", "id"),
        # The board's report reads publications by when they went out (reports.publishing).
        Index("ix_deliveries_published_at", "published_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    state: Mapped[DeliveryState] = mapped_column(
        _enum(DeliveryState, "delivery_state"), default=DeliveryState.SCHEDULED
    )
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # When a worker may next act on it: due_at at first, later the backoff or reconcile time.
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    first_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    external_id: Mapped[str | None] = mapped_column(String(128))
    external_url: Mapped[str | None] = mapped_column(String(2000))
    error_kind: Mapped[str | None] = mapped_column(String(32))
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    post: Mapped[Post] = relationship(back_populates="deliveries", lazy="joined")
    account: Mapped[Account] = relationship(lazy="joined")
    events: Mapped[list[DeliveryEvent]] = relationship(
        order_by="DeliveryEvent.id", cascade="all, delete-orphan"
    )


class DeliveryEvent(Base):
    """The history of a delivery: every state change, with why."""

    __tablename__ = "delivery_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("deliveries.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(Text)


class MediaFile(Base):
    """An image checked by its content and stored once under the instance folder (publisher.media).
    """

    __tablename__ = "media_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    path: Mapped[str] = mapped_column(String(300))  # relative to the instance folder
    mime: Mapped[str] = mapped_column(String(32))
    width: Mapped[int]
    height: Mapped[int]
    size: Mapped[int]  # bytes as stored (metadata stripped)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PostMedia(Base):
    """An image attached to a post, in order, with the description read to blind users."""

    __tablename__ = "post_media"

    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"),
                                         primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True)
    media_id: Mapped[int] = mapped_column(ForeignKey("media_files.id"), index=True)
    alt_text: Mapped[str] = mapped_column(Text, default="")

    file: Mapped[MediaFile] = relationship(lazy="joined")


class PostPart(Base):
    """A follow-up tweet of an X thread; position 1 replies to the post's own text."""

    __tablename__ = "post_parts"

    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"),
                                         primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)

"""Campaigns, their messages and targets, and which posts carry them.

A campaign's posts are ordinary posts (publisher.models.Post); `campaign_posts` only says which
campaign and message a post carries, so the publisher knows nothing of campaigns and the coverage
is read from the posts' own deliveries (campaigns.coverage).
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.clock import utcnow
from core.db import Base, UTCDateTime
from core.users import Organisation


class TargetKind(enum.StrEnum):
    ALL = "all"  # every active account
    DISTRICT = "district"  # the district's own accounts
    ASSOCIATIONS = "associations"  # the accounts of the chosen associations


class Campaign(Base):
    """A message the district wants carried on many accounts by a deadline."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    starts_on: Mapped[date] = mapped_column(Date())
    ends_on: Mapped[date] = mapped_column(Date())
    deadline: Mapped[datetime] = mapped_column(UTCDateTime())
    target_kind: Mapped[TargetKind] = mapped_column(
        Enum(TargetKind, name="campaign_target_kind", native_enum=False, length=32,
             values_callable=lambda e: [m.value for m in e]))
    # UTM parameters the campaign's links get (utm_medium=social and utm_campaign=slug unless
    # the lead chose otherwise).
    utm_source_x: Mapped[str] = mapped_column(String(100), default="x")
    utm_source_facebook: Mapped[str] = mapped_column(String(100), default="facebook")
    utm_medium: Mapped[str] = mapped_column(String(100), default="social")
    utm_campaign: Mapped[str] = mapped_column(String(100))
    # Those asked who have neither queued a post nor said no are reminded this many hours
    # before the deadline (campaigns.reminders).
    reminder_hours: Mapped[int] = mapped_column(default=48, server_default="48")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    messages: Mapped[list[CampaignMessage]] = relationship(
        order_by="CampaignMessage.position", cascade="all, delete-orphan")
    targets: Mapped[list[CampaignTarget]] = relationship(cascade="all, delete-orphan")


class CampaignTarget(Base):
    """An association whose accounts a campaign targets (target_kind ASSOCIATIONS)."""

    __tablename__ = "campaign_targets"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id"), primary_key=True, index=True)


class CampaignMessage(Base):
    """One message of a campaign: X and Facebook get different words, the same hashtags and
    link (the link tagged per network when posted)."""

    __tablename__ = "campaign_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=1)
    text_x: Mapped[str] = mapped_column(Text)
    text_facebook: Mapped[str] = mapped_column(Text)
    hashtags: Mapped[str] = mapped_column(String(500), default="")
    link: Mapped[str | None] = mapped_column(String(2000))

    images: Mapped[list[CampaignMessageImage]] = relationship(
        order_by="CampaignMessageImage.position", cascade="all, delete-orphan")


class CampaignMessageImage(Base):
    """A picture a message's posts carry (stored by publisher.media), with its description."""

    __tablename__ = "campaign_message_images"

    message_id: Mapped[int] = mapped_column(
        ForeignKey("campaign_messages.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True)
    media_id: Mapped[int] = mapped_column(ForeignKey("media_files.id"), index=True)
    alt_text: Mapped[str] = mapped_column(Text, default="")


class CampaignPost(Base):
    """A post that carries a campaign: made by its roll-out, or linked to it afterwards. The
    post's deliveries are the campaign's cells, so the coverage cannot disagree with the queue."""

    __tablename__ = "campaign_posts"
    __table_args__ = (Index("ix_campaign_posts_campaign_id", "campaign_id", "post_id"),)

    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaign_messages.id", ondelete="SET NULL"))
    linked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CampaignAsk(Base):
    """The lead asked an association to carry the campaign on its own accounts. Its answer is
    either its posts (linked like any other) or a refusal with a reason."""

    __tablename__ = "campaign_asks"
    __table_args__ = (UniqueConstraint("campaign_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaign_messages.id", ondelete="SET NULL"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    asked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    declined_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    declined_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decline_reason: Mapped[str | None] = mapped_column(Text)
    # The one reminder before the deadline: set by the worker whose conditional UPDATE claimed it.
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    campaign: Mapped[Campaign] = relationship()
    message: Mapped[CampaignMessage | None] = relationship()
    organisation: Mapped[Organisation] = relationship()


class Municipality(Base):
    """One of the county's municipalities (kommuner), and the association working there if it
    has one. The district plan sends central visits to those without (campaigns.county)."""

    __tablename__ = "municipalities"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(4), unique=True)  # SCB's kommunkod, e.g. 1780
    name: Mapped[str] = mapped_column(String(100), unique=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True)

    organisation: Mapped[Organisation | None] = relationship()


class EventKind(enum.StrEnum):
    MEETING = "meeting"  # medlemsmöte, öppet möte
    LECTURE = "lecture"  # föredrag, public talk
    COURSE = "course"  # Vänsterskolan
    ELECTION_CONFERENCE = "election_conference"  # valkonferens
    CAMPAIGN = "campaign"  # a stall, leafleting, a manifestation
    OTHER = "other"


class Event(Base):
    """A meeting, lecture, course or conference: announced by posts (campaigns.events) and
    published in the iCalendar feed. Times are stored in UTC and entered in Stockholm time."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_starts_at", "starts_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[EventKind] = mapped_column(
        Enum(EventKind, name="event_kind", native_enum=False, length=32,
             values_callable=lambda e: [m.value for m in e]))
    description: Mapped[str] = mapped_column(Text, default="")
    place: Mapped[str] = mapped_column(String(300), default="")
    municipality_id: Mapped[int | None] = mapped_column(
        ForeignKey("municipalities.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The district or one association; its users may change the event.
    organiser_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    partners: Mapped[str] = mapped_column(Text, default="")  # unions, associations: free text
    public: Mapped[bool] = mapped_column(default=True)  # False: members only
    link: Mapped[str | None] = mapped_column(String(2000))
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="SET NULL"), index=True)
    # iCalendar SEQUENCE: raised on every change a subscriber should see.
    sequence: Mapped[int] = mapped_column(default=0)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    municipality: Mapped[Municipality | None] = relationship()
    organiser: Mapped[Organisation] = relationship()


class ElectionDay(Base):
    """The election day the plan counts down to, when a campaign lead or administrator chose
    one (one row, id 1). Without it, or once it has passed, the rule of the Swedish general
    election applies (campaigns.election.default_election_day)."""

    __tablename__ = "election_day"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date())
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

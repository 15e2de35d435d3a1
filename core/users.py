"""Who uses Megafon: the organisation tree (district and its associations), users and roles.

These live in core because both the publisher and the monitor address people and organisations.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.clock import utcnow
from core.db import Base, UTCDateTime


class OrganisationKind(enum.StrEnum):
    DISTRICT = "district"
    ASSOCIATION = "association"


class Role(enum.StrEnum):
    ADMIN = "admin"
    COMMS = "comms"
    CAMPAIGN_LEAD = "campaign_lead"
    BOARD = "board"


def _enum(kind: type[enum.Enum], name: str) -> Enum:
    return Enum(kind, name=name, values_callable=lambda e: [m.value for m in e],
                native_enum=False, length=32)


class Organisation(Base):
    """The district, or one local association (partiförening) under it."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[OrganisationKind] = mapped_column(_enum(OrganisationKind, "organisation_kind"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Every post on its accounts waits for a reviewer's approval (publisher.approval).
    posts_need_approval: Mapped[bool] = mapped_column(default=False, server_default=false())

    parent: Mapped[Organisation | None] = relationship(remote_side=[id])


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(_enum(Role, "user_role"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    locale: Mapped[str | None] = mapped_column(String(8))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Part of every session's id (get_id): raising it ends every session of this user at once
    # (logout, a new password, deactivation), because the user loader no longer finds them.
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")
    # Set for the first-start admin and by an administrator: every page leads to the password
    # form until the person has chosen a password of their own.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())

    organisation: Mapped[Organisation] = relationship(lazy="joined")

    # The four members Flask-Login reads, without importing Flask into core.
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        """What Flask-Login keeps in the session: the id and the session version (see above)."""
        return f"{self.id}:{self.session_version}"

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role.value}>"


class LoginThrottle(Base):
    """Failed logins per key: `account:<e-mail>` (also for unknown addresses, so guessing is
    slowed alike) and `client:<address>` (one client's guesses over many addresses); see
    core.auth.authenticate."""

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(254), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PasswordReset(Base):
    """A reset link sent by e-mail: only the token's SHA-256 is kept, it works once, and not
    after `expires_at`."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class UserEvent(Base):
    """The history of a user's account: who changed what, when (shown on the admin's page).
    `change` is English, for the record (like a delivery's history notes)."""

    __tablename__ = "user_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    change: Mapped[str] = mapped_column(Text)

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])

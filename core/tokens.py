"""API tokens: how a script, a spreadsheet or another system acts as one Megafon user.

A token belongs to a user and acts with that user's role and organisation, never more; its
scope narrows it further: `read` may only look, `write` may also change (queue a post, cancel
one, triage a mention). The secret is shown once, when the token is made, and stored only as a
SHA-256 digest: the secret is 32 random bytes, so a fast digest is as safe as a password hash
would be, and it lets every API request be checked with one indexed lookup. A token can be
revoked at once; it also stops working when its user is deactivated.

The token reads `mgf_<prefix>_<secret>`: the prefix (8 characters, stored in clear) lets the
owner tell their tokens apart in the list, and log lines name a token by it.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, Index, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from core.audit import record
from core.auth import Action, NotAllowed, can
from core.clock import utcnow
from core.db import Base, UTCDateTime, dialect_insert
from core.i18n import N_, UserError, ValidationErrors
from core.users import User, _enum

PREFIX = "mgf_"
NAME_LENGTH = 100
# How often `last_used_at` is written: a script calling every second must not turn every read
# into a write.
USE_NOTED_EVERY = timedelta(minutes=1)


class Scope(enum.StrEnum):
    READ = "read"
    WRITE = "write"


class ApiToken(Base):
    __tablename__ = "api_tokens"
    __table_args__ = (Index("ix_api_tokens_user_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    scope: Mapped[Scope] = mapped_column(_enum(Scope, "token_scope"))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(lazy="joined")

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class ApiTokenWindow(Base):
    """How many requests a token made in one minute: the rate limit's count, shared by every
    web process (a count in one process's memory would let N workers allow N times as many)."""

    __tablename__ = "api_token_windows"

    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id", ondelete="CASCADE"),
                                          primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    requests: Mapped[int] = mapped_column(default=0)


WINDOW = timedelta(minutes=1)


@dataclass(frozen=True)
class Allowance:
    """Where a token stands against its limit in the current minute (the RateLimit headers)."""

    limit: int
    remaining: int
    reset_at: datetime
    allowed: bool


def count_request(session: Session, token_id: int, limit: int, now: datetime | None = None
                  ) -> Allowance:
    """Count one request of the token in the current minute (one atomic upsert, so concurrent
    requests in several processes count exactly) and say whether it is within `limit`."""
    now = now or utcnow()
    start = now.replace(second=0, microsecond=0)
    insert = dialect_insert(session)
    statement = insert(ApiTokenWindow).values(token_id=token_id, window_start=start, requests=1)
    counted = session.execute(statement.on_conflict_do_update(
        index_elements=["token_id", "window_start"],
        set_={"requests": ApiTokenWindow.requests + 1}).returning(ApiTokenWindow.requests)
    ).scalar_one()
    if counted == 1:  # the first request of a minute clears the token's older minutes
        session.execute(ApiTokenWindow.__table__.delete().where(
            ApiTokenWindow.token_id == token_id, ApiTokenWindow.window_start < start))
    return Allowance(limit, max(0, limit - counted), start + WINDOW, counted <= limit)


@dataclass(frozen=True)
class NewToken:
    """A token just made: the row, and the secret that is never shown again."""

    token: ApiToken
    secret: str


@dataclass(frozen=True)
class Caller:
    """Who an API request acts as."""

    user: User
    scope: Scope
    token_id: int
    prefix: str

    def may_write(self) -> bool:
        return self.scope is Scope.WRITE


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(session: Session, actor: User, owner: User, name: str, scope: str
                 ) -> NewToken:
    """A new token for `owner`: one's own, or anyone's for an admin (the command line's
    `megafon token create`). The secret is in the answer and nowhere else."""
    if actor.id != owner.id and not can(actor, Action.MANAGE_USERS):
        raise NotAllowed("tokens of other users")
    errors = []
    name = " ".join((name or "").split())
    if not name:
        errors.append(UserError(N_("Give the token a name, e.g. what uses it."), field="name"))
    elif len(name) > NAME_LENGTH:
        errors.append(UserError(N_("The name can be at most %(n)s characters."), field="name",
                                n=NAME_LENGTH))
    if any(ord(c) < 32 for c in name):
        errors.append(UserError(N_("The name holds characters that cannot be stored."),
                                field="name"))
    if scope not in {s.value for s in Scope}:
        errors.append(UserError(N_("Choose read or write."), field="scope"))
    if not owner.active:
        errors.append(UserError(N_("A deactivated user cannot have tokens.")))
    if errors:
        raise ValidationErrors(errors)
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    token = ApiToken(user=owner, name=name, scope=Scope(scope), prefix=prefix,
                     digest=_digest(secret))
    session.add(token)
    session.flush()
    record(session, actor, "create", "api_token", token.id, owner.organisation_id,
           {"owner_id": owner.id, "name": name, "scope": scope, "prefix": prefix})
    return NewToken(token, f"{PREFIX}{prefix}_{secret}")


def tokens_of(session: Session, actor: User, owner: User | None = None) -> list[ApiToken]:
    """The tokens of `owner` (the actor by default; anyone's for an admin), newest first."""
    owner = owner or actor
    if actor.id != owner.id and not can(actor, Action.MANAGE_USERS):
        raise NotAllowed("tokens of other users")
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == owner.id)
                                .order_by(ApiToken.id.desc())))


def revoke_token(session: Session, actor: User, token_id: int) -> ApiToken:
    """Stop a token at once: its owner or an admin."""
    token = session.get(ApiToken, token_id)
    if token is None or (token.user_id != actor.id and not can(actor, Action.MANAGE_USERS)):
        raise NotAllowed("not your token")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record(session, actor, "revoke", "api_token", token.id, token.user.organisation_id,
               {"owner_id": token.user_id, "name": token.name, "prefix": token.prefix})
    return token


def authenticate(session: Session, presented: str, now: datetime | None = None
                 ) -> Caller | None:
    """The caller a presented token stands for, or None: malformed, unknown, revoked, or its
    user deactivated. Compared in constant time."""
    if not presented.startswith(PREFIX) or len(presented) > 200:
        return None
    prefix, _, secret = presented[len(PREFIX):].partition("_")
    if not prefix or not secret:
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.prefix == prefix))
    if token is None or not hmac.compare_digest(token.digest, _digest(secret)):
        return None
    if token.revoked_at is not None or not token.user.active:
        return None
    now = now or utcnow()
    if token.last_used_at is None or now - token.last_used_at >= USE_NOTED_EVERY:
        token.last_used_at = now
    return Caller(token.user, token.scope, token.id, token.prefix)

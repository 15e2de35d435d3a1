"""The audit log: who created, changed, cancelled or deleted what, when, for which organisation.

`record(session, actor, action, obj_type, obj_id, organisation_id, changes)` is the one way in.
It adds the entry to the caller's session and never commits or flushes: the entry is written in
the same transaction as the change it records, so a change rolled back leaves no entry and a
change committed has its entry. Call it right next to the change, after the flush that gave the
object its id, e.g.

    record(session, user, "update", "watchlist", watchlist.id, changes={"name": name})

`changes` is a small JSON object of what changed. Keys that name a secret (a word password,
token, secret, credential, key, digest, hash) are dropped whatever the caller passed, and long
texts are cut, so the log never holds a credential and stays small.

Nothing in the code updates or deletes an entry; the migration (0040) adds triggers that refuse
UPDATE, DELETE (and on PostgreSQL TRUNCATE) of `audit_log`. There is no foreign key to users or
organisations: the actor's name is kept with the entry, and an entry outlives whatever it names.

Reading (`entries`) is for an administrator of the district only (`Action.VIEW_AUDIT`).
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Index, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.clock import to_local, utcnow
from core.db import Base, UTCDateTime
from core.users import OrganisationKind, User

MAX_TEXT = 300
MAX_ENTRIES = 500
_SECRET_WORDS = frozenset({"password", "passwords", "passwd", "token", "tokens", "secret",
                           "secrets", "credential", "credentials", "key", "keys", "digest",
                           "hash", "sealed"})


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_actor_at", "actor_id", "at"),
        Index("ix_audit_log_object", "object_type", "object_id"),
        Index("ix_audit_log_organisation_at", "organisation_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column()  # no foreign key: the entry outlives them
    actor_name: Mapped[str] = mapped_column(String(200), default="")
    organisation_id: Mapped[int | None] = mapped_column()
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int | None] = mapped_column()
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSON)


def _plain(value: Any) -> Any:
    """A JSON-safe, short copy of one value."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, str):
        return value if len(value) <= MAX_TEXT else value[:MAX_TEXT] + "…"
    if isinstance(value, dict):
        return clean(value)
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [_plain(item) for item in list(items)[:50]]
    if value is None or isinstance(value, bool | int | float):
        return value
    return _plain(str(value))


def clean(changes: dict[str, Any]) -> dict[str, Any]:
    """`changes` without anything that names a secret, each value JSON-safe and short."""
    return {str(key): _plain(value) for key, value in changes.items()
            if not is_secret(str(key))}


def is_secret(key: str) -> bool:
    """Whether a key names a secret: one of its words (split at _ - . and capitals) is one."""
    words = re.split(r"[^a-z]+", re.sub(r"([a-z])([A-Z])", r"\1_\2", key).lower())
    return any(word in _SECRET_WORDS for word in words)


def record(session: Session, actor: User | None, action: str, obj_type: str,
           obj_id: int | None, organisation_id: int | None = None,
           changes: dict[str, Any] | None = None) -> AuditEntry:
    """Add one audit entry to the caller's transaction (never committed here). `actor` None is
    the system (a job, the command line without a user); `organisation_id` is the object's
    organisation when it has one (None: the district's shared things)."""
    entry = AuditEntry(at=utcnow(), actor_id=actor.id if actor else None,
                       actor_name=actor.name if actor else "", organisation_id=organisation_id,
                       action=action[:40], object_type=obj_type[:40], object_id=obj_id,
                       changes=clean(changes) if changes else None)
    session.add(entry)
    return entry


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """{key: [old, new]} for each key whose value changed: the usual `changes` of an update."""
    return {key: [before.get(key), value] for key, value in after.items()
            if before.get(key) != value}


def one_of(organisation_ids: Iterable[int]) -> int | None:
    """The organisation when all the ids are the same one (a post's accounts), else None."""
    found = set(organisation_ids)
    return found.pop() if len(found) == 1 else None


@dataclass(frozen=True)
class AuditFilter:
    """What an administrator narrows the log to; every part optional. `since`/`until` are UTC
    moments (the web reads Stockholm days)."""

    actor_id: int | None = None
    action: str = ""
    object_type: str = ""
    organisation_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None


def may_read(user: User) -> bool:
    """An active administrator of the district: nobody else reads the log."""
    from core.auth import Action, can

    return can(user, Action.VIEW_AUDIT) and \
        user.organisation.kind is OrganisationKind.DISTRICT


def require_reader(user: User) -> None:
    from core.auth import Action, NotAllowed, require

    require(user, Action.VIEW_AUDIT)
    if not may_read(user):
        raise NotAllowed("only the district's administrators read the audit log")


def entries(session: Session, reader: User, wanted: AuditFilter | None = None, *,
            limit: int | None = MAX_ENTRIES) -> list[AuditEntry]:
    """The entries that match, newest first (at most `limit`; None: all, for the export)."""
    require_reader(reader)
    wanted = wanted or AuditFilter()
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if wanted.actor_id is not None:
        query = query.where(AuditEntry.actor_id == wanted.actor_id)
    if wanted.action:
        query = query.where(AuditEntry.action == wanted.action)
    if wanted.object_type:
        query = query.where(AuditEntry.object_type == wanted.object_type)
    if wanted.organisation_id is not None:
        query = query.where(AuditEntry.organisation_id == wanted.organisation_id)
    if wanted.since is not None:
        query = query.where(AuditEntry.at >= wanted.since)
    if wanted.until is not None:
        query = query.where(AuditEntry.at < wanted.until)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def choices(session: Session, reader: User) -> tuple[list[str], list[str]]:
    """The actions and object types the log holds, for the filter's menus."""
    require_reader(reader)
    actions = session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action))
    types = session.scalars(select(AuditEntry.object_type).distinct()
                            .order_by(AuditEntry.object_type))
    return list(actions), list(types)


COLUMNS = ("id", "at", "actor_id", "actor", "organisation_id", "action", "object_type",
           "object_id", "changes")


def as_row(entry: AuditEntry) -> tuple[object, ...]:
    """One entry as the export's row (COLUMNS): the time in Stockholm with its offset, the
    changes as compact JSON."""
    changes = json.dumps(entry.changes, ensure_ascii=False, sort_keys=True) \
        if entry.changes else ""
    return (entry.id, to_local(entry.at).isoformat(timespec="seconds"), entry.actor_id or "",
            entry.actor_name, entry.organisation_id or "", entry.action, entry.object_type,
            entry.object_id if entry.object_id is not None else "", changes)

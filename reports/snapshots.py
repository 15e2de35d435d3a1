"""Reports computed once and read many times: a snapshot per period, shared by every worker.

A board meeting opens the same month's report on a dozen screens, and the monthly e-mail and
the PDF ask for it again; each computation counts tens of thousands of index entries. So a
report is stored as JSON in `report_snapshots` under its period and party, and served from
there while it is younger than MAX_AGE; the page says when its figures were counted. The
snapshot lives in the database, not in one process, so any number of workers share it; two that
compute at once both write, and the later write wins (the same figures).
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import fields, is_dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import String, Text, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.auth import Action, require
from core.clock import ensure_utc, utcnow
from core.db import Base, UTCDateTime, dialect_insert, on_postgres
from core.users import OrganisationKind, User
from monitor.models import SourceKind
from reports.board import (
    IssueRow,
    OutletRow,
    PersonRow,
    Report,
    StoryRow,
    VoiceRow,
    board_report,
)
from reports.period import Bucket, Period
from reports.publishing import IssuePosts, OrganisationPosts, Publishing, TopPost

MAX_AGE = timedelta(minutes=10)
KEPT_FOR = timedelta(days=7)  # older snapshots are dropped when a new one is written


class ReportSnapshot(Base):
    """A computed report, as JSON (`encode`), and when it was computed."""

    __tablename__ = "report_snapshots"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    payload: Mapped[str] = mapped_column(Text)


def _plain(value: Any) -> Any:
    if is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, SourceKind):
        return value.value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def encode(report: Report, computed_at: datetime) -> str:
    """The report as JSON: every figure, the period and when it was counted."""
    return json.dumps({"computed_at": computed_at.isoformat(), "report": _plain(report)},
                      ensure_ascii=False)


def _period(data: dict[str, Any]) -> Period:
    return Period(date.fromisoformat(data["first"]), date.fromisoformat(data["last"]),
                  data["kind"])


def decode(payload: str) -> tuple[Report, datetime]:
    """`encode` undone."""
    whole = json.loads(payload)
    data = whole["report"]
    report = Report(
        period=_period(data["period"]), previous=_period(data["previous"]),
        buckets=[Bucket(date.fromisoformat(b["first"]), date.fromisoformat(b["last"]),
                        datetime.fromisoformat(b["start"]), datetime.fromisoformat(b["end"]))
                 for b in data["buckets"]],
        own_party=data["own_party"], total=data["total"],
        previous_total=data["previous_total"], series=data["series"],
        issues=[IssueRow(**row) for row in data["issues"]],
        voice=[VoiceRow(**row) for row in data["voice"]],
        voice_by_issue={int(k): [VoiceRow(**row) for row in rows]
                        for k, rows in data["voice_by_issue"].items()},
        voice_series=data["voice_series"],
        outlets=[OutletRow(row["outlet"], SourceKind(row["kind"]), row["count"],
                           row["previous"]) for row in data["outlets"]],
        outlet_issues={o: {int(k): n for k, n in by.items()}
                       for o, by in data["outlet_issues"].items()},
        stories=[StoryRow(**{**row, "at": datetime.fromisoformat(row["at"])})
                 for row in data["stories"]],
        people=[PersonRow(**row) for row in data["people"]],
        tone_by_issue={int(k): counts for k, counts in data.get("tone_by_issue", {}).items()},
        tone_series=data.get("tone_series", {}),
        notes=data.get("notes", []),
        publishing=_publishing(data.get("publishing")))
    return report, datetime.fromisoformat(whole["computed_at"])


def _publishing(data: dict[str, Any] | None) -> Publishing | None:
    if data is None:
        return None
    return Publishing(
        scope=data["scope"], count=data["count"], previous=data["previous"],
        series=data["series"], reach=data["reach"], engagement=data["engagement"],
        by_issue={int(k): IssuePosts(**row) for k, row in data["by_issue"].items()},
        by_organisation=[OrganisationPosts(**row) for row in data["by_organisation"]],
        top=[TopPost(**{**row, "at": datetime.fromisoformat(row["at"])})
             for row in data["top"]])


def _lock_id(key: str) -> int:
    """A snapshot key as a PostgreSQL advisory lock number (64 bits, signed)."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big",
                          signed=True)


def _key(period: Period, own_party: str, user: User) -> str:
    """Coverage is the same for every reader; our publishing is the reader's scope's: the
    district's users share one snapshot, each association's users another."""
    scope = ("all" if user.organisation.kind is OrganisationKind.DISTRICT
             else f"org{user.organisation_id}")
    return (f"board:{period.first.isoformat()}:{period.last.isoformat()}:{own_party}:"
            f"{scope}")


def cached_report(session: Session, user: User, period: Period, *, own_party: str = "V",
                  now: datetime | None = None, max_age: timedelta = MAX_AGE
                  ) -> tuple[Report, datetime]:
    """The report for `period` and when its figures were counted: the stored snapshot if it is
    younger than `max_age`, else counted now and stored (in the caller's transaction)."""
    require(user, Action.VIEW_REPORTS)
    now = now or utcnow()
    key = _key(period, own_party, user)
    found = _fresh(session, key, now, max_age)
    if found is not None:
        return _with_kind(found[0], period), found[1]
    if on_postgres(session):
        # One counts, the others wait for its snapshot (a meeting opens the report at once):
        # a lock on the key until the counting transaction ends, then a fresh look.
        session.execute(select(func.pg_advisory_xact_lock(_lock_id(key))))
        found = _fresh(session, key, now, max_age)
        if found is not None:
            return _with_kind(found[0], period), found[1]
    report = board_report(session, user, period, own_party=own_party)
    insert = dialect_insert(session)
    values = {"key": key, "computed_at": now, "payload": encode(report, now)}
    session.execute(insert(ReportSnapshot).values(**values).on_conflict_do_update(
        index_elements=["key"], set_={"computed_at": now, "payload": values["payload"]}))
    session.execute(delete(ReportSnapshot).where(ReportSnapshot.computed_at < now - KEPT_FOR))
    return report, now


def _fresh(session: Session, key: str, now: datetime, max_age: timedelta
           ) -> tuple[Report, datetime] | None:
    """The stored snapshot under `key` if it is young enough. Its JSON is read and decoded once
    per process: a snapshot never changes once written, so its database, key and computed_at
    name it."""
    computed_at = session.scalar(select(ReportSnapshot.computed_at)
                                 .where(ReportSnapshot.key == key))
    if computed_at is None or now - ensure_utc(computed_at) >= max_age:
        return None
    computed_at = ensure_utc(computed_at)
    name = (session.get_bind().url.render_as_string(hide_password=True), key, computed_at)
    with _decoding:
        report = _decoded.get(name)
    if report is None:
        payload = session.scalar(select(ReportSnapshot.payload).where(
            ReportSnapshot.key == key, ReportSnapshot.computed_at == computed_at))
        if payload is None:  # rewritten since the first look: that one is at least as young
            return _fresh(session, key, now, max_age)
        report, computed_at = decode(payload)
        with _decoding:
            while len(_decoded) >= 32:
                _decoded.pop(next(iter(_decoded)))
            _decoded[name] = report
    return report, computed_at


_decoded: dict[tuple[str, str, datetime], Report] = {}
_decoding = threading.Lock()


def _with_kind(report: Report, period: Period) -> Report:
    """The snapshot's figures under the period as asked for ("last-month" and "2026-11" are
    the same days, one snapshot)."""
    return replace(report, period=period)

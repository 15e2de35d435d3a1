"""Time in one place: stored in UTC, shown and entered in the organisation's zone (Stockholm)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

STOCKHOLM = ZoneInfo("Europe/Stockholm")


class LocalTimeError(ValueError):
    """A wall-clock time that does not exist (the spring gap) or is otherwise unusable."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def local_to_utc(naive_local: datetime, zone: ZoneInfo = STOCKHOLM) -> datetime:
    """Turn a wall-clock time entered by a person into UTC.

    Refuses a time in the spring-forward gap (it never happens on the wall clock). In the autumn
    overlap the first occurrence (summer time) is taken, the reading people mean by default.
    """
    if naive_local.tzinfo is not None:
        raise ValueError("local_to_utc expects a naive wall-clock time")
    first = naive_local.replace(tzinfo=zone, fold=0)
    roundtrip = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    if roundtrip != naive_local:
        raise LocalTimeError(f"{naive_local:%Y-%m-%d %H:%M} does not exist in {zone.key}")
    return first.astimezone(UTC)


def to_local(moment: datetime, zone: ZoneInfo = STOCKHOLM) -> datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone)


def ensure_utc(moment: datetime) -> datetime:
    """Naive values read from SQLite are UTC by our convention."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)



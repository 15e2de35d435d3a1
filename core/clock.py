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
    overlap the time's `fold` says which occurrence: 0 (the default) the first, still summer time,
    the reading people mean by default; 1 the second, winter time (see `is_doubled`).
    """
    if naive_local.tzinfo is not None:
        raise ValueError("local_to_utc expects a naive wall-clock time")
    if not exists(naive_local, zone):
        raise LocalTimeError(f"{naive_local:%Y-%m-%d %H:%M} does not exist in {zone.key}")
    return naive_local.replace(tzinfo=zone).astimezone(UTC)


def exists(naive_local: datetime, zone: ZoneInfo = STOCKHOLM) -> bool:
    """Whether the wall clock ever shows this time (not in the spring-forward gap)."""
    first = naive_local.replace(tzinfo=zone, fold=0)
    return first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == naive_local.replace(
        fold=0)


def is_doubled(naive_local: datetime, zone: ZoneInfo = STOCKHOLM) -> bool:
    """Whether the wall clock shows this time twice (the hour after 02:00 on the autumn night
    the clocks go back): first in summer time (fold 0), then in winter time (fold 1)."""
    if not exists(naive_local, zone):
        return False
    return (naive_local.replace(tzinfo=zone, fold=0).utcoffset()
            != naive_local.replace(tzinfo=zone, fold=1).utcoffset())


def to_local(moment: datetime, zone: ZoneInfo = STOCKHOLM) -> datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone)


def ensure_utc(moment: datetime) -> datetime:
    """Naive values read from SQLite are UTC by our convention."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)



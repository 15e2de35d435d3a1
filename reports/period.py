"""The period a report covers: Stockholm calendar days, the period before it, and its buckets.

A board member thinks in "last month", "this week", "the third quarter": whole Swedish calendar
days, from midnight to midnight in Stockholm, 23 or 25 hours long around the clock changes.
Everything here is turned into UTC bounds once, so every count in a report compares the stored
UTC times with the same two instants and the same bucket edges, on both databases.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from core.i18n import N_, UserError
from monitor.mention_search import stockholm_day_bounds

# The longest period a report covers: two years (an election cycle and a half).
LONGEST_DAYS = 732
DAY_BUCKETS_UP_TO = 62  # days; longer periods are counted per ISO week, beyond a year per month
WEEK_BUCKETS_UP_TO = 400

KINDS = ("this-week", "last-week", "this-month", "last-month", "this-quarter", "last-quarter",
         "this-year")
DEFAULT_KIND = "last-month"


class PeriodError(UserError):
    """A period that cannot be read or is out of range; says which and why."""


@dataclass(frozen=True)
class Bucket:
    """One bar or point of a chart: its first and last day and its UTC bounds [start, end)."""

    first: date
    last: date
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Period:
    """Whole Stockholm days from `first` to `last`, both included."""

    first: date
    last: date
    kind: str = "custom"  # one of KINDS, "month" (YYYY-MM), "quarter" (YYYY-Qn) or custom

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def start(self) -> datetime:
        """The UTC instant the first day begins."""
        return stockholm_day_bounds(self.first)[0]

    @property
    def end(self) -> datetime:
        """The UTC instant after the last day ends (exclusive)."""
        return stockholm_day_bounds(self.last)[1]

    def previous(self) -> Period:
        """The period of the same length just before (a calendar month's is the month before)."""
        if self.first.day == 1 and (self.last + timedelta(days=1)).day == 1:
            months = _months_between(self.first, self.last + timedelta(days=1))
            first = _add_months(self.first, -months)
            return Period(first, self.first - timedelta(days=1), self.kind)
        return Period(self.first - timedelta(days=self.days), self.first - timedelta(days=1),
                      self.kind)

    @property
    def grain(self) -> str:
        """How the charts count over time: "day", "week" or "month"."""
        if self.days <= DAY_BUCKETS_UP_TO:
            return "day"
        return "week" if self.days <= WEEK_BUCKETS_UP_TO else "month"

    def buckets(self) -> list[Bucket]:
        """The period cut into days, ISO weeks or months (the first and last may be partial)."""
        found: list[Bucket] = []
        day = self.first
        while day <= self.last:
            if self.grain == "day":
                last = day
            elif self.grain == "week":
                last = day + timedelta(days=6 - day.weekday())
            else:
                last = _add_months(day.replace(day=1), 1) - timedelta(days=1)
            last = min(last, self.last)
            found.append(Bucket(day, last, stockholm_day_bounds(day)[0],
                                stockholm_day_bounds(last)[1]))
            day = last + timedelta(days=1)
        return found

    def token(self) -> str:
        """How the period is written in a link or on the command line."""
        if self.kind in KINDS:
            return self.kind
        if self.kind == "month":
            return f"{self.first:%Y-%m}"
        if self.kind == "quarter":
            return f"{self.first.year}-Q{(self.first.month - 1) // 3 + 1}"
        return f"{self.first.isoformat()}..{self.last.isoformat()}"


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _months_between(first: date, after_last: date) -> int:
    return (after_last.year - first.year) * 12 + after_last.month - first.month


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def named(kind: str, today: date) -> Period:
    """A period named relative to today (a Stockholm date)."""
    if kind == "this-week":
        first = today - timedelta(days=today.weekday())
        return Period(first, first + timedelta(days=6), kind)
    if kind == "last-week":
        first = today - timedelta(days=today.weekday() + 7)
        return Period(first, first + timedelta(days=6), kind)
    if kind == "this-month":
        first = today.replace(day=1)
        return Period(first, _add_months(first, 1) - timedelta(days=1), kind)
    if kind == "last-month":
        first = _add_months(today.replace(day=1), -1)
        return Period(first, today.replace(day=1) - timedelta(days=1), kind)
    if kind == "this-quarter":
        first = _quarter_start(today)
        return Period(first, _add_months(first, 3) - timedelta(days=1), kind)
    if kind == "last-quarter":
        first = _add_months(_quarter_start(today), -3)
        return Period(first, _quarter_start(today) - timedelta(days=1), kind)
    if kind == "this-year":
        return Period(date(today.year, 1, 1), date(today.year, 12, 31), kind)
    raise PeriodError(N_("Unknown period “%(period)s”."), field="period", period=kind)


_MONTH = re.compile(r"(\d{4})-(\d{2})")
_QUARTER = re.compile(r"(\d{4})-[Qq]([1-4])")


def parse(text: str | None, today: date, *, first: str | None = None,
          last: str | None = None) -> Period:
    """A period from a link or the command line: a name (KINDS), a month "2014-08", a quarter
    "2014-Q3", a range "2014-08-01..2014-08-31", or `first` and `last` days; none means the
    default, last month. PeriodError says what is wrong."""
    if first or last:
        return _custom(first or "", last or "")
    text = (text or "").strip()
    if not text:
        return named(DEFAULT_KIND, today)
    if text in KINDS:
        return named(text, today)
    if m := _MONTH.fullmatch(text):
        year, month = int(m.group(1)), int(m.group(2))
        if not (1900 <= year <= 9000 and 1 <= month <= 12):
            raise PeriodError(N_("No such month: %(period)s."), field="period", period=text)
        begin = date(year, month, 1)
        return Period(begin, _add_months(begin, 1) - timedelta(days=1), "month")
    if m := _QUARTER.fullmatch(text):
        year = int(m.group(1))
        if not 1900 <= year <= 9000:
            raise PeriodError(N_("No such quarter: %(period)s."), field="period", period=text)
        begin = date(year, 3 * (int(m.group(2)) - 1) + 1, 1)
        return Period(begin, _add_months(begin, 3) - timedelta(days=1), "quarter")
    if ".." in text:
        return _custom(*text.split("..", 1))
    raise PeriodError(N_("“%(period)s” is not a period: write 2014-08, 2014-Q3 or "
                         "2014-08-01..2014-08-31."), field="period", period=text)


def _custom(first: str, last: str) -> Period:
    try:
        begin, end = date.fromisoformat(first.strip()), date.fromisoformat(last.strip())
    except ValueError as exc:
        raise PeriodError(N_("Write the days as YYYY-MM-DD."), field="period") from exc
    if not (date(1900, 1, 1) <= begin <= date(9000, 1, 1)
            and date(1900, 1, 1) <= end <= date(9000, 1, 1)):
        raise PeriodError(N_("Write the days as YYYY-MM-DD."), field="period")
    if end < begin:
        raise PeriodError(N_("The period ends before it begins."), field="period")
    if (end - begin).days + 1 > LONGEST_DAYS:
        raise PeriodError(N_("A report covers at most two years."), field="period")
    return Period(begin, end, "custom")

"""A date and time as a person types them, the Swedish way whatever the browser's language:
ÅÅÅÅ-MM-DD and TT:MM on a 24-hour clock, Stockholm wall-clock time.

The web forms hand the typed text here unchanged; this module decides what it means, and says in
the person's words (msgids, translated by web/) what is wrong with it: a malformed date or time,
a time that never happens (the spring night the clocks jump from 02:00 to 03:00), or one that
happens twice (the autumn night they go back from 03:00 to 02:00), for which the person chooses
the first (summer time) or the second (winter time) occurrence instead of Megafon guessing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time

from core.clock import STOCKHOLM, exists, is_doubled, to_local
from core.i18n import N_, UserError

SOON, AT = "soon", "at"  # the form's choice: as soon as possible, or at the time typed
SUMMER_TIME, WINTER_TIME = "summer", "winter"  # which occurrence of the doubled autumn hour
READINGS = {SUMMER_TIME: 0, WINTER_TIME: 1}  # ... as datetime.fold
# 2026-05-04 (or 2026-5-4), or 20260504 from a phone's number pad
DATE_SHAPE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})|(\d{4})(\d{2})(\d{2})")
# 14:30, 14.30 (as Swedes often write it) or 1430; 9:05 too
TIME_SHAPE = re.compile(r"(\d{1,2})[:.](\d{2})|(\d{2})(\d{2})")


@dataclass(frozen=True)
class EnteredTime:
    """What the form's fields held, as typed. `reading`: SUMMER_TIME, WINTER_TIME or "" (not
    asked, or not answered) for a time in the doubled autumn hour. `soon`: "as soon as
    possible" chosen instead of a time (what was typed is kept, to show again)."""

    date: str = ""
    time: str = ""
    reading: str = ""
    soon: bool = False

    @classmethod
    def chosen(cls, choice: str | None, date: str | None, time: str | None,
               reading: str | None) -> EnteredTime:
        """From a form whose `choice` is SOON or AT; without a choice (a form from before the
        choice was offered) empty fields mean as soon as possible."""
        date, time = (date or "").strip(), (time or "").strip()
        soon = choice == SOON or (choice != AT and not date and not time)
        return cls(date, time, reading or "", soon)

    @property
    def empty(self) -> bool:
        return not self.date.strip() and not self.time.strip()

    @classmethod
    def showing(cls, moment: datetime) -> EnteredTime:
        """How a stored moment (UTC) is shown in the fields again: Stockholm wall clock, and in
        the doubled hour which occurrence it is."""
        local = to_local(moment)
        naive = local.replace(tzinfo=None)
        reading = ""
        if is_doubled(naive):
            reading = WINTER_TIME if local.fold else SUMMER_TIME
        return cls(f"{local:%Y-%m-%d}", f"{local:%H:%M}", reading)


# Dates a person types: far enough either way for any archive or plan, and well inside what
# every conversion (time zones, both databases) handles; year 1 or 9999 is a slip, not a date.
FIRST_YEAR, LAST_YEAR = 1900, 2999


def parse_date(text: str) -> date | None:
    """ÅÅÅÅ-MM-DD (leading zeros optional); None if it is not a real date in that shape, or
    not in FIRST_YEAR..LAST_YEAR."""
    match = DATE_SHAPE.fullmatch(text.strip())
    if not match:
        return None
    try:
        day = date(*(int(part) for part in match.groups() if part is not None))
    except ValueError:
        return None
    return day if FIRST_YEAR <= day.year <= LAST_YEAR else None


def _out_of_range(text: str) -> bool:
    match = DATE_SHAPE.fullmatch(text.strip())
    return match is not None and not FIRST_YEAR <= int(match.group(1) or match.group(4)) \
        <= LAST_YEAR


def parse_time(text: str) -> time | None:
    """TT:MM on a 24-hour clock (also TT.MM and TTMM); None if not a real time in that shape."""
    match = TIME_SHAPE.fullmatch(text.strip())
    if not match:
        return None
    hour, minute = (int(g) for g in match.groups() if g is not None)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def read_wall_clock(entered: EnteredTime, field: str, errors: list[UserError], *,
                    time_required: bool = True, ask_when_doubled: bool = True
                    ) -> datetime | None:
    """The Stockholm wall-clock time the person meant (naive, its `fold` saying which occurrence
    of a doubled hour), or None with the problems added to `errors` at `field` (the doubled
    hour not yet answered at `field`_reading). Without `time_required` a date alone means the
    start of that day; without `ask_when_doubled` the first occurrence is taken.
    """
    day = parse_date(entered.date)
    if day is None:
        if _out_of_range(entered.date):
            errors.append(UserError(N_("Give a date between the years %(first)s and "
                                       "%(last)s."), field=field, first=FIRST_YEAR,
                                    last=LAST_YEAR))
        else:
            errors.append(UserError(
                N_("Write the date as YYYY-MM-DD, e.g. 2026-05-04.") if entered.date.strip()
                else N_("Give a date, as YYYY-MM-DD."), field=field))
    if not entered.time.strip() and not time_required:
        clock: time | None = time(0, 0)
    else:
        clock = parse_time(entered.time)
        if clock is None:
            errors.append(UserError(
                N_("Write the time as HH:MM on a 24-hour clock, e.g. 14:30.")
                if entered.time.strip() else N_("Give a time, as HH:MM on a 24-hour clock."),
                field=field))
    if day is None or clock is None:
        return None
    moment = datetime.combine(day, clock)
    if not exists(moment, STOCKHOLM):
        errors.append(UserError(
            N_("%(time)s does not exist in Swedish time: the clocks jump from 02:00 to 03:00 "
               "that night. Choose another time."),
            field=field, time=moment.strftime("%Y-%m-%d %H:%M")))
        return None
    if is_doubled(moment, STOCKHOLM):
        if entered.reading in READINGS:
            return moment.replace(fold=READINGS[entered.reading])
        if ask_when_doubled:
            errors.append(UserError(
                N_("%(time)s happens twice that night: the clocks go back from 03:00 to 02:00. "
                   "Choose the first time (summer time) or the second (winter time)."),
                field=f"{field}_reading", time=moment.strftime("%Y-%m-%d %H:%M")))
            return None
    return moment

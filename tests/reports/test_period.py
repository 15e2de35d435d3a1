"""Periods as a board member names them, read the same from a link and the command line."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from reports.period import LONGEST_DAYS, Period, PeriodError, named, parse

TODAY = date(2026, 12, 2)  # a Wednesday


@pytest.mark.parametrize("kind, first, last", [
    ("this-week", date(2026, 11, 30), date(2026, 12, 6)),
    ("last-week", date(2026, 11, 23), date(2026, 11, 29)),
    ("this-month", date(2026, 12, 1), date(2026, 12, 31)),
    ("last-month", date(2026, 11, 1), date(2026, 11, 30)),
    ("this-quarter", date(2026, 10, 1), date(2026, 12, 31)),
    ("last-quarter", date(2026, 7, 1), date(2026, 9, 30)),
    ("this-year", date(2026, 1, 1), date(2026, 12, 31)),
])
def test_named_periods(kind, first, last):
    assert (named(kind, TODAY).first, named(kind, TODAY).last) == (first, last)


def test_last_month_is_the_default_and_january_looks_back_to_december():
    assert parse(None, TODAY) == named("last-month", TODAY)
    period = parse("", date(2027, 1, 15))
    assert (period.first, period.last) == (date(2026, 12, 1), date(2026, 12, 31))


def test_months_quarters_and_ranges_and_the_period_before():
    march = parse("2026-03", TODAY)
    assert (march.first, march.last, march.token()) == (date(2026, 3, 1), date(2026, 3, 31),
                                                         "2026-03")
    before = march.previous()
    assert (before.first, before.last) == (date(2026, 2, 1), date(2026, 2, 28))
    q3 = parse("2014-Q3", TODAY)
    assert (q3.first, q3.last, q3.token()) == (date(2014, 7, 1), date(2014, 9, 30), "2014-Q3")
    assert (q3.previous().first, q3.previous().last) == (date(2014, 4, 1), date(2014, 6, 30))
    days = parse("2026-03-10..2026-03-16", TODAY)
    assert days.days == 7 and (days.previous().first, days.previous().last) == (
        date(2026, 3, 3), date(2026, 3, 9))
    assert parse(None, TODAY, first="2026-03-10", last="2026-03-16") == days


def test_stockholm_days_in_utc_and_buckets_by_length():
    march = parse("2026-03", TODAY)
    assert march.start == datetime(2026, 2, 28, 23, 0, tzinfo=UTC)
    assert march.end == datetime(2026, 3, 31, 22, 0, tzinfo=UTC)  # summer time by then
    assert march.grain == "day" and len(march.buckets()) == 31
    quarter = parse("2026-Q1", TODAY)
    weeks = quarter.buckets()
    assert quarter.grain == "week" and weeks[0].first == date(2026, 1, 1)
    assert weeks[0].last == date(2026, 1, 4) and weeks[1].first.weekday() == 0
    assert weeks[-1].last == date(2026, 3, 31)
    year = Period(date(2025, 1, 1), date(2025, 12, 31))
    assert year.grain == "week" and len(year.buckets()) == 53
    two_years = Period(date(2024, 1, 1), date(2025, 12, 31))
    assert two_years.grain == "month" and len(two_years.buckets()) == 24


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "0001-01", "2026-Q5", "igår",
                                  "2026-03-10..2026-03-01", "2026-03-10..", "x..y",
                                  "2020-01-01..2026-01-01", "next-week"])
def test_a_period_that_cannot_be_read_is_refused_with_a_reason(text):
    with pytest.raises(PeriodError) as refused:
        parse(text, TODAY)
    assert refused.value.field == "period" and str(refused.value)


def test_the_longest_period_is_two_years():
    assert parse(None, TODAY, first="2024-12-01", last="2026-12-01").days <= LONGEST_DAYS

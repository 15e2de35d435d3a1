from datetime import UTC, datetime

import pytest

from core.clock import LocalTimeError, local_to_utc, to_local


def test_stockholm_winter_time_is_utc_plus_one():
    assert local_to_utc(datetime(2026, 1, 15, 9, 0)) == datetime(2026, 1, 15, 8, 0, tzinfo=UTC)


def test_stockholm_summer_time_is_utc_plus_two():
    assert local_to_utc(datetime(2026, 7, 1, 9, 0)) == datetime(2026, 7, 1, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize("minute", [0, 30, 59])
def test_spring_gap_time_does_not_exist(minute):
    with pytest.raises(LocalTimeError):
        local_to_utc(datetime(2026, 3, 29, 2, minute))


def test_autumn_overlap_takes_first_occurrence():
    # 02:30 happens twice on 2026-10-25; the first is still summer time (UTC+2).
    assert local_to_utc(datetime(2026, 10, 25, 2, 30)) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_round_trip_to_local():
    moment = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)
    assert to_local(moment).strftime("%H:%M %Z") == "21:00 CET"

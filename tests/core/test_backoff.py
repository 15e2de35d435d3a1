"""The one backoff policy: it doubles from the base, stops at the cap, keeps chance within its
share and above the floor, and gives the same waits for the same seed."""

import random
from datetime import UTC, datetime, timedelta

import pytest

from core.backoff import Backoff

S = timedelta(seconds=1)
M = timedelta(minutes=1)


def test_the_wait_doubles_from_the_base_after_each_failure():
    policy = Backoff(base=M, cap=timedelta(hours=1))
    assert [policy.delay(n) for n in range(1, 9)] == \
        [M, 2 * M, 4 * M, 8 * M, 16 * M, 32 * M, 60 * M, 60 * M]
    assert policy.delay(0) == M  # "no failure yet" waits like the first


def test_the_cap_holds_however_long_something_keeps_failing():
    policy = Backoff(base=5 * M, cap=timedelta(days=1))
    assert policy.delay(40) == policy.delay(10_000) == timedelta(days=1)


def test_a_base_above_the_cap_waits_the_cap():
    assert Backoff(base=timedelta(days=2), cap=timedelta(days=1)).delay(1) == timedelta(days=1)


def test_full_jitter_stays_between_the_floor_and_the_ceiling():
    policy = Backoff(base=5 * S, cap=5 * M, jitter=1.0, floor=S, rng=random.Random(7))
    for attempt in range(1, 12):
        ceiling = policy.ceiling(attempt)
        waits = [policy.delay(attempt) for _ in range(200)]
        assert all(S <= wait <= ceiling for wait in waits)
        assert len(set(waits)) > 100  # left to chance, not one fixed wait
    assert policy.ceiling(11) == 5 * M


def test_partial_jitter_keeps_the_rest_of_the_wait():
    policy = Backoff(base=10 * S, cap=M, jitter=0.2, rng=random.Random(3))
    waits = [policy.delay(1) for _ in range(200)]
    assert all(8 * S <= wait <= 10 * S for wait in waits)


def test_the_same_seed_gives_the_same_waits():
    def waits(seed: int) -> list[timedelta]:
        policy = Backoff(base=5 * S, cap=5 * M, jitter=1.0, rng=random.Random(seed))
        return [policy.delay(n) for n in range(1, 10)]

    assert waits(42) == waits(42)
    assert waits(42) != waits(43)


def test_next_at_counts_from_the_given_moment():
    moment = datetime(2030, 3, 30, 23, 59, tzinfo=UTC)
    assert Backoff(base=M, cap=M * 60).next_at(3, moment) == moment + 4 * M


@pytest.mark.parametrize("values", [{"jitter": 1.5}, {"jitter": -0.1}, {"base": -S}])
def test_nonsense_numbers_are_refused(values):
    arguments = {"base": S, "cap": M, **values}
    with pytest.raises(ValueError):
        Backoff(**arguments)

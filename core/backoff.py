"""The one backoff policy: how long to wait before trying again after the n-th failure.

Deliveries, source polls and e-mails all wait the same way: the base, doubled for each further
failure, never more than the cap, optionally with part of the wait left to chance so that many
workers that failed together do not all come back at the same instant. Each caller keeps its own
numbers (a send retries within seconds, a feed within its own interval, an e-mail within
minutes); the arithmetic lives here once, so every caller grows, caps and jitters alike.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class Backoff:
    """`base` after the first failure, doubled after each further one, at most `cap`.

    `jitter` is the share of that wait left to chance: 0 waits exactly, 1 waits anywhere from
    nothing to all of it ("full jitter", which spreads a crowd of retries best). `floor` is the
    least wait, whatever chance says. `rng` draws the chance (the module's generator when None);
    a test passes a seeded `random.Random` to get the same waits every run.
    """

    base: timedelta
    cap: timedelta
    jitter: float = 0.0
    floor: timedelta = timedelta(0)
    rng: random.Random | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError(f"jitter is a share between 0 and 1, not {self.jitter}")
        if self.base < timedelta(0) or self.cap < timedelta(0):
            raise ValueError("a backoff's base and cap cannot be negative")

    def ceiling(self, attempt: int) -> timedelta:
        """The wait after failure number `attempt` (1 for the first) before any chance."""
        doublings = max(0, attempt - 1)
        cap = self.cap // _MICROSECOND
        # In whole microseconds (Python integers never overflow) and stopped once past the cap:
        # a source that has failed for months must still get an answer, the cap.
        grown = self.base // _MICROSECOND << min(doublings, cap.bit_length() + 1)
        return timedelta(microseconds=min(cap, grown))

    def delay(self, attempt: int) -> timedelta:
        """How long to wait after failure number `attempt` (1 for the first)."""
        wait = self.ceiling(attempt)
        if self.jitter:
            chance = self.rng.uniform(0.0, 1.0) if self.rng else random.uniform(0.0, 1.0)
            wait = wait * (1.0 - self.jitter + self.jitter * chance)
        return max(self.floor, wait)

    def next_at(self, attempt: int, now: datetime) -> datetime:
        """When to try again after failure number `attempt`, counted from `now`."""
        return now + self.delay(attempt)

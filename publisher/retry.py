"""What to do after a failed send: retry when, reconcile first, or give up and say why.

Pure decisions from the error, the attempt count and the clock, so every rule is testable alone.
"""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.backoff import Backoff
from core.settings import Settings
from publisher.adapters.base import ErrorKind, PlatformError


class Next(enum.StrEnum):
    RETRY = "retry"
    RECONCILE = "reconcile"
    HOLD = "hold"
    FAIL = "fail"


@dataclass(frozen=True)
class RetryPolicy:
    base: timedelta = timedelta(seconds=5)
    cap: timedelta = timedelta(minutes=5)
    # Past this the post has lost its moment: fail and tell the author instead of sending late.
    max_lateness: timedelta = timedelta(minutes=30)
    reconcile_every: timedelta = timedelta(seconds=30)
    # Platforms show a new post in timelines after a moment; look too soon and it seems missing.
    reconcile_delay: timedelta = timedelta(seconds=5)

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(base=timedelta(seconds=settings.retry_base_seconds),
                   cap=timedelta(seconds=settings.retry_max_seconds),
                   max_lateness=timedelta(minutes=settings.max_lateness_minutes),
                   reconcile_every=timedelta(seconds=settings.reconcile_interval_seconds))

    def gives_up_at(self, due_at: datetime) -> datetime:
        """After this a delivery that has not gone out fails as too late."""
        return due_at + self.max_lateness

    def backoff(self, attempts: int, rng: random.Random | None = None) -> timedelta:
        """Exponential backoff with full jitter, at least one second: a burst of failures on
        one platform must not come back as one burst (`core.backoff`, the policy polls and
        e-mails use too)."""
        return Backoff(self.base, self.cap, jitter=1.0, floor=timedelta(seconds=1),
                       rng=rng).delay(attempts)

    def too_late(self, due_at: datetime, when: datetime) -> bool:
        return when > self.gives_up_at(due_at)


@dataclass(frozen=True)
class Decision:
    next: Next
    at: datetime | None = None
    kind: str | None = None  # error kind recorded on the delivery (user_messages key)


def decide(policy: RetryPolicy, exc: PlatformError, *, attempts: int, due_at: datetime,
           now: datetime, rng: random.Random | None = None) -> Decision:
    if exc.outcome_unknown or exc.kind is ErrorKind.DUPLICATE:
        # The post may exist (or a duplicate refusal may mean our own earlier attempt got
        # through): look before doing anything else.
        return Decision(Next.RECONCILE, now + policy.reconcile_delay, exc.kind.value)
    if exc.kind is ErrorKind.AUTH:
        return Decision(Next.HOLD, None, exc.kind.value)
    if exc.kind.permanent or exc.kind is ErrorKind.UNKNOWN:
        return Decision(Next.FAIL, None, exc.kind.value)
    if exc.kind is ErrorKind.RATE_LIMITED and exc.retry_at is not None:
        at = max(exc.retry_at + timedelta(seconds=1), now + timedelta(seconds=1))
    else:
        at = now + policy.backoff(attempts, rng)
    if policy.too_late(due_at, at):
        return Decision(Next.FAIL, None, "too_late")
    return Decision(Next.RETRY, at, exc.kind.value)

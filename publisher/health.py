"""Is publishing keeping its promise right now? Posts due minutes ago and not out are the sign;
whether any worker is alive says why (none running, or running and behind)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from core.clock import utcnow
from core.workers import alive
from publisher.deliveries import overdue

LATE_AFTER = timedelta(minutes=2)  # longer than a tick, a retry's first waits and a wake-up


class PublishingState(enum.StrEnum):
    OK = "ok"
    STALLED = "stalled"  # work is late and no worker is alive to do it
    BEHIND = "behind"  # work is late although workers are alive


@dataclass(frozen=True)
class PublishingHealth:
    state: PublishingState
    workers: int  # alive now
    last_seen: datetime | None  # the last heartbeat of any worker
    late: int  # deliveries due more than LATE_AFTER ago and not sent
    late_since: datetime | None  # when the oldest of them was due

    def as_dict(self) -> dict[str, object]:
        return {"state": self.state.value, "workers": self.workers, "late": self.late,
                "last_seen": self.last_seen.isoformat() if self.last_seen else None,
                "late_since": self.late_since.isoformat() if self.late_since else None}


def publishing_health(session: Session, now: datetime | None = None) -> PublishingHealth:
    now = now or utcnow()
    workers, last_seen = alive(session, now)
    late, late_since = overdue(session, now - LATE_AFTER, now)
    if not late:
        state = PublishingState.OK
    else:
        state = PublishingState.BEHIND if workers else PublishingState.STALLED
    return PublishingHealth(state, workers, last_seen, late, late_since)

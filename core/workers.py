"""Which scheduler processes are alive: each one writes a heartbeat row every few seconds.

Work that is due but not done is only alarming next to this: with no worker alive nothing will
ever publish it, and nobody would hear why. A row per process (`worker_id`), so any number of
workers can beat without touching each other's rows; rows of long-gone processes are swept.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import String, delete, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.clock import utcnow
from core.db import Base, Database, UTCDateTime

BEAT_EVERY = timedelta(seconds=20)
ALIVE_WITHIN = timedelta(minutes=2)  # a worker silent for longer counts as gone
FORGET_AFTER = timedelta(days=1)


class WorkerHeartbeat(Base):
    __tablename__ = "worker_heartbeats"

    worker_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


def beat(db: Database, worker_id: str, now: datetime | None = None) -> None:
    """Say this worker is alive (and forget workers silent for a day)."""
    now = now or utcnow()
    with db.session() as session:
        found = session.execute(update(WorkerHeartbeat)
                                .where(WorkerHeartbeat.worker_id == worker_id)
                                .values(seen_at=now)).rowcount
        if not found:
            session.add(WorkerHeartbeat(worker_id=worker_id, started_at=now, seen_at=now))
        session.execute(delete(WorkerHeartbeat)
                        .where(WorkerHeartbeat.seen_at < now - FORGET_AFTER))


def alive(session: Session, now: datetime | None = None) -> tuple[int, datetime | None]:
    """How many workers beat within ALIVE_WITHIN, and when any worker was last heard from."""
    now = now or utcnow()
    count = session.scalar(select(func.count()).where(
        WorkerHeartbeat.seen_at >= now - ALIVE_WITHIN)) or 0
    last = session.scalar(select(func.max(WorkerHeartbeat.seen_at)))
    return count, last

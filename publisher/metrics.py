"""After publishing: each post's public numbers, fetched on a schedule that thins out with age.

Every published delivery gets one `metrics_schedule` row saying when its numbers are next due.
Workers claim due rows in the database the way deliveries are claimed (`core.claims.claim`: one
guarded UPDATE; SKIP LOCKED on PostgreSQL; a lease in `claimed_until`), fetch them per account
in batches through the adapter, and append one `post_metrics` row per fetch: a time series for
reports. A post the platform says is gone is noted (`gone_at`) and never asked for again; rate
limits push the account's rows past the reset; a refused token only defers them, since the daily
token check (publisher.token_checks) is what reports and holds a broken account.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    ForeignKey,
    Index,
    Select,
    String,
    Text,
    and_,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.claims import Lease, claim
from core.clock import utcnow
from core.crypto import CredentialBox
from core.db import Base, Database, UTCDateTime
from publisher.adapters.base import ErrorKind, Metrics, PlatformError
from publisher.models import (
    Account,
    CredentialStatus,
    Delivery,
    DeliveryState,
    Platform,
    Post,
)
from publisher.platforms import Platforms

log = logging.getLogger(__name__)

# How often a post's numbers are fetched, by its age: (while younger than, every). Older than the
# last limit: never again. The last fetch falls exactly on that limit.
SCHEDULE: tuple[tuple[timedelta, timedelta], ...] = (
    (timedelta(hours=2), timedelta(minutes=15)),
    (timedelta(hours=24), timedelta(hours=1)),
    (timedelta(days=7), timedelta(hours=6)),
    (timedelta(days=30), timedelta(days=1)),
)
TRACKED_FOR = SCHEDULE[-1][0]
RETRY_AFTER = timedelta(minutes=15)  # the platform failed or said nothing about a post
AUTH_PAUSE = timedelta(hours=1)  # a refused token: wait for the token check
RATE_PAUSE = timedelta(minutes=15)  # rate limited without a reset time


def fetch_interval(age: timedelta) -> timedelta | None:
    """How long after a fetch at this age the next one is due; None: no more fetches."""
    for younger_than, every in SCHEDULE:
        if age < younger_than:
            return every
    return None


def next_fetch_at(published_at: datetime, last_fetched_at: datetime | None = None
                  ) -> datetime | None:
    """When a post's numbers are next due, counted from its last fetch (or its publishing)."""
    since = last_fetched_at or published_at
    every = fetch_interval(since - published_at)
    if every is None:
        return None
    return min(since + every, published_at + TRACKED_FOR)


class MetricsSchedule(Base):
    """When a published delivery's numbers are next fetched, and who is fetching them now."""

    __tablename__ = "metrics_schedule"

    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("deliveries.id", ondelete="CASCADE"), primary_key=True)
    next_fetch_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)  # None: done
    last_fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    fetches: Mapped[int] = mapped_column(default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    gone_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # deleted on the platform
    last_error: Mapped[str | None] = mapped_column(Text)


class PostMetric(Base):
    """One fetch of one delivery's public numbers. X fills likes, reposts (retweets), replies,
    quotes and impressions; Facebook likes (all reactions), reposts (shares) and comments."""

    __tablename__ = "post_metrics"
    __table_args__ = (Index("ix_post_metrics_delivery_fetched", "delivery_id", "fetched_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"))
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime())
    likes: Mapped[int] = mapped_column(default=0)
    reposts: Mapped[int] = mapped_column(default=0)
    replies: Mapped[int] = mapped_column(default=0)
    quotes: Mapped[int] = mapped_column(default=0)
    impressions: Mapped[int | None] = mapped_column()  # not every API gives it
    comments: Mapped[int] = mapped_column(default=0)


@dataclass
class MetricsRun:
    """What one collect_due_metrics call did."""

    claimed: int = 0
    fetched: int = 0
    gone: int = 0
    deferred: int = 0


@dataclass
class _Work:
    account_id: int
    platform: Platform
    credentials_sealed: str
    handle: str
    external_id: str
    items: list[tuple[int, str, datetime]] = field(default_factory=list)  # id, post id, published


# -- enrolling and claiming ----------------------------------------------------------------------

def enrol_published(db: Database, now: datetime | None = None, limit: int = 1000) -> int:
    """Give each recently published delivery without one a schedule row (any worker may run
    this at the same time: a row that already exists is left alone)."""
    now = now or utcnow()
    with db.session() as session:
        rows = session.execute(
            select(Delivery.id, Delivery.published_at)
            .outerjoin(MetricsSchedule, MetricsSchedule.delivery_id == Delivery.id)
            .join(Post, Post.id == Delivery.post_id)
            .where(Delivery.state == DeliveryState.PUBLISHED, Delivery.external_id.is_not(None),
                   Delivery.published_at >= now - TRACKED_FOR,
                   MetricsSchedule.delivery_id.is_(None),
                   # A Page's reply is a comment: Graph has no shares or post fields for it.
                   or_(Post.reply_to_platform.is_(None),
                       Post.reply_to_platform != Platform.FACEBOOK.value))
            .order_by(Delivery.id).limit(limit)).all()
        if not rows:
            return 0
        dialect = sqlite if db.is_sqlite else postgresql
        session.execute(
            dialect.insert(MetricsSchedule)
            .values([{"delivery_id": delivery_id, "next_fetch_at": next_fetch_at(published),
                      "fetches": 0} for delivery_id, published in rows])
            .on_conflict_do_nothing(index_elements=["delivery_id"]))
    return len(rows)


def _callable_deliveries(now: datetime) -> Select[tuple[int]]:
    """Deliveries whose account may be asked now: connected, credentials not refused, and (on
    Facebook, where reads and posts share one budget) not paused by a rate limit."""
    return (select(Delivery.id).join(Account, Account.id == Delivery.account_id)
            .where(Account.active.is_(True),
                   Account.credentials_status != CredentialStatus.BROKEN,
                   or_(Account.platform != Platform.FACEBOOK,
                       Account.rate_limited_until.is_(None),
                       Account.rate_limited_until <= now)))


# A schedule row's claim: who fetches it, and until when (on PostgreSQL, on the server's clock).
LEASE = Lease(holder=MetricsSchedule.claimed_by, until=MetricsSchedule.claimed_until)


def claim_due_metrics(db: Database, worker_id: str, *, limit: int = 200,
                      lease_seconds: int = 300, now: datetime | None = None) -> list[int]:
    """Claim up to `limit` deliveries whose numbers are due, for `lease_seconds`."""
    now = now or utcnow()
    with db.session() as session:
        return claim(session, MetricsSchedule.delivery_id,
                     where=[MetricsSchedule.next_fetch_at <= now],
                     pick_only=[MetricsSchedule.delivery_id.in_(_callable_deliveries(now))],
                     order_by=[MetricsSchedule.next_fetch_at, MetricsSchedule.delivery_id],
                     limit=limit, now=now, lease=LEASE, worker=worker_id,
                     seconds=lease_seconds)


def _work(db: Database, delivery_ids: list[int]) -> list[_Work]:
    by_account: dict[int, _Work] = {}
    with db.session() as session:
        rows = session.execute(
            select(Delivery.id, Delivery.external_id, Delivery.published_at, Account.id,
                   Account.platform, Account.credentials_sealed, Account.handle,
                   Account.external_id)
            .join(Account, Account.id == Delivery.account_id)
            .where(Delivery.id.in_(delivery_ids)).order_by(Delivery.id))
        for (delivery_id, post_id, published_at, account_id, platform, sealed, handle,
             account_external_id) in rows:
            work = by_account.setdefault(account_id, _Work(account_id, platform, sealed, handle,
                                                           account_external_id))
            work.items.append((delivery_id, str(post_id), published_at))
    return list(by_account.values())


# -- collecting ------------------------------------------------------------------------------------

def collect_due_metrics(db: Database, box: CredentialBox, platforms: Platforms,
                        limit: int = 200, now: datetime | None = None, *,
                        worker_id: str | None = None, lease_seconds: int = 300) -> MetricsRun:
    """Enrol newly published deliveries, claim what is due, fetch it per account, record it."""
    now = now or utcnow()
    worker_id = worker_id or f"metrics:{uuid.uuid4().hex[:12]}"
    enrol_published(db, now)
    claimed = claim_due_metrics(db, worker_id, limit=limit, lease_seconds=lease_seconds,
                                now=now)
    run = MetricsRun(claimed=len(claimed))
    for work in _work(db, claimed) if claimed else []:
        _collect_account(db, box, platforms, work, worker_id, now, run)
    return run


def _collect_account(db: Database, box: CredentialBox, platforms: Platforms, work: _Work,
                     worker_id: str, now: datetime, run: MetricsRun) -> None:
    ids = [delivery_id for delivery_id, _, _ in work.items]
    try:
        credentials = box.open(work.credentials_sealed)
        credentials.setdefault("username", work.handle)
        credentials.setdefault("user_id", work.external_id)
        found = platforms.adapter(work.platform).fetch_metrics(
            credentials, [post_id for _, post_id, _ in work.items])
    except PlatformError as exc:
        run.deferred += len(ids)
        _defer(db, work.account_id, ids, worker_id, exc, now)
        return
    except Exception as exc:  # a bug must not leave the rows claimed until the lease ends
        log.exception("metrics for account %s: unexpected error", work.account_id)
        run.deferred += len(ids)
        _release(db, ids, worker_id, now + RETRY_AFTER, f"internal error: {type(exc).__name__}")
        return
    with db.session() as session:
        for delivery_id, post_id, published_at in work.items:
            metrics = found.get(post_id)
            if metrics is None:
                run.deferred += 1
                _release_in(session, [delivery_id], worker_id, now + RETRY_AFTER,
                            "the platform said nothing about this post")
            elif metrics.is_gone:
                run.gone += _record_gone(session, delivery_id, worker_id, now)
            else:
                run.fetched += _record(session, delivery_id, published_at, metrics, worker_id,
                                       now)


def _mine(delivery_id: int, worker_id: str) -> ColumnElement[bool]:
    return and_(MetricsSchedule.delivery_id == delivery_id,
                MetricsSchedule.claimed_by == worker_id)


def _record(session: Session, delivery_id: int, published_at: datetime, metrics: Metrics,
            worker_id: str, now: datetime) -> int:
    moved = session.execute(
        update(MetricsSchedule).where(_mine(delivery_id, worker_id))
        .values(last_fetched_at=now, fetches=MetricsSchedule.fetches + 1,
                next_fetch_at=next_fetch_at(published_at, now), claimed_by=None,
                claimed_until=None, last_error=None)
        .execution_options(synchronize_session=False))
    if moved.rowcount != 1:  # the lease ran out and another worker took the row
        return 0
    session.add(PostMetric(delivery_id=delivery_id, fetched_at=now, likes=metrics.likes,
                           reposts=metrics.reposts, replies=metrics.replies,
                           quotes=metrics.quotes, impressions=metrics.impressions,
                           comments=metrics.comments))
    return 1


def _record_gone(session: Session, delivery_id: int, worker_id: str, now: datetime) -> int:
    moved = session.execute(
        update(MetricsSchedule).where(_mine(delivery_id, worker_id))
        .values(next_fetch_at=None, gone_at=now, claimed_by=None, claimed_until=None,
                last_error="deleted on the platform")
        .execution_options(synchronize_session=False))
    if moved.rowcount == 1:
        log.info("delivery %s: the post is gone from the platform; metrics stop", delivery_id)
    return moved.rowcount


def _defer(db: Database, account_id: int, ids: list[int], worker_id: str, exc: PlatformError,
           now: datetime) -> None:
    if exc.kind is ErrorKind.RATE_LIMITED:
        until = max(exc.retry_at or now + RATE_PAUSE, now + timedelta(minutes=1))
        _release(db, ids, worker_id, until, exc.message)
        with db.session() as session:  # nothing of this account's is asked for before the reset
            session.execute(
                update(MetricsSchedule)
                .where(MetricsSchedule.delivery_id.in_(
                    select(Delivery.id).where(Delivery.account_id == account_id)),
                    MetricsSchedule.next_fetch_at < until, LEASE.free(not db.is_sqlite, now))
                .values(next_fetch_at=until)
                .execution_options(synchronize_session=False))
        return
    if exc.kind is ErrorKind.AUTH:
        _release(db, ids, worker_id, now + AUTH_PAUSE, exc.message)
        with db.session() as session:  # ask the token check to look at it on its next round
            session.execute(update(Account).where(Account.id == account_id)
                            .values(credentials_checked_at=None))
        return
    _release(db, ids, worker_id, now + RETRY_AFTER, exc.message)


def _release(db: Database, ids: list[int], worker_id: str, at: datetime, error: str) -> None:
    with db.session() as session:
        _release_in(session, ids, worker_id, at, error)


def _release_in(session: Session, ids: list[int], worker_id: str, at: datetime,
                error: str) -> None:
    session.execute(
        update(MetricsSchedule)
        .where(MetricsSchedule.delivery_id.in_(ids), MetricsSchedule.claimed_by == worker_id)
        .values(next_fetch_at=at, claimed_by=None, claimed_until=None, last_error=error)
        .execution_options(synchronize_session=False))


# -- reading ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class MetricsSummary:
    """What the delivery page shows: the latest numbers and where the fetching stands."""

    latest: PostMetric | None
    fetches: int
    next_fetch_at: datetime | None
    gone_at: datetime | None


def metrics_summary(session: Session, delivery_id: int) -> MetricsSummary | None:
    """None when the delivery's numbers were never scheduled (not published, or long ago)."""
    schedule = session.get(MetricsSchedule, delivery_id)
    latest = session.scalars(
        select(PostMetric).where(PostMetric.delivery_id == delivery_id)
        .order_by(PostMetric.fetched_at.desc(), PostMetric.id.desc()).limit(1)).first()
    if schedule is None and latest is None:
        return None
    return MetricsSummary(latest=latest, fetches=schedule.fetches if schedule else 0,
                          next_fetch_at=schedule.next_fetch_at if schedule else None,
                          gone_at=schedule.gone_at if schedule else None)


def metrics_series(session: Session, delivery_id: int) -> list[PostMetric]:
    """Every fetch of a delivery's numbers, oldest first (for reports)."""
    return list(session.scalars(
        select(PostMetric).where(PostMetric.delivery_id == delivery_id)
        .order_by(PostMetric.fetched_at, PostMetric.id)))

"""Polling sources: claimed in the database like deliveries, fetched outside any transaction.

- `claim_due_sources` takes due sources in one statement through `core.claims.claim` (the
  claim every queue in Megafon uses). A claim is a lease, judged on the database server's
  clock on PostgreSQL: a worker that dies leaves a claim that runs out and is taken again.
  Paused and manual sources are never claimed.
- `poll_source` fetches and parses with no transaction open, then records in one transaction,
  guarded by the worker's claim: the source's new state, the items handed to `ingest`, and one
  `SourcePoll` row of history. Items and validators (ETag, cursor) are stored together or not at
  all, so a failed store is fetched again next time.
- Success resets failures and polls again after the source's interval. A failure makes the
  source `failing` with its error and since when, and backs off exponentially — capped at a day,
  never parked. A poll that throws anything else fails that source only.
- `PollRunner` is what the scheduler ticks: each tick claims as many due sources as it has free
  threads, hands them to its own pool and returns at once. A slow source holds one thread until
  its time limit, never the tick: the other sources are claimed and polled on time meanwhile.
- `run_polls` polls until nothing is due (tests, benchmarks): it also claims more while polls
  run, not only when one finishes.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Update, case, delete, func, select, update
from sqlalchemy.orm import Session

from core.backoff import Backoff
from core.claims import Lease, claim
from core.clock import utcnow
from core.db import Database
from core.i18n import N_
from monitor.fetch import FetchError
from monitor.items import Item
from monitor.matcher import Matcher, MatcherCache
from monitor.mentions import ingest_and_alert
from monitor.models import Person, Source, SourcePoll, SourceState, Watchlist
from monitor.sources import POLLED_KINDS, PollContext, PollResult, poller_for

log = logging.getLogger(__name__)

Ingest = Callable[[Session, Source, list[Item]], list[int]]

MAX_BACKOFF = timedelta(days=1)
MIN_RETRY = timedelta(minutes=1)
LEASE_SECONDS = 300  # longer than any poll: a page source's articles take at most ~40 s
# Some servers answer 304 forever although the feed changed: once a day (at an hour that
# depends on the source, so not all at once) a source is fetched without its validators.
REVALIDATE_EVERY = 86400


@dataclass(frozen=True)
class PollOutcome:
    source_id: int
    outcome: str  # ok | not_modified | error | lost (another worker holds the claim now)
    items_seen: int = 0
    items_new: int = 0
    error: str | None = None


# A source's claim: who polls it, and until when (on PostgreSQL, on the server's clock).
LEASE = Lease(holder=Source.claimed_by, until=Source.lease_expires_at)


def claim_due_sources(db: Database, worker_id: str, limit: int = 20,
                      lease_seconds: int = LEASE_SECONDS,
                      now: datetime | None = None) -> list[int]:
    """Claim up to `limit` due sources, longest overdue first; returns their ids."""
    now = now or utcnow()
    with db.session() as session:
        return claim(session, Source.id,
                     where=[Source.state.in_((SourceState.OK, SourceState.FAILING)),
                            Source.kind.in_(POLLED_KINDS), Source.next_poll_at <= now],
                     order_by=[Source.next_poll_at, Source.id], limit=limit, now=now,
                     lease=LEASE, worker=worker_id, seconds=lease_seconds)


def backoff(interval_seconds: int, failures: int) -> timedelta:
    """How long a source that failed `failures` times in a row waits: its interval (at least a
    minute), doubled for each further failure, at most a day (`core.backoff`, without chance: a
    source's polls are already spread by its own interval)."""
    base = max(timedelta(seconds=interval_seconds), MIN_RETRY)
    return Backoff(base=base, cap=MAX_BACKOFF).delay(failures)


def _revalidate_now(source: Source, now: datetime) -> bool:
    """True once a day per source: leave the validators out to catch a server's stale 304s."""
    if not (source.etag or source.last_modified) or source.last_polled_at is None:
        return False
    offset = (source.id * 7919) % REVALIDATE_EVERY

    def day(moment: datetime) -> int:
        return int((moment.timestamp() - offset) // REVALIDATE_EVERY)

    return day(now) != day(source.last_polled_at)


def _snapshot(db: Database, source_id: int) -> Source | None:
    with db.session() as session:
        source = session.get(Source, source_id)
        if source is not None:
            session.expunge(source)
    return source


def poll_source(db: Database, source_id: int, ctx: PollContext, ingest: Ingest, *,
                worker_id: str | None = None) -> PollOutcome:
    """Poll one source and record the outcome. With `worker_id`, only while that worker holds
    the source's claim (without: an unconditional poll, e.g. "poll now" or a test)."""
    source = _snapshot(db, source_id)
    if source is None or (worker_id is not None and source.claimed_by != worker_id):
        return PollOutcome(source_id, "lost")
    if _revalidate_now(source, utcnow()):
        source.etag = source.last_modified = None  # on the detached copy only
    started = time.monotonic()
    try:
        result = poller_for(source.kind)(source, ctx)
    except FetchError as exc:
        return _record_failure(db, source, exc, worker_id, _ms_since(started))
    except Exception as exc:  # a bug or a library's surprise fails this source, not the run
        log.exception("polling source %s (%s) failed", source.id, source.name)
        error = FetchError("unexpected", N_("Unexpected error: %(error)s"),
                           error=f"{type(exc).__name__}: {exc}"[:300])
        return _record_failure(db, source, error, worker_id, _ms_since(started))
    try:
        return _record_success(db, source, result, ingest, worker_id, _ms_since(started))
    except Exception as exc:
        log.exception("storing the items of source %s (%s) failed", source.id, source.name)
        error = FetchError("store", N_("The items could not be stored: %(error)s"),
                           error=f"{type(exc).__name__}: {exc}"[:300])
        return _record_failure(db, source, error, worker_id, _ms_since(started))


_sqlite_writers: weakref.WeakKeyDictionary[Database, threading.Lock] = \
    weakref.WeakKeyDictionary()
_sqlite_writers_lock = threading.Lock()


def _one_writer(db: Database) -> AbstractContextManager[object]:
    """SQLite has one writer at a time; its busy handler polls and lets a thread starve while
    others hold the lock for their ingest. This process's pollers queue here instead (other
    processes still meet the busy timeout). PostgreSQL writes in parallel."""
    if not db.is_sqlite:
        return nullcontext()
    with _sqlite_writers_lock:
        return _sqlite_writers.setdefault(db, threading.Lock())


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _guarded(source: Source, worker_id: str | None) -> Update:
    query = update(Source).where(Source.id == source.id)
    if worker_id is not None:
        query = query.where(Source.claimed_by == worker_id)
    return query.execution_options(synchronize_session=False)


def _keep_paused(new: SourceState) -> Any:
    """A source paused while it was being polled stays paused."""
    return case((Source.state == SourceState.PAUSED, SourceState.PAUSED), else_=new)


def _record_success(db: Database, source: Source, result: PollResult, ingest: Ingest,
                    worker_id: str | None, duration_ms: int) -> PollOutcome:
    with _one_writer(db), db.session() as session:
        now = utcnow()
        updated = session.execute(_guarded(source, worker_id).values(
            state=_keep_paused(SourceState.OK), last_error=None, last_error_message=None,
            failing_since=None,
            consecutive_failures=0, failure_alerted_at=None, last_polled_at=now,
            last_success_at=now, next_poll_at=now + timedelta(seconds=source.interval_seconds),
            claimed_by=None, lease_expires_at=None, etag=_clip(result.etag, 500),
            last_modified=_clip(result.last_modified, 200), cursor=_clip(result.cursor, 200)))
        if updated.rowcount != 1:
            return PollOutcome(source.id, "lost")
        new_ids: list[int] = []
        if result.items:
            attached = session.get(Source, source.id)
            assert attached is not None
            new_ids = ingest(session, attached, result.items)
        outcome = "not_modified" if result.not_modified else "ok"
        session.add(SourcePoll(source_id=source.id, at=now, outcome=outcome,
                               detail=_detail(source, result),
                               detail_message=_detail_message(source, result),
                               items_seen=len(result.items),
                               items_new=len(new_ids), duration_ms=duration_ms))
    return PollOutcome(source.id, outcome, len(result.items), len(new_ids))


def _detail_message(source: Source, result: PollResult) -> dict[str, Any] | None:
    if result.final_url and source.url and result.final_url != source.url:
        return {"msgid": N_("Redirected to %(url)s."), "params": {"url": result.final_url}}
    return None


def _detail(source: Source, result: PollResult) -> str | None:
    if result.final_url and source.url and result.final_url != source.url:
        return f"redirected to {result.final_url}"
    return None


def _clip(value: str | None, length: int) -> str | None:
    """A validator too long for its column is dropped rather than cut (a cut one never
    matches, a missing one costs one full fetch)."""
    return value if value is None or len(value) <= length else None


def _record_failure(db: Database, source: Source, error: FetchError, worker_id: str | None,
                    duration_ms: int) -> PollOutcome:
    now = utcnow()
    failures = source.consecutive_failures + 1
    wait_for = backoff(source.interval_seconds, failures)
    if error.retry_after:
        wait_for = min(max(wait_for, timedelta(seconds=error.retry_after)), MAX_BACKOFF)
    with _one_writer(db), db.session() as session:
        updated = session.execute(_guarded(source, worker_id).values(
            state=_keep_paused(SourceState.FAILING), last_error=error.message,
            last_error_message=error.as_message(),
            failing_since=func.coalesce(Source.failing_since, now),
            consecutive_failures=Source.consecutive_failures + 1, last_polled_at=now,
            next_poll_at=now + wait_for, claimed_by=None, lease_expires_at=None))
        if updated.rowcount != 1:
            return PollOutcome(source.id, "lost", error=error.message)
        session.add(SourcePoll(source_id=source.id, at=now, outcome="error",
                               detail=f"[{error.kind}] {error.message}",
                               detail_message=error.as_message(),
                               duration_ms=duration_ms))
    return PollOutcome(source.id, "error", error=error.message)


class PollRunner:
    """Polls on a pool of its own, fed a tick at a time (see the module doc).

    `after(outcome)` runs on the poll's thread once its outcome is recorded (e.g. to send the
    alerts its new mentions queued). A source is never in the pool twice: its claim is held
    until the poll is recorded, and a tick only claims what is due and unclaimed."""

    def __init__(self, db: Database, ctx: PollContext, ingest: Ingest, worker_id: str,
                 concurrency: int = 8, *, lease_seconds: int = LEASE_SECONDS,
                 after: Callable[[PollOutcome], None] | None = None) -> None:
        self.db, self.ctx, self.ingest, self.worker_id = db, ctx, ingest, worker_id
        self.concurrency, self.lease_seconds, self.after = concurrency, lease_seconds, after
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="poll")
        self._busy: set[int] = set()
        self._lock = threading.Lock()

    @property
    def busy(self) -> int:
        with self._lock:
            return len(self._busy)

    def tick(self) -> list[int]:
        """Claim due sources for the free threads and start polling them; returns their ids."""
        free = self.concurrency - self.busy
        if free <= 0:
            return []
        claimed = claim_due_sources(self.db, self.worker_id, limit=free,
                                    lease_seconds=self.lease_seconds)
        for source_id in claimed:
            with self._lock:
                self._busy.add(source_id)
            self._pool.submit(self._poll, source_id)
        return claimed

    def _poll(self, source_id: int) -> None:
        try:
            outcome = poll_source(self.db, source_id, self.ctx, self.ingest,
                                  worker_id=self.worker_id)
        except Exception:  # e.g. the database went away while recording: the claim runs out
            log.exception("recording the poll of source %s failed", source_id)
            return
        finally:
            with self._lock:
                self._busy.discard(source_id)
        if self.after is not None:
            try:
                self.after(outcome)
            except Exception:
                log.exception("after polling source %s", source_id)

    def close(self, wait: bool = True) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=True)


def run_polls(db: Database, ctx: PollContext, ingest: Ingest, worker_id: str,
              concurrency: int = 8, *, lease_seconds: int = LEASE_SECONDS,
              budget_seconds: float | None = None) -> list[PollOutcome]:
    """Poll every due source, `concurrency` at a time, until none is due (or the budget is
    spent). Claims are taken a few at a time as polls finish, so other workers share the work."""
    started = time.monotonic()
    outcomes: list[PollOutcome] = []
    running: dict[Future[PollOutcome], int] = {}
    more = True
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="poll") as pool:
        while True:
            over = budget_seconds is not None and time.monotonic() - started > budget_seconds
            if more and not over and len(running) < concurrency:
                claimed = claim_due_sources(db, worker_id, limit=2 * concurrency - len(running),
                                            lease_seconds=lease_seconds)
                more = bool(claimed)
                for source_id in claimed:
                    future = pool.submit(poll_source, db, source_id, ctx, ingest,
                                         worker_id=worker_id)
                    running[future] = source_id
            if not running:
                break
            # Not only when a poll finishes: a slow one must not keep sources that come due
            # meanwhile from being claimed.
            done, _ = wait(running, timeout=1.0, return_when=FIRST_COMPLETED)
            if not done:
                more = True
            for future in done:
                source_id = running.pop(future)
                try:
                    outcomes.append(future.result())
                except Exception:  # e.g. the database went away while recording: the claim
                    # runs out and the source is polled again; the other polls go on
                    log.exception("recording the poll of source %s failed", source_id)
    return outcomes


def prune_history(db: Database, keep: timedelta = timedelta(days=30),
                  now: datetime | None = None) -> int:
    """Forget poll history older than `keep`; returns how many rows went."""
    cutoff = (now or utcnow()) - keep
    with db.session() as session:
        result = session.execute(delete(SourcePoll).where(SourcePoll.at < cutoff)
                                 .execution_options(synchronize_session=False))
        return int(result.rowcount or 0)


def matcher_version(session: Session) -> tuple[Any, ...]:
    """A cheap fingerprint of what the matcher is built from: it changes when a watchlist or a
    person is added, removed or edited."""
    watchlists = session.execute(select(func.count(Watchlist.id),
                                        func.max(Watchlist.updated_at))).one()
    people = session.execute(select(
        func.count(Person.id), func.max(Person.id),
        func.sum(func.length(Person.name) + func.length(Person.aliases)))).one()
    return (*watchlists, *people)


def current_matcher(session: Session) -> Matcher:
    """The matcher of every active watchlist and every person, as they are now."""
    return Matcher.from_models(session.scalars(select(Watchlist).order_by(Watchlist.id)),
                               session.scalars(select(Person).order_by(Person.id)))


class LiveIngest:
    """The ingest a poller is given: `monitor.mentions.ingest_and_alert` (stories stored and the
    immediate alerts sent in the poll's transaction) with the current matcher, rebuilt only
    when the watchlists or people changed."""

    def __init__(self, refresh: timedelta | None = None) -> None:
        """`refresh`: also rebuild at least this often (timedelta(0): for every batch)."""
        self.matchers = MatcherCache()
        self.refresh = refresh
        self._built_at = time.monotonic()

    def __call__(self, session: Session, source: Source, items: list[Item]) -> list[int]:
        if self.refresh is not None and \
                time.monotonic() - self._built_at >= self.refresh.total_seconds():
            self.matchers.clear()
            self._built_at = time.monotonic()
        matcher = self.matchers.get(matcher_version(session), lambda: current_matcher(session))
        return ingest_and_alert(session, source, items, matcher)

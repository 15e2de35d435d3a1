"""Publishing what is due: claim in the database, call the platform outside any transaction,
record the outcome with a guarded transition. Recovery and reconciliation run first on each tick.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import bindparam, exists, select, update
from sqlalchemy.orm import Session, selectinload

from core.clock import utcnow
from core.crypto import CredentialBox
from core.db import Database
from publisher.adapters.base import Content, ErrorKind, PlatformError, Published
from publisher.deliveries import (
    claim_due_in,
    claim_uncertain,
    hold_account,
    next_due,
    recover_expired,
    transition,
    transition_many,
)
from publisher.history_notes import (
    CANNOT_CHECK,
    DUPLICATE,
    DUPLICATE_REFUSED,
    FOUND,
    INTERNAL_ERROR,
    NOT_FOUND_REQUEUED,
    NOT_FOUND_TOO_LATE,
    OUTCOME_UNKNOWN,
    PUBLISHED,
    SEPARATOR,
    TOO_LATE,
    WILL_RETRY,
    note,
)
from publisher.media import media_refs
from publisher.models import (
    Account,
    Delivery,
    DeliveryState,
    Platform,
    Post,
    PostMedia,
    PostPart,
    variant_text,
)
from publisher.notify import notify_delivery_problem, notify_delivery_settled
from publisher.platforms import Platforms
from publisher.retry import Next, RetryPolicy, decide

log = logging.getLogger(__name__)
S = DeliveryState
# Our clock and the platform's may differ a little; a post stamped this much before our first
# attempt may still be ours.
CLOCK_SKEW = timedelta(seconds=30)
# Successes are recorded together, a few at a time, and none waits longer than this: its post is
# out already (published_at is when the platform answered), only the `sending` badge lingers.
RECORD_WITHIN_SECONDS = 0.25


# What _jobs reads for a batch of claims; built once (statement construction is costly).
JOBS_QUERY = (
    select(Delivery.id, Delivery.state, Delivery.due_at, Delivery.attempts,
           Delivery.first_attempt_at, Account.id.label("account_id"), Account.platform,
           Account.credentials_sealed, Account.handle, Account.external_id,
           Post.id.label("post_id"), Post.text, Post.text_x, Post.text_facebook,
           Post.link, Post.first_comment,
           Post.reply_to_external_id,
           exists().where(PostMedia.post_id == Post.id).label("has_media"),
           exists().where(PostPart.post_id == Post.id).label("has_parts"))
    .join(Account, Account.id == Delivery.account_id)
    .join(Post, Post.id == Delivery.post_id)
    .where(Delivery.id.in_(bindparam("ids", expanding=True)),
           Delivery.claimed_by == bindparam("worker"))
    .order_by(Delivery.next_attempt_at, Delivery.id)
)


@dataclass(frozen=True)
class Job:
    """What a worker needs to call the platform, read in one short transaction."""

    delivery_id: int
    account_id: int
    platform: Platform
    credentials: dict[str, str]
    content: Content
    due_at: datetime
    attempts: int
    since: datetime  # the earliest moment our post could exist on the platform
    state: DeliveryState


NOTHING = object()  # no call finished in the time given


def _next(done: queue.SimpleQueue[Sent | None], timeout: float | None) -> object:
    try:
        return done.get(timeout=timeout)
    except queue.Empty:
        return NOTHING


class Unrecorded:
    """Successes waiting to be recorded: one transaction for several instead of one each."""

    def __init__(self, batch: int, within_seconds: float) -> None:
        self.batch, self.within = batch, within_seconds
        self._items: list[Sent] = []
        self._since = 0.0

    def add(self, sent: Iterable[Sent]) -> None:
        if not self._items:
            self._since = time.monotonic()
        self._items.extend(sent)

    def due(self, idle: bool) -> bool:
        """Record now: enough have gathered, the oldest has waited long enough, or nothing
        else is running (so nothing more would join them soon)."""
        return bool(self._items) and (idle or len(self._items) >= self.batch
                                      or time.monotonic() - self._since >= self.within)

    def wait_at_most(self) -> float | None:
        """How long the dispatcher may wait for calls before these must be recorded."""
        if not self._items:
            return None
        return max(0.0, self.within - (time.monotonic() - self._since))

    def take(self) -> list[Sent]:
        items, self._items = self._items, []
        return items


@dataclass(frozen=True)
class Sent:
    """A delivery the platform accepted, waiting to be recorded (in a batch with others)."""

    job: Job
    published: Published
    at: datetime


class Dispatcher:
    def __init__(self, db: Database, platforms: Platforms, box: CredentialBox, worker_id: str,
                 *, batch_size: int = 20, lease_seconds: int = 120, concurrency: int = 8,
                 policy: RetryPolicy | None = None, tick_budget_seconds: float = 50.0,
                 clock: Callable[[], datetime] = utcnow, media_root: Path | None = None) -> None:
        self.db = db
        self.platforms = platforms
        self.box = box
        self.worker_id = worker_id
        self.batch_size = batch_size
        self.lease_seconds = lease_seconds
        self.concurrency = max(1, concurrency)
        self.record_batch = max(1, self.concurrency // 2)
        self.policy = policy or RetryPolicy()
        self.tick_budget = tick_budget_seconds
        self.clock = clock
        self.media_root = media_root  # the instance folder: stored images are relative to it
        self._running = threading.Lock()

    # -- the tick -------------------------------------------------------------------------

    def run_once(self) -> int:
        """Recover, reconcile, then publish everything due, until none is left or the tick's
        time budget is spent. Returns how many deliveries it handled."""
        started = time.monotonic()
        recover_expired(self.db, now=self.clock())
        handled = 0
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="dispatch") as pool:
            uncertain = claim_uncertain(self.db, self.worker_id, limit=self.batch_size,
                                        lease_seconds=self.lease_seconds, now=self.clock())
            handled += len(list(pool.map(self.reconcile, uncertain)))
            handled += self._publish_due(pool, started)
        return handled

    def _publish_due(self, pool: ThreadPoolExecutor, started: float) -> int:
        """A pipeline, not batches. The publishing threads take claimed jobs from a queue, so a
        thread whose call finished starts the next at once, while this thread claims ahead
        (a few at a time, one transaction each that also reads the jobs) and records what went
        out. A slow call never holds up the others."""
        todo: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        done: queue.SimpleQueue[Sent | None] = queue.SimpleQueue()
        for _ in range(self.concurrency):
            pool.submit(self._publish_from, todo, done)
        handled = in_flight = 0
        window = 2 * self.concurrency  # claimed ahead: at most about one call's wait
        unrecorded = Unrecorded(self.record_batch, RECORD_WITHIN_SECONDS)
        try:
            while True:
                room = window - in_flight
                in_budget = time.monotonic() - started < self.tick_budget
                if in_budget and room >= max(1, self.concurrency // 2):
                    for job in self._claim_jobs(room):
                        todo.put(job)
                        in_flight += 1
                        handled += 1
                if not in_flight:
                    break
                finished = [_next(done, unrecorded.wait_at_most())]
                while not done.empty():
                    finished.append(done.get())
                in_flight -= sum(1 for item in finished if item is not NOTHING)
                unrecorded.add(sent for sent in finished if isinstance(sent, Sent))
                if unrecorded.due(idle=not in_flight):
                    self._record_published(unrecorded.take(), S.SENDING, PUBLISHED)
        finally:
            for _ in range(self.concurrency):
                todo.put(None)  # each publishing thread stops at one of these
            # Also when a claim failed: what went out is recorded now, not reconciled later.
            self._record_published(unrecorded.take(), S.SENDING, PUBLISHED)
        return handled

    def _publish_from(self, todo: queue.SimpleQueue[Job | None],
                      done: queue.SimpleQueue[Sent | None]) -> None:
        """A publishing thread: jobs until the stop mark; one result (or None) for each."""
        while (job := todo.get()) is not None:
            result = None
            try:
                result = self._publish(job)
            except Exception:  # the delivery's lease runs out and recovery takes it from there
                log.exception("delivery %s: publishing failed unexpectedly", job.delivery_id)
            finally:
                done.put(result)  # whatever happened: the dispatcher counts on one per job

    def run_exclusively(self) -> bool:
        """run_once unless this process is already in one (the wake-up and the regular tick
        may meet); False when skipped."""
        if not self._running.acquire(blocking=False):
            return False
        try:
            self.run_once()
        finally:
            self._running.release()
        return True

    def next_due_at(self) -> datetime | None:
        """The soonest moment a claim would find work (the scheduler wakes up then)."""
        return next_due(self.db, now=self.clock())

    # -- one delivery ------------------------------------------------------------------------

    def _job(self, delivery_id: int) -> Job | None:
        jobs = self._jobs([delivery_id])
        return jobs[0] if jobs else None

    def _jobs(self, delivery_ids: list[int]) -> list[Job]:
        with self.db.session() as session:
            return self._jobs_in(session, delivery_ids)

    def _claim_jobs(self, limit: int) -> list[Job]:
        """Claim what is due and read what the calls need, in one transaction; it commits
        (durably) before any of them is sent."""
        with self.db.session() as session:
            ids = claim_due_in(session, self.worker_id, limit=limit,
                               lease_seconds=self.lease_seconds, now=self.clock())
            return self._jobs_in(session, ids)

    def _jobs_in(self, session: Session, delivery_ids: list[int]) -> list[Job]:
        """What the platform calls need, for a batch of this worker's claims, in one query
        (images and thread parts, rare, in one more)."""
        if not delivery_ids:
            return []
        rows = session.execute(JOBS_QUERY, {"ids": delivery_ids, "worker": self.worker_id}
                               ).all()
        rich = {row.post_id for row in rows if row.has_media or row.has_parts}
        posts = {post.id: post for post in session.scalars(
            select(Post).where(Post.id.in_(rich))
            .options(selectinload(Post.media), selectinload(Post.parts)))} if rich else {}
        now = self.clock()
        jobs = []
        for row in rows:
            credentials = self.box.open(row.credentials_sealed)
            credentials.setdefault("username", row.handle)
            credentials.setdefault("user_id", row.external_id)
            post = posts.get(row.post_id)
            jobs.append(Job(
                delivery_id=row.id, account_id=row.account_id, platform=row.platform,
                credentials=credentials,
                content=Content(
                    text=variant_text(row.platform, row.text, row.text_x, row.text_facebook),
                    link=row.link, first_comment=row.first_comment,
                    reply_to=row.reply_to_external_id,
                    media=media_refs(post, self.media_root) if post else (),
                    thread=tuple(part.text for part in post.parts) if post else ()),
                due_at=row.due_at, attempts=row.attempts,
                since=(row.first_attempt_at or now) - CLOCK_SKEW, state=row.state))
        return jobs

    def _publish(self, job: Job) -> Sent | None:
        """Call the platform. Errors are recorded here; a success is returned for recording
        (by the caller, with others that finished at the same time)."""
        now = self.clock()
        if self.policy.too_late(job.due_at, now):
            self._fail(job, S.SENDING, "too_late",
                       note(TOO_LATE, minutes=int((now - job.due_at).total_seconds() // 60)))
            return None
        adapter = self.platforms.adapter(job.platform)
        try:
            published = adapter.publish(job.credentials, job.content)
        except PlatformError as exc:
            self._after_error(job, S.SENDING, exc)
        except Exception as exc:  # a bug must not leave the delivery silently stuck
            log.exception("delivery %s: unexpected error while publishing", job.delivery_id)
            self._after_error(job, S.SENDING, PlatformError(
                ErrorKind.UNKNOWN, note(INTERNAL_ERROR, error=type(exc).__name__),
                outcome_unknown=True))
        else:
            return Sent(job, published, self.clock())
        return None

    def reconcile(self, delivery_id: int) -> None:
        """Look on the platform before resending anything whose outcome was lost."""
        job = self._job(delivery_id)
        if job is None:
            return
        adapter = self.platforms.adapter(job.platform)
        try:
            found = adapter.find_published(job.credentials, job.content, job.since,
                                           self._known_ids(job.account_id))
        except PlatformError as exc:
            if exc.kind is ErrorKind.AUTH:
                self._hold(job, S.UNCERTAIN, exc)
                return
            self._still_uncertain(job, exc.message)
            return
        except Exception as exc:
            log.exception("delivery %s: unexpected error while reconciling", delivery_id)
            self._still_uncertain(job, note(INTERNAL_ERROR, error=type(exc).__name__))
            return
        if found is not None:
            self._record_published([Sent(job, found, self.clock())], S.UNCERTAIN, FOUND)
            return
        with self.db.session() as session:
            kind, said = session.execute(select(Delivery.error_kind, Delivery.error_message)
                                         .where(Delivery.id == delivery_id)).one()
        if kind == ErrorKind.DUPLICATE.value:
            # Not ours: the same text was published before this delivery ever ran. The
            # platform's own words stay the error; Megafon's explanation comes from user_messages.
            self._fail(job, S.UNCERTAIN, "duplicate",
                       note(DUPLICATE_REFUSED, reason=said) if said else DUPLICATE,
                       code="duplicate", error=said)
            return
        at = self.clock() + self.policy.backoff(job.attempts)
        if self.policy.too_late(job.due_at, at):
            self._fail(job, S.UNCERTAIN, "too_late", NOT_FOUND_TOO_LATE)
            return
        with self.db.session() as session:
            if transition(session, job.delivery_id, S.UNCERTAIN, S.RETRY_WAIT,
                          holder=self.worker_id, detail=NOT_FOUND_REQUEUED, next_attempt_at=at,
                          claimed_by=None, lease_expires_at=None):
                notify_delivery_settled(session, job.delivery_id)

    def _known_ids(self, account_id: int) -> frozenset[str]:
        """Posts already recorded for other deliveries: never claimed as this one's."""
        since = self.clock() - timedelta(days=2)
        with self.db.session() as session:
            return frozenset(session.scalars(select(Delivery.external_id).where(
                Delivery.account_id == account_id, Delivery.external_id.is_not(None),
                Delivery.published_at >= since)))

    # -- recording outcomes ------------------------------------------------------------------

    def _record_published(self, batch: list[Sent], expected: DeliveryState,
                           msgid: str) -> None:
        if not batch:
            return
        with self.db.session() as session:
            # Not waiting for the disk flush is safe by the recovery rule: a lost commit leaves
            # the delivery `sending` with its lease, and reconciliation finds the post.
            lost = transition_many(session, expected, S.PUBLISHED, [
                (sent.job.delivery_id,
                 SEPARATOR.join([note(msgid, id=sent.published.external_id),
                                 *sent.published.warnings]),
                 {"external_id": sent.published.external_id, "external_url": sent.published.url,
                  "published_at": sent.at, "error_kind": None, "error_code": None,
                  "error_message": None, "lease_expires_at": None})
                for sent in batch], holder=self.worker_id, durable=False)
            for sent in batch:
                if sent.published.rate_limited_until:
                    self._pause_account(session, sent.job.account_id,
                                        sent.published.rate_limited_until)
                if expected is S.UNCERTAIN and sent.job.delivery_id not in lost:
                    notify_delivery_settled(session, sent.job.delivery_id)
        for delivery_id in lost:
            log.warning("delivery %s published but its claim was lost", delivery_id)

    def _after_error(self, job: Job, expected: DeliveryState, exc: PlatformError) -> None:
        now = self.clock()
        decision = decide(self.policy, exc, attempts=job.attempts, due_at=job.due_at, now=now)
        errors = {"error_kind": decision.kind, "error_code": exc.code or exc.kind.value,
                  "error_message": exc.message}
        if decision.next is Next.HOLD:
            self._hold(job, expected, exc)
        elif decision.next is Next.FAIL:
            self._fail(job, expected, decision.kind or exc.kind.value, exc.message,
                       code=exc.code)
        elif decision.next is Next.RECONCILE:
            with self.db.session() as session:
                transition(session, job.delivery_id, expected, S.UNCERTAIN,
                           holder=self.worker_id, detail=note(OUTCOME_UNKNOWN, reason=exc.message),
                           next_attempt_at=decision.at, claimed_by=None, lease_expires_at=None,
                           **errors)
                # Nobody is told yet: reconciliation usually settles it within seconds.
        else:
            with self.db.session() as session:
                transition(session, job.delivery_id, expected, S.RETRY_WAIT,
                           holder=self.worker_id, detail=note(WILL_RETRY, reason=exc.message),
                           next_attempt_at=decision.at, claimed_by=None, lease_expires_at=None,
                           **errors)
                if exc.kind is ErrorKind.RATE_LIMITED:
                    self._pause_account(session, job.account_id,
                                        exc.retry_at or now + timedelta(minutes=1))

    def _fail(self, job: Job, expected: DeliveryState, kind: str, message: str,
              code: str | None = None, error: str | None = None) -> None:
        """Failed for good: `message` is the history note, `error` what the platform said
        (the note itself when the platform said nothing of its own)."""
        with self.db.session() as session:
            if transition(session, job.delivery_id, expected, S.FAILED, holder=self.worker_id,
                          detail=message, error_kind=kind, error_code=code or kind,
                          error_message=error or message, lease_expires_at=None):
                if expected is S.UNCERTAIN:
                    notify_delivery_settled(session, job.delivery_id)
                self._notify(session, job.delivery_id)

    def _hold(self, job: Job, expected: DeliveryState, exc: PlatformError) -> None:
        with self.db.session() as session:
            if expected is S.UNCERTAIN:
                # Cannot look: keep it uncertain; it is reconciled once the account works again.
                self._still_uncertain_in(session, job, exc.message)
            else:
                transition(session, job.delivery_id, expected, S.HELD, holder=self.worker_id,
                           detail=exc.message, error_kind="auth", error_code=exc.code,
                           error_message=exc.message, claimed_by=None, lease_expires_at=None)
            hold_account(session, job.account_id, exc.message)
            self._notify(session, job.delivery_id)

    def _still_uncertain(self, job: Job, reason: str) -> None:
        with self.db.session() as session:
            self._still_uncertain_in(session, job, reason)

    def _still_uncertain_in(self, session: Session, job: Job, reason: str) -> None:
        """The platform could not be asked: people hear of it now, and we ask again later."""
        if transition(session, job.delivery_id, S.UNCERTAIN, S.UNCERTAIN,
                      holder=self.worker_id, detail=note(CANNOT_CHECK, reason=reason),
                      next_attempt_at=self.clock() + self.policy.reconcile_every,
                      claimed_by=None, lease_expires_at=None):
            self._notify(session, job.delivery_id)

    @staticmethod
    def _pause_account(session: Session, account_id: int, until: datetime) -> None:
        session.execute(update(Account).where(Account.id == account_id)
                        .values(rate_limited_until=until))

    @staticmethod
    def _notify(session: Session, delivery_id: int) -> None:
        """Tell the author and the comms team (in the app and by e-mail), in this transaction."""
        notify_delivery_problem(session, delivery_id)

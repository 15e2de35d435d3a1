"""Jobs after publishing: metrics every 5 minutes, token checks every hour, and every minute
the filing of newly published posts under issues for the board's report.

Each run asks the database what is due (publisher.metrics, publisher.token_checks) and claims it
there, so every scheduler may run these jobs side by side without doing anything twice.
"""

from __future__ import annotations

import time
from datetime import timedelta

from apscheduler.schedulers.base import BaseScheduler

from core.clock import utcnow
from publisher.metrics import collect_due_metrics
from publisher.services import Services
from publisher.token_checks import check_accounts
from reports.post_issues import classify_due
from schedules.guard import add_job

METRICS_EVERY = timedelta(minutes=5)
FILING_EVERY = timedelta(minutes=1)
FILING_BATCH = 500
TOKEN_CHECKS_EVERY = timedelta(hours=1)
METRICS_BATCH = 200
CHECKS_BATCH = 50
BUDGET_SECONDS = 240.0  # stop taking more work well before the next run is due
# A worker that has just started publishes first; the after-publishing work waits a minute.
FIRST_RUN_AFTER = timedelta(minutes=1)


def collect_metrics(services: Services, worker_id: str) -> int:
    """Fetch every due post's numbers, a batch at a time, within the time budget."""
    started, fetched = time.monotonic(), 0
    while time.monotonic() - started < BUDGET_SECONDS:
        run = collect_due_metrics(services.db, services.box, services.platforms, METRICS_BATCH,
                                  worker_id=worker_id)
        fetched += run.fetched
        if run.claimed < METRICS_BATCH:
            break
    return fetched


def check_tokens(services: Services) -> int:
    """Check every account that is due, a batch at a time, within the time budget."""
    started, checked = time.monotonic(), 0
    while time.monotonic() - started < BUDGET_SECONDS:
        outcomes = check_accounts(services.db, services.box, services.platforms,
                                  limit=CHECKS_BATCH)
        checked += len(outcomes)
        if len(outcomes) < CHECKS_BATCH:
            break
    return checked


def file_posts(services: Services) -> int:
    """File every published post not yet filed under the current watchlist queries, a batch
    (one transaction) at a time, within the time budget."""
    started, filed = time.monotonic(), 0
    while time.monotonic() - started < BUDGET_SECONDS:
        with services.db.session() as session:
            done = classify_due(session, limit=FILING_BATCH)
        filed += done
        if done < FILING_BATCH:
            break
    return filed


def add_after_publishing_jobs(scheduler: BaseScheduler, services: Services,
                              worker_id: str) -> None:
    add_job(scheduler, "collect_metrics", lambda: collect_metrics(services, worker_id),
            "interval", seconds=METRICS_EVERY.total_seconds(), max_instances=1, coalesce=True,
            next_run_time=utcnow() + FIRST_RUN_AFTER, jitter=15)
    add_job(scheduler, "check_tokens", lambda: check_tokens(services),
            "interval", seconds=TOKEN_CHECKS_EVERY.total_seconds(), max_instances=1,
            coalesce=True, next_run_time=utcnow() + FIRST_RUN_AFTER, jitter=60)
    add_job(scheduler, "file_posts", lambda: file_posts(services), "interval",
            seconds=FILING_EVERY.total_seconds(), max_instances=1, coalesce=True,
            next_run_time=utcnow() + FIRST_RUN_AFTER, jitter=10)

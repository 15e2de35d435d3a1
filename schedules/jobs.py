"""The scheduler's jobs. Each tick asks the database what is due; nothing is held in memory, so
any number of schedulers (web process or `megafon worker`) can run side by side."""

from __future__ import annotations

import logging
import os
import socket
import uuid
from datetime import timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from core.clock import utcnow
from core.mail import MailSender, send_pending
from core.workers import BEAT_EVERY, beat
from publisher.dispatch import Dispatcher
from publisher.retry import RetryPolicy
from publisher.services import Services
from schedules.after_publishing import add_after_publishing_jobs
from schedules.campaigns import add_campaign_jobs
from schedules.guard import add_job
from schedules.monitoring import add_monitoring_jobs
from schedules.privacy import add_privacy_jobs
from schedules.reporting import add_report_mail_job

log = logging.getLogger(__name__)


# The least time between one dispatch run and a wake-up: a bound on how often a worker can
# look for work that keeps becoming due (a dense stream), never a busy loop.
WAKE_GAP = timedelta(milliseconds=20)


def worker_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def build_dispatcher(services: Services, worker_id: str) -> Dispatcher:
    settings = services.settings
    policy = RetryPolicy.from_settings(settings)
    return Dispatcher(services.db, services.platforms, services.box, worker_id,
                      batch_size=settings.dispatch_batch_size,
                      lease_seconds=settings.lease_seconds,
                      concurrency=settings.dispatch_concurrency, policy=policy,
                      media_root=settings.instance_path)


def add_jobs(scheduler: BaseScheduler, services: Services, worker_id: str) -> Dispatcher:
    settings = services.settings
    dispatcher = build_dispatcher(services, worker_id)
    interval = timedelta(seconds=settings.dispatch_interval_seconds)

    def dispatch_and_wake() -> None:
        """Publish what is due, then wake up again exactly when the next delivery is due if that
        comes before the next regular tick: lateness stays well under a tick."""
        if not dispatcher.run_exclusively():
            return
        upcoming = dispatcher.next_due_at()
        if upcoming is not None and upcoming < utcnow() + interval:
            # This very function may be the wake-up job still running: a second instance must be
            # allowed, or APScheduler skips the new wake-up and work waits for the next tick.
            add_job(scheduler, "dispatch-wake", dispatch_and_wake, "date",
                    run_date=max(upcoming, utcnow() + WAKE_GAP), replace_existing=True,
                    misfire_grace_time=None, max_instances=2)

    # A tick that comes while a run is still going returns at once (run_exclusively).
    add_job(scheduler, "dispatch", dispatch_and_wake, "interval",
            seconds=settings.dispatch_interval_seconds, max_instances=2, coalesce=True,
            next_run_time=utcnow())
    add_job(scheduler, "heartbeat", lambda: beat(services.db, worker_id), "interval",
            seconds=BEAT_EVERY.total_seconds(), max_instances=1, coalesce=True,
            next_run_time=utcnow())
    mail = MailSender.from_settings(settings)  # not configured: a no-op, notifications stay in-app
    add_job(scheduler, "send_mail", lambda: send_pending(services.db, mail, worker_id=worker_id),
            "interval", seconds=5, max_instances=1, coalesce=True, next_run_time=utcnow())
    add_after_publishing_jobs(scheduler, services, worker_id)  # metrics, token checks
    add_monitoring_jobs(scheduler, services, worker_id)  # polling sources
    add_privacy_jobs(scheduler, services)  # private persons' data kept only so long
    add_report_mail_job(scheduler, services, worker_id, mail)  # the board's monthly report
    add_campaign_jobs(scheduler, services)  # reminders of campaign asks before the deadline
    return dispatcher


def start_background(services: Services) -> BackgroundScheduler:
    """The in-process scheduler of `megafon run` (one web process, no separate worker)."""
    scheduler = BackgroundScheduler(timezone="UTC")
    add_jobs(scheduler, services, worker_identity())
    scheduler.start()
    return scheduler


def run_blocking(services: Services) -> None:
    """`megafon worker`: one worker process; run as many as you like."""
    scheduler = BlockingScheduler(timezone="UTC")
    worker_id = worker_identity()
    add_jobs(scheduler, services, worker_id)
    log.info("worker %s started", worker_id)
    scheduler.start()

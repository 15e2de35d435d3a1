"""Campaign asks' reminders: a job every few minutes asks campaigns.reminders what is due.

The rules (when, to whom, once) live in `campaigns.reminders`; each ask is claimed in the
database there, so every worker may run the job.
"""

from __future__ import annotations

from datetime import timedelta

from apscheduler.schedulers.base import BaseScheduler

from campaigns.reminders import send_due_reminders
from core.clock import utcnow
from publisher.services import Services
from schedules.guard import add_job

REMIND_EVERY = timedelta(minutes=5)
FIRST_RUN_AFTER = timedelta(seconds=30)


def remind_asks(services: Services) -> int:
    with services.db.session() as session:
        return send_due_reminders(session, utcnow())


def add_campaign_jobs(scheduler: BaseScheduler, services: Services) -> None:
    add_job(scheduler, "remind_campaign_asks", lambda: remind_asks(services), "interval",
            seconds=REMIND_EVERY.total_seconds(), max_instances=1, coalesce=True,
            next_run_time=utcnow() + FIRST_RUN_AFTER, jitter=30)

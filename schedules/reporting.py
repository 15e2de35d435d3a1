"""The monthly board report by e-mail: a job every ten minutes asks reports.mailing what is due.

The rules (which month, to whom, once) live in `reports.mailing`; this file only wires them. The
PDF is the web app's board paper (`web.reports.paper_maker`, the same path as `megafon report`),
built when a worker first has a paper to render, not at start-up.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from apscheduler.schedulers.base import BaseScheduler

from core.clock import utcnow
from core.mail import Mailer
from publisher.services import Services
from reports.board import Report
from reports.mailing import PaperMaker, send_due
from schedules.guard import add_job

REPORT_MAIL_EVERY = timedelta(minutes=10)
FIRST_RUN_AFTER = timedelta(minutes=1)


class LazyPaper:
    """The board paper maker of these services, built on first use."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self._make: PaperMaker | None = None
        self._building = threading.Lock()

    def __call__(self, report: Report, counted: datetime, organisation: str,
                 language: str) -> bytes:
        with self._building:
            if self._make is None:
                from web.reports import paper_maker

                self._make = paper_maker(self._services.settings, self._services)
        return self._make(report, counted, organisation, language)


def add_report_mail_job(scheduler: BaseScheduler, services: Services, worker_id: str,
                        sender: Mailer) -> None:
    paper = LazyPaper(services)
    add_job(scheduler, "send_board_reports",
            lambda: send_due(services.db, sender, paper, worker_id=worker_id,
                             own_party=services.settings.own_party),
            "interval", seconds=REPORT_MAIL_EVERY.total_seconds(), max_instances=1,
            coalesce=True, next_run_time=utcnow() + FIRST_RUN_AFTER, jitter=30)

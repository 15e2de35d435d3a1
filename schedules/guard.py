"""The one wrapper around every scheduled job.

APScheduler logs a job's exception and carries on, but in its own words and without saying
which of our jobs it was; a job that raised must be told apart from one that works, and the
scheduler thread must never die of it. Every job in schedules/ is added through `add_job`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from apscheduler.job import Job
from apscheduler.schedulers.base import BaseScheduler

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Guarded:
    """A job that logs its failure under its name and returns, so the next run runs."""

    name: str
    run: Callable[[], object]

    def __call__(self) -> None:
        try:
            self.run()
        except Exception:
            log.exception("scheduled job %s failed", self.name)


def guarded(name: str, run: Callable[[], object]) -> Guarded:
    """`run` as a job that survives its own failures (`name`: the job's id, for the log)."""
    return Guarded(name, run)


def add_job(scheduler: BaseScheduler, job_id: str, run: Callable[[], object], trigger: str,
            **options: Any) -> Job:
    """Add `run` to `scheduler` under `job_id`, guarded: the one way schedules/ adds a job."""
    return scheduler.add_job(guarded(job_id, run), trigger, id=job_id, **options)

"""The scheduler's jobs. Each tick asks the database what is due; nothing is held in memory, so
any number of schedulers (web process or `megafon worker`) can run side by side."""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from core.clock import utcnow
from publisher.dispatch import Dispatcher
from publisher.services import Services

log = logging.getLogger(__name__)


def worker_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def _safely(fn: Callable[[], object]) -> Callable[[], None]:
    """A failing tick is logged and the next one runs; the scheduler itself never dies."""

    def run() -> None:
        try:
            fn()
        except Exception:
            log.exception("scheduled job failed")

    return run


def add_jobs(scheduler: BaseScheduler, services: Services, worker_id: str) -> Dispatcher:
    settings = services.settings
    dispatcher = Dispatcher(services.db, services.platforms, services.box, worker_id,
                            batch_size=settings.dispatch_batch_size,
                            lease_seconds=settings.lease_seconds)
    scheduler.add_job(
        _safely(dispatcher.run_once), "interval", seconds=settings.dispatch_interval_seconds,
        id="dispatch", max_instances=1, coalesce=True, next_run_time=utcnow(),
    )
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

"""A worker wakes up when work becomes due, and only for work it may take."""

from __future__ import annotations

import threading
from datetime import timedelta

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import update

from core.clock import utcnow
from core.users import Role
from publisher.deliveries import next_due
from publisher.models import Account, DeliveryState, Platform
from schedules.jobs import add_jobs
from tests.conftest import build_services, connect_sandbox_account
from tests.factories import deliveries, queue_post


def pause(services, account: Account, until) -> None:
    with services.db.session() as session:
        session.execute(update(Account).where(Account.id == account.id)
                        .values(rate_limited_until=until))


def test_next_due_leaves_out_accounts_that_may_not_be_called(services, make_user,
                                                           make_account):
    paused, _ = make_account(Platform.X)
    free, _ = make_account(Platform.FACEBOOK)
    user = make_user(Role.COMMS)
    queue_post(services.db, user, [paused], text="Väntar på X")
    assert next_due(services.db) is not None
    pause(services, paused, utcnow() + timedelta(hours=1))
    assert next_due(services.db) is None
    queue_post(services.db, user, [free], text="Går ut på Facebook")
    assert next_due(services.db) == deliveries(services.db)[-1].next_attempt_at


def test_a_worker_does_not_spin_on_due_work_of_a_rate_limited_account(tmp_path, sandbox,
                                                                     make_user_in):
    services = build_services(tmp_path / "instance", f"sqlite:///{tmp_path / 'm.db'}",
                              sandbox.url, dispatch_interval_seconds=60)
    account, _ = connect_sandbox_account(services, Platform.X)
    queue_post(services.db, make_user_in(services), [account], text="Efter gränsen")
    pause(services, account, utcnow() + timedelta(hours=1))
    scheduler = BackgroundScheduler(timezone="UTC")
    add_jobs(scheduler, services, "w1")
    ticked = threading.Event()
    scheduler.add_listener(lambda event: event.job_id == "dispatch" and ticked.set(),
                           EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    scheduler.start()
    try:
        assert ticked.wait(30), "the start-up tick never ran"
        # After it, nothing is set to wake the worker for work nobody may take: the next look
        # is the regular tick, a minute away (a busy loop would have scheduled a wake-up).
        assert scheduler.get_job("dispatch-wake") is None
        next_tick = scheduler.get_job("dispatch").next_run_time
        assert next_tick - utcnow() > timedelta(seconds=50)
    finally:
        scheduler.shutdown()
        services.db.dispose()
    assert [d.state for d in deliveries(services.db)] == [DeliveryState.SCHEDULED]

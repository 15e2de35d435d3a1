"""The after-publishing jobs are wired into every scheduler and do what is due when run."""

from __future__ import annotations

import logging
from datetime import timedelta

from apscheduler.schedulers.background import BackgroundScheduler

from core.users import Role
from publisher.dispatch import Dispatcher
from publisher.models import Platform
from schedules.after_publishing import check_tokens, collect_metrics, file_posts
from schedules.guard import Guarded, guarded
from schedules.jobs import add_jobs
from tests.factories import queue_post


def test_add_jobs_schedules_metrics_every_5_minutes_and_token_checks_hourly(services):
    scheduler = BackgroundScheduler(timezone="UTC")
    add_jobs(scheduler, services, "w-test")
    metrics, tokens = scheduler.get_job("collect_metrics"), scheduler.get_job("check_tokens")
    assert metrics.trigger.interval == timedelta(minutes=5)
    assert tokens.trigger.interval == timedelta(hours=1)
    # The monthly report by e-mail: a look every ten minutes at what is due.
    assert scheduler.get_job("send_board_reports").trigger.interval == timedelta(minutes=10)
    # Published posts are filed under issues for the report within a minute.
    assert scheduler.get_job("file_posts").trigger.interval == timedelta(minutes=1)


def test_the_jobs_do_what_is_due(services, make_user, make_account):
    x, _ = make_account(Platform.X)
    queue_post(services.db, make_user(Role.COMMS), [x], text="Jobbet")
    Dispatcher(services.db, services.platforms, services.box, "w1").run_once()
    assert check_tokens(services) == 1
    assert check_tokens(services) == 0  # checked today
    assert collect_metrics(services, "w1") == 0  # the first numbers are due after 15 minutes
    assert file_posts(services) == 1  # the published post, filed under the (no) issues
    assert file_posts(services) == 0


def test_every_job_of_every_scheduler_goes_through_the_one_guard(services):
    scheduler = BackgroundScheduler(timezone="UTC")
    add_jobs(scheduler, services, "w-test")
    jobs = scheduler.get_jobs()
    assert {job.id for job in jobs} == {
        "dispatch", "heartbeat", "send_mail", "collect_metrics", "check_tokens",
        "poll_sources", "prune_source_history", "send_digests", "alert_failing_sources",
        "send_board_reports", "file_posts", "remove_expired_personal_data",
        "prune_spent_rows", "remind_campaign_asks"}
    assert all(isinstance(job.func, Guarded) and job.func.name == job.id for job in jobs)


def test_a_failing_run_is_logged_under_its_name_and_the_next_run_runs(caplog):
    runs: list[int] = []

    def first_run_fails() -> None:
        runs.append(len(runs))
        if len(runs) == 1:
            raise RuntimeError("the database went away")

    job = guarded("poll_sources", first_run_fails)
    with caplog.at_level(logging.ERROR, logger="schedules.guard"):
        job()
        job()
    assert runs == [0, 1]
    assert [r.getMessage() for r in caplog.records] == ["scheduled job poll_sources failed"]
    assert "the database went away" in caplog.text

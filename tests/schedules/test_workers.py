"""Worker processes, the sandbox as the judge: every delivery out exactly once.

- kill -9 a worker inside the platform call: after a restart nothing is lost or doubled;
- three workers on one PostgreSQL publish the same 1,000 due deliveries once each.
"""

from __future__ import annotations

import os
import signal
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.users import Role
from publisher.models import Delivery, DeliveryState, Platform
from tests.conftest import build_services, connect_sandbox_account
from tests.factories import queue_post
from tests.publisher.sandbox_faults import calls_in_flight, set_faults, stored_posts
from tests.schedules.workers import wait_for, worker_env, workers

S = DeliveryState


@pytest.fixture
def db_services(any_db_url: str, tmp_path: Path, sandbox):
    built = build_services(tmp_path / "instance", any_db_url, sandbox.url)
    yield built
    built.db.dispose()


def state_counts(services) -> Counter:
    with services.db.session() as session:
        return Counter(dict(session.execute(
            select(Delivery.state, func.count()).group_by(Delivery.state)).all()))


def times_each_text_was_posted(sandbox_url: str, keys: list[str]) -> Counter:
    return Counter((key, p["text"].split("\n")[0]) for key in keys
                   for p in stored_posts(sandbox_url, key))


def test_kill_9_inside_the_platform_call_then_restart_publishes_each_once(
        db_services, sandbox, make_user_in, tmp_path):
    services = db_services
    accounts = [connect_sandbox_account(services, Platform.X) for _ in range(2)]
    accounts += [connect_sandbox_account(services, Platform.FACEBOOK)]
    keys = [c.get("user_id") or c["page_id"] for _, c in accounts]
    for key in keys:
        set_faults(sandbox.url, key, latency_ms=6000)
    author = make_user_in(services, Role.COMMS)
    for n in range(4):
        queue_post(services.db, author, [a for a, _ in accounts], text=f"Inlägg nummer {n}")
    total = 12
    env = worker_env(services, platform_timeout_seconds=10, lease_seconds=12,
                     dispatch_concurrency=4)

    with workers(env, 1, tmp_path) as (worker,):
        # The calls have reached the sandbox, which waits 6 s before storing and answering them.
        wait_for(lambda: all(calls_in_flight(sandbox.url, key) > 0 for key in keys), 60,
                 "a call to every account in flight")
        os.kill(worker.pid, signal.SIGKILL)  # inside the platform call
        worker.wait()
    assert state_counts(services)[S.SENDING] > 0  # left behind by the dead worker
    # The sandbox finishes the calls the dead worker made: posts exist that the database does
    # not know about — the case recovery must reconcile instead of resending.
    wait_for(lambda: sum(times_each_text_was_posted(sandbox.url, keys).values()) > 0, 30,
             "the in-flight posts to land in the sandbox")

    for key in keys:
        set_faults(sandbox.url, key)
    with workers(env, 1, tmp_path):
        wait_for(lambda: state_counts(services)[S.PUBLISHED] == total, 180,
                 "every delivery published")

    posted = times_each_text_was_posted(sandbox.url, keys)
    assert sum(posted.values()) == total and set(posted.values()) == {1}


@pytest.mark.postgres
def test_three_workers_on_postgres_publish_1000_deliveries_once_each(
        postgres_url, sandbox, make_user_in, tmp_path):
    services = build_services(tmp_path / "instance", postgres_url, sandbox.url)
    accounts = [connect_sandbox_account(services, Platform.X) for _ in range(10)]
    accounts += [connect_sandbox_account(services, Platform.FACEBOOK) for _ in range(10)]
    keys = [c.get("user_id") or c["page_id"] for _, c in accounts]
    for key in keys:
        set_faults(sandbox.url, key, rate_limit=100_000)
    author = make_user_in(services, Role.COMMS)
    for n in range(50):
        queue_post(services.db, author, [a for a, _ in accounts], text=f"Kampanjinlägg {n}")

    with workers(worker_env(services, dispatch_concurrency=8), 3, tmp_path):
        wait_for(lambda: state_counts(services)[S.PUBLISHED] == 1000, 240,
                 "1,000 deliveries published")

    posted = times_each_text_was_posted(sandbox.url, keys)
    assert len(posted) == 1000 and set(posted.values()) == {1}
    with services.db.session() as session:
        claimers = set(session.scalars(select(Delivery.claimed_by)))
    assert len(claimers) == 3  # the work really was shared
    services.db.dispose()

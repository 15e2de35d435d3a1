"""Two workers whose clocks disagree by minutes (servers' clocks drift apart in production): a
lease is judged on the database server's clock, so the worker that runs fast does not take the
other's post in flight for an abandoned one, reconcile it, and send it a second time."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

from core.auth import create_user
from core.clock import utcnow
from core.users import Role
from publisher.dispatch import Dispatcher
from publisher.models import DeliveryState, Platform
from tests.conftest import PASSWORD, build_services, connect_sandbox_account
from tests.factories import deliveries, queue_post
from tests.publisher.sandbox_faults import set_faults, stored_posts

pytestmark = pytest.mark.postgres


def wait_until(condition, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def test_a_worker_whose_clock_runs_five_minutes_fast_sends_nothing_twice(
        postgres_url, sandbox, tmp_path):
    services = build_services(tmp_path / "instance", postgres_url, sandbox.url)
    account, creds = connect_sandbox_account(services, Platform.X)
    set_faults(sandbox.url, creds["user_id"], latency_ms=1500)  # the call is in flight a while
    with services.db.session() as session:
        author = create_user(session, email="komm@example.org", name="Komm", password=PASSWORD,
                             role=Role.COMMS)
    queue_post(services.db, author, [account], text="En gång, tack")
    right = Dispatcher(services.db, services.platforms, services.box, "in-time")
    fast = Dispatcher(services.db, services.platforms, services.box, "fast",
                      clock=lambda: utcnow() + timedelta(minutes=5))

    sending = threading.Thread(target=right.run_once)
    sending.start()
    wait_until(lambda: deliveries(services.db)[0].state is DeliveryState.SENDING,
               "the first worker's claim")
    fast.run_once()  # by its clock the 2-minute lease ran out 3 minutes ago: by the server's not
    sending.join()
    fast.run_once()

    [delivery] = deliveries(services.db)
    assert (delivery.state, delivery.claimed_by) == (DeliveryState.PUBLISHED, "in-time")
    assert [p["text"] for p in stored_posts(sandbox.url, creds["user_id"])] == ["En gång, tack"]
    services.db.dispose()

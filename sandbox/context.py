"""What every sandbox view shares: the state of the running app, the dice, and the wait."""

from __future__ import annotations

import random
import time

from flask import current_app

from sandbox.state import Account, SandboxState

rng = random.Random()


def current_state() -> SandboxState:
    return current_app.config["SANDBOX_STATE"]


def delay(account: Account) -> None:
    """Add the account's configured latency (outside any lock, so other calls go on). While it
    waits the call counts as in flight, so a test can see that a client's request has arrived
    (GET /sandbox/api/accounts/<key>/in_flight) instead of guessing with a sleep."""
    latency_ms = account.faults.latency_ms
    if latency_ms:
        with current_state().in_flight(account.key):
            time.sleep(latency_ms / 1000)

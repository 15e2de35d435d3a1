"""What every sandbox view shares: the state of the running app, the dice, and the wait."""

from __future__ import annotations

import random
import time

from flask import current_app

from sandbox.faults import Faults
from sandbox.state import SandboxState

rng = random.Random()


def current_state() -> SandboxState:
    return current_app.config["SANDBOX_STATE"]


def delay(faults: Faults) -> None:
    """Add the account's configured latency (outside any lock, so other calls go on)."""
    if faults.latency_ms:
        time.sleep(faults.latency_ms / 1000)

"""Telling the sandbox to misbehave for one account, and reading what it stored."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import requests


def set_faults(sandbox_url: str, key: str, **faults: Any) -> None:
    requests.post(f"{sandbox_url}/sandbox/api/accounts/{key}/faults", json=faults,
                  timeout=10).raise_for_status()


def calls_in_flight(sandbox_url: str, key: str) -> int:
    """Calls of the account the sandbox has received and not yet answered (inside latency)."""
    response = requests.get(f"{sandbox_url}/sandbox/api/accounts/{key}/in_flight", timeout=10)
    response.raise_for_status()
    return response.json()["in_flight"]


def stored_posts(sandbox_url: str, key: str) -> list[dict[str, Any]]:
    response = requests.get(f"{sandbox_url}/sandbox/api/accounts/{key}/posts", timeout=10)
    response.raise_for_status()
    return response.json()


def set_sandbox_time(sandbox_url: str, moment: datetime | None) -> None:
    """Move the sandbox's clock to the time a test fixed for Megafon (None: the real clock)."""
    requests.post(f"{sandbox_url}/sandbox/api/clock",
                  json={"now": moment.isoformat() if moment else None},
                  timeout=10).raise_for_status()

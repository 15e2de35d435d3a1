"""The sandbox's clock: the real one, or shifted to where a test has fixed Megafon's time.

A test that injects a clock into Megafon (say, 2026-11-25 08:00) must not meet a platform that
lives in today's date: a 429's reset, a token's expiry or a post's `created_at` would then be
days away from the time Megafon thinks it is. `POST /sandbox/api/clock {"now": ISO-8601}` moves
the sandbox's time there (it goes on ticking from that moment); `{"now": null}` puts it back on
the real clock. The platforms have one world time, so the sandbox has one clock per process.
Only OAuth's timestamp check stays on the real clock: the client signs with the machine's time.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

_lock = threading.Lock()
_offset = 0.0  # seconds added to the real clock


def now() -> float:
    """The sandbox's time in UNIX seconds."""
    return time.time() + _offset


def set_now(moment: datetime | None) -> None:
    """Move the sandbox's time to `moment` (aware), or back to the real clock with None."""
    global _offset
    with _lock:
        _offset = 0.0 if moment is None else moment.timestamp() - time.time()


def as_datetime() -> datetime:
    return datetime.fromtimestamp(now(), UTC)

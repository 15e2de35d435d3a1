"""Fault and rate-limit decisions, kept apart from HTTP so tests and benches can reason about them.

A fault profile belongs to one account and is replaced whole by the control API: latency, a share
of calls answered with 5xx/429, an expired token, a share of writes whose answer is dropped after
the write was stored, the account's rate limit, and when its token expires.
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass, fields
from typing import Any

from sandbox import clock

WINDOW_S = 900  # X and the sandbox's Graph budget both count in 15-minute windows

# Per-user limits per 15 minutes (docs.x.com, current tier); "tweets_create" is overridable.
X_LIMITS = {
    "tweets_create": 100,
    "tweets_delete": 50,
    "tweets_lookup": 5000,
    "search_recent": 300,
    "users_me": 75,
    "user_tweets": 900,
    "media_upload": 415,
}
GRAPH_PAGE_LIMIT = 4800  # calls per window for one Page token (about a BUC allowance)
ERROR_STATUSES = (429, 500, 502, 503, 504)


@dataclass(frozen=True)
class Faults:
    """What an account's calls should suffer; the default suffers nothing."""

    latency_ms: int = 0
    error_rate: float = 0.0
    error_status: int = 503
    expire_token: bool = False
    drop_response_rate: float = 0.0
    rate_limit: int | None = None  # X: POST /2/tweets per window; Graph: all Page calls
    rate_window_s: int = WINDOW_S
    # The token stops working at this UNIX time (given as token_expires_in_s, seconds from now).
    token_expires_at: float | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any], now: float | None = None) -> Faults:
        """Validate a control-API body; omitted fields take their defaults. Raises ValueError."""
        if not isinstance(data, dict):
            raise ValueError("faults must be a JSON object")
        if data.get("token_expires_in_s") is not None:
            data = dict(data)
            expires_in = data.pop("token_expires_in_s")
            if isinstance(expires_in, bool) or not isinstance(expires_in, int | float):
                raise ValueError("token_expires_in_s must be a number")
            data["token_expires_at"] = (clock.now() if now is None else now) + expires_in
        data = {k: v for k, v in data.items() if k != "token_expires_in_s"}
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown fault field(s): {', '.join(unknown)}")
        faults = cls(**{k: v for k, v in data.items() if v is not None or k == "rate_limit"})
        faults._check()
        return faults

    def _check(self) -> None:
        def number(name: str, value: Any, low: float, high: float) -> None:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{name} must be a number")
            if not low <= value <= high:
                raise ValueError(f"{name} must be between {low:g} and {high:g}")

        number("latency_ms", self.latency_ms, 0, 120_000)
        number("error_rate", self.error_rate, 0, 1)
        number("drop_response_rate", self.drop_response_rate, 0, 1)
        number("rate_window_s", self.rate_window_s, 1, 86_400)
        if self.error_status not in ERROR_STATUSES:
            raise ValueError(f"error_status must be one of {list(ERROR_STATUSES)}")
        if not isinstance(self.expire_token, bool):
            raise ValueError("expire_token must be true or false")
        if self.token_expires_at is not None and (
                isinstance(self.token_expires_at, bool)
                or not isinstance(self.token_expires_at, int | float)):
            raise ValueError("token_expires_at must be a UNIX time or null")
        if self.rate_limit is not None:
            if isinstance(self.rate_limit, bool) or not isinstance(self.rate_limit, int):
                raise ValueError("rate_limit must be a whole number or null")
            if self.rate_limit < 1:
                raise ValueError("rate_limit must be at least 1")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def token_expired(self, now: float | None = None) -> bool:
        """True when calls with the account's token must be refused as expired."""
        if self.expire_token:
            return True
        return self.token_expires_at is not None and \
            (clock.now() if now is None else now) >= self.token_expires_at

    def roll_error(self, rng: random.Random) -> bool:
        """True when this call should be answered with `error_status` instead of being served."""
        return self.error_rate > 0 and rng.random() < self.error_rate

    def roll_drop(self, rng: random.Random) -> bool:
        """True when this write should be stored and then its answer dropped."""
        return self.drop_response_rate > 0 and rng.random() < self.drop_response_rate


@dataclass(frozen=True)
class RateDecision:
    """The outcome of counting one call against a window, in the terms the headers use."""

    limit: int
    used: int
    reset: int  # UNIX seconds when the window ends

    @property
    def allowed(self) -> bool:
        return self.used <= self.limit

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)

    def x_headers(self) -> dict[str, str]:
        return {
            "x-rate-limit-limit": str(self.limit),
            "x-rate-limit-remaining": str(self.remaining),
            "x-rate-limit-reset": str(self.reset),
        }

    def graph_headers(self, now: float) -> dict[str, str]:
        """X-App-Usage / X-Page-Usage / X-Business-Use-Case-Usage, as percentages of the budget."""
        pct = min(100, self.used * 100 // self.limit)
        usage = json.dumps({"call_count": pct, "total_cputime": pct // 2, "total_time": pct // 2})
        regain = 0 if self.allowed else max(1, (self.reset - int(now) + 59) // 60)
        buc = {"type": "pages", "call_count": pct, "total_cputime": pct // 2,
               "total_time": pct // 2, "estimated_time_to_regain_access": regain}
        return {"X-App-Usage": usage, "X-Page-Usage": usage,
                "X-Business-Use-Case-Usage": json.dumps({"_page_": [buc]})}


def x_limit(bucket: str, faults: Faults) -> int:
    """The per-user limit for an X endpoint bucket, honouring the account's override."""
    if bucket == "tweets_create" and faults.rate_limit is not None:
        return faults.rate_limit
    return X_LIMITS[bucket]


def graph_limit(faults: Faults) -> int:
    return faults.rate_limit if faults.rate_limit is not None else GRAPH_PAGE_LIMIT


DROP_CONNECTION = "sandbox.drop_connection"  # the server puts a callable under this WSGI key


def drop_connection(environ: dict[str, Any]) -> None:
    """Close the client's connection so it never gets an answer (the write is already stored).

    The server (sandbox.server) offers a callable that shuts the request's socket down; writing
    the response afterwards finds the connection gone, so the client sees "Remote end closed
    connection without response".
    """
    drop = environ.get(DROP_CONNECTION)
    if drop is None:
        raise ConnectionAbortedError("sandbox dropped the response (no socket to close)")
    drop()

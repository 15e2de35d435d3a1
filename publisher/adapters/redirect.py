"""HTTP sessions for the unmodified tweepy and facebook-sdk clients.

`RewriteSession` points them at another base URL (the sandbox). tweepy hard-codes
https://api.twitter.com; rewriting in Session.request happens before the OAuth1 signature is made,
so the signature covers the URL the sandbox really receives. Both sessions remember the last
rate-limit headers so the dispatcher can share each account's budget across workers.
"""

from __future__ import annotations

import logging
import re
import threading
from http.cookiejar import DefaultCookiePolicy
from typing import Any

import requests

PLATFORM_HOSTS = (
    "https://api.twitter.com",
    "https://api.x.com",
    "https://upload.twitter.com",
    "https://graph.facebook.com",
)


class PlatformSession(requests.Session):
    """A default timeout on every call, and the last response's rate-limit headers."""

    def __init__(self, timeout: float = 30.0) -> None:
        super().__init__()
        self.default_timeout = timeout
        self.last_headers: dict[str, str] = {}
        # Sessions are reused across accounts: no cookie may carry over from one to another.
        self.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))

    def target(self, url: str) -> str:
        return url

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", self.default_timeout)
        text_url = url.decode() if isinstance(url, bytes) else url
        response = super().request(method, self.target(text_url), *args, **kwargs)
        self.last_headers = {k.lower(): v for k, v in response.headers.items()
                             if k.lower().startswith(("x-rate-limit", "x-app-usage",
                                                      "x-page-usage"))}
        return response


class RewriteSession(PlatformSession):
    """Sends platform URLs to `base_url` instead."""

    def __init__(self, base_url: str, timeout: float = 30.0) -> None:
        super().__init__(timeout)
        self.base_url = base_url.rstrip("/")
        # A loopback sandbox needs no proxy settings from the environment (and reading them
        # costs more than the call itself).
        self.trust_env = False

    def target(self, url: str) -> str:
        for host in PLATFORM_HOSTS:
            if url.startswith(host):
                return self.base_url + url[len(host):]
        return url


_per_thread = threading.local()


def session_for(base_url: str | None, timeout: float) -> PlatformSession:
    """One session per thread and target, so connections are kept alive between calls (a
    requests.Session must not be shared between threads)."""
    sessions: dict[tuple[str | None, float], PlatformSession] = _per_thread.__dict__.setdefault(
        "sessions", {})
    key = (base_url, timeout)
    if key not in sessions:
        sessions[key] = RewriteSession(base_url, timeout) if base_url else PlatformSession(timeout)
    session = sessions[key]
    session.last_headers = {}
    return session


class RedactTokens(logging.Filter):
    """urllib3 logs every request URL at DEBUG, and Graph GETs carry the Page token in the query
    string (access_token=, input_token=); keep the token out of the log."""

    pattern = re.compile(r"((?:access_token|input_token)=)[^&\s\"]+")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "_token=" in message:
            record.msg, record.args = self.pattern.sub(r"\1[redacted]", message), None
        return True


logging.getLogger("urllib3.connectionpool").addFilter(RedactTokens())

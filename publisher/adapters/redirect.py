"""Point the unmodified tweepy and facebook-sdk clients at another base URL (the sandbox).

tweepy hard-codes https://api.twitter.com; rewriting in Session.request happens before the OAuth1
signature is made, so the signature covers the URL the sandbox really receives.
"""

from __future__ import annotations

from typing import Any

import requests

PLATFORM_HOSTS = (
    "https://api.twitter.com",
    "https://api.x.com",
    "https://upload.twitter.com",
    "https://graph.facebook.com",
)


class RewriteSession(requests.Session):
    """A requests.Session that sends platform URLs to `base_url` instead."""

    def __init__(self, base_url: str, timeout: float = 30.0) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")
        self.default_timeout = timeout

    def rewrite(self, url: str) -> str:
        for host in PLATFORM_HOSTS:
            if url.startswith(host):
                return self.base_url + url[len(host):]
        return url

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", self.default_timeout)
        text_url = url.decode() if isinstance(url, bytes) else url
        return super().request(method, self.rewrite(text_url), *args, **kwargs)


class TimeoutSession(requests.Session):
    """Real platforms: the same default timeout, no rewriting."""

    def __init__(self, timeout: float = 30.0) -> None:
        super().__init__()
        self.default_timeout = timeout

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", self.default_timeout)
        return super().request(method, url, *args, **kwargs)

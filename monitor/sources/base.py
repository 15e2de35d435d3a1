"""What a source poller gets (the context) and gives back (a PollResult).

Pollers are `poll(source, ctx) -> PollResult`. They run outside any database transaction and
never import the publisher: credentials and HTTP sessions for the platforms come in through the
context, built by the outer layer (schedules.monitoring).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from core.i18n import N_
from monitor.fetch import FetchError, SafeFetcher
from monitor.items import Item
from monitor.models import Source


@dataclass
class PollResult:
    items: list[Item] = field(default_factory=list)
    etag: str | None = None
    last_modified: str | None = None
    cursor: str | None = None
    not_modified: bool = False
    final_url: str | None = None  # where the content came from, after redirects


@dataclass
class PollContext:
    """Everything a poller may use. `credentials_for(account)` returns a platform account's
    credentials: `account` is a connected account's id, or with the sandbox on, the name of a
    sandbox account. `session_factory()` returns the requests session tweepy and facebook-sdk
    use (pointed at the sandbox when it is on)."""

    fetcher: SafeFetcher
    credentials_for: Callable[[int | str | None], dict[str, str]] | None = None
    session_factory: Callable[[], requests.Session] | None = None
    graph_version: str = "v21.0"
    x_status_url: str = "https://x.com/{username}/status/{id}"
    facebook_url: str = "https://www.facebook.com/{id}"
    page_max_articles: int = 10


def config_of(source: Source) -> dict[str, Any]:
    """The source's kind-specific settings (JSON text in Source.config)."""
    try:
        value = json.loads(source.config or "{}")
    except ValueError:
        raise FetchError("config", N_("The source's settings cannot be read.")) from None
    if not isinstance(value, dict):
        raise FetchError("config", N_("The source's settings cannot be read."))
    return value


def credentials(source: Source, ctx: PollContext) -> dict[str, str]:
    """The platform credentials the source's settings name (key "account"; "account_id" is
    how the setup pages stored it before, and such sources work too)."""
    config = config_of(source)
    account = config.get("account") or config.get("account_id")
    if ctx.credentials_for is None:
        raise FetchError("config", N_("No platform credentials are available to this worker."))
    try:
        return ctx.credentials_for(account)
    except LookupError:
        raise FetchError("auth", N_("The account this source reads with is not connected "
                                    "(any more).")) from None


def session(ctx: PollContext) -> requests.Session:
    return ctx.session_factory() if ctx.session_factory else requests.Session()

"""One poller per source kind: `poll(source, ctx) -> PollResult` (see monitor.sources.base).

Modules are imported on first use, so a worker that polls only feeds never loads trafilatura,
tweepy or facebook-sdk. Manual sources are never polled (monitor.sources.manual adds clippings).
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

from monitor.models import Source, SourceKind
from monitor.sources.base import PollContext, PollResult

Poller = Callable[[Source, PollContext], PollResult]

MODULES = {
    SourceKind.FEED: "monitor.sources.feeds",
    SourceKind.PAGE: "monitor.sources.pages",
    SourceKind.X_SEARCH: "monitor.sources.x_search",
    SourceKind.FB_COMMENTS: "monitor.sources.fb_comments",
}
POLLED_KINDS = tuple(MODULES)


def poller_for(kind: SourceKind) -> Poller:
    return import_module(MODULES[kind]).poll  # type: ignore[no-any-return]


__all__ = ["POLLED_KINDS", "PollContext", "PollResult", "Poller", "poller_for"]

"""Network failures, judged by whether the request may have reached the platform."""

from __future__ import annotations

import requests

from publisher.adapters.base import ErrorKind, PlatformError


def network_error(exc: requests.RequestException, *, sent: bool) -> PlatformError:
    """A refused or timed-out connection never delivered the request: safe to retry. A request
    that was sent and then lost its answer may have been carried out: reconcile first."""
    never_sent = isinstance(exc, requests.ConnectTimeout) or _refused(exc)
    return PlatformError(ErrorKind.TRANSIENT, f"network error: {type(exc).__name__}",
                         code="network", outcome_unknown=sent and not never_sent)


def _refused(exc: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        name = type(current).__name__
        if name in {"NewConnectionError", "ConnectionRefusedError", "NameResolutionError"}:
            return True
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException) and id(reason) not in seen:
            current = reason
            continue
        args = getattr(current, "args", ())
        nested = next((a for a in args if isinstance(a, BaseException)), None)
        current = nested or current.__cause__ or current.__context__
    return False

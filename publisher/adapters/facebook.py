"""Facebook Pages through facebook-sdk 3.1.0, the one place that knows its quirks.

facebook-sdk only accepts Graph versions up to 3.1 and refuses the ones Meta serves today, so the
client is built without a version and the current one is set afterwards (it is read per call).
Errors are detected by the `error` key of the body, not by HTTP status.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

import facebook
import requests

from core.clock import utcnow
from publisher.adapters.base import (
    AccountIdentity,
    Content,
    ErrorKind,
    PlatformError,
    Published,
    same_text,
)
from publisher.adapters.errors import network_error
from publisher.adapters.redirect import PlatformSession, session_for

AUTH_CODES = {102, 190, 458, 459, 460, 463, 464, 467, 492}
PERMISSION_CODES = {10, 200, 210, 220, 230, 270, 299}
RATE_CODES = {4, 17, 32, 613, 80001}
# Back off before Meta cuts the Page off: its usage headers are percentages of the budget.
USAGE_CEILING = 95
T = TypeVar("T")


class FacebookAdapter:
    def __init__(self, base_url: str | None = None, version: str = "v21.0",
                 timeout: float = 30.0) -> None:
        self.base_url = base_url
        self.version = version if version.startswith("v") else f"v{version}"
        self.timeout = timeout

    def _graph(self, credentials: dict[str, str]) -> tuple[facebook.GraphAPI, PlatformSession]:
        token = credentials.get("page_access_token")
        if not token or not credentials.get("page_id"):
            raise PlatformError(ErrorKind.AUTH, "missing credentials: page_id, page_access_token",
                                code="missing_credentials")
        session = session_for(self.base_url, self.timeout)
        graph = facebook.GraphAPI(access_token=token, timeout=self.timeout, session=session)
        graph.version = self.version  # after construction: the SDK's check refuses v4+
        return graph, session

    def verify(self, credentials: dict[str, str]) -> AccountIdentity:
        graph, _ = self._graph(credentials)
        page = _call(lambda: graph.get_object(credentials["page_id"], fields="id,name"), sent=False)
        return AccountIdentity(external_id=str(page["id"]), handle=str(page["id"]),
                               name=str(page.get("name", "")))

    def publish(self, credentials: dict[str, str], content: Content) -> Published:
        graph, session = self._graph(credentials)
        fields = {"message": content.text}
        if content.link:
            fields["link"] = content.link
        created = _call(lambda: graph.put_object(credentials["page_id"], "feed", **fields),
                        sent=True)
        post_id = str(created["id"])
        exhausted = _usage_exhausted(session.last_headers)
        return Published(post_id, self._permalink(graph, post_id), rate_limited_until=exhausted)

    def _permalink(self, graph: facebook.GraphAPI, post_id: str) -> str:
        try:
            url = graph.get_object(post_id, fields="permalink_url").get("permalink_url")
        except (facebook.GraphAPIError, requests.RequestException):
            url = None  # the post exists; a missing link must not turn success into failure
        return url or f"https://www.facebook.com/{post_id}"

    def delete(self, credentials: dict[str, str], external_id: str) -> None:
        graph, _ = self._graph(credentials)
        _call(lambda: graph.delete_object(external_id), sent=False)

    def find_published(self, credentials: dict[str, str], content: Content, since: datetime,
                       exclude: frozenset[str] = frozenset()) -> Published | None:
        graph, _ = self._graph(credentials)
        page = _call(lambda: graph.get_connections(
            credentials["page_id"], "posts", fields="id,message,created_time,permalink_url",
            limit=100), sent=False)
        for post in page.get("data", []):
            created = _parse_time(post.get("created_time"))
            if created is not None and created < since:
                break
            if str(post["id"]) not in exclude and same_text(post.get("message", ""), content.text):
                return Published(str(post["id"]), post.get("permalink_url")
                                 or f"https://www.facebook.com/{post['id']}")
        return None


def _parse_time(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        return datetime.strptime(raw, "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return None


def _usage_exhausted(headers: dict[str, str]) -> datetime | None:
    """Graph gives percentages, not a reset time: pause the Page for a while when near 100 %."""
    for name in ("x-page-usage", "x-app-usage"):
        try:
            usage = json.loads(headers.get(name, "{}"))
        except ValueError:
            continue
        if max((v for v in usage.values() if isinstance(v, int | float)), default=0) \
                >= USAGE_CEILING:
            return utcnow() + timedelta(minutes=5)
    return None


def _call(fn: Callable[[], T], *, sent: bool) -> T:
    try:
        return fn()
    except facebook.GraphAPIError as exc:
        raise to_platform_error(exc) from exc
    except requests.RequestException as exc:
        raise network_error(exc, sent=sent) from exc


def to_platform_error(exc: facebook.GraphAPIError) -> PlatformError:
    body: dict[str, Any] = exc.result if isinstance(exc.result, dict) else {}
    error = body.get("error", {}) if isinstance(body.get("error"), dict) else {}
    code = error.get("code", exc.code)
    subcode = error.get("error_subcode")
    label = f"{code}/{subcode}" if subcode else str(code)
    message = str(exc.message or error.get("message") or exc)
    try:
        numeric = int(code)
    except (TypeError, ValueError):
        numeric = -1
    if numeric in AUTH_CODES:
        kind = ErrorKind.AUTH
    elif numeric in PERMISSION_CODES:
        kind = ErrorKind.PERMISSION
    elif numeric in RATE_CODES:
        kind = ErrorKind.RATE_LIMITED
    elif numeric == 506:
        kind = ErrorKind.DUPLICATE
    elif numeric in {1, 2}:
        kind = ErrorKind.TRANSIENT
    elif numeric in {100, 368, 1609005}:
        kind = ErrorKind.REJECTED
    else:
        kind = ErrorKind.UNKNOWN
    return PlatformError(kind, message, code=label)

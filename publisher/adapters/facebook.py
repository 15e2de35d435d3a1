"""Facebook Pages through facebook-sdk 3.1.0, the one place that knows its quirks.

facebook-sdk only accepts Graph versions up to 3.1 and refuses the ones Meta serves today, so the
client is built without a version and the current one is set afterwards (it is read per call).
Errors are detected by the `error` key of the body, not by HTTP status.
"""

from __future__ import annotations

import facebook
import requests

from publisher.adapters.base import AccountIdentity, Content, ErrorKind, PlatformError, Published
from publisher.adapters.redirect import RewriteSession, TimeoutSession

AUTH_CODES = {102, 190, 458, 459, 460, 463, 464, 467, 492}
PERMISSION_CODES = {10, 200, 210, 220, 230, 270, 299}
RATE_CODES = {4, 17, 32, 613, 80001}


class FacebookAdapter:
    def __init__(self, base_url: str | None = None, version: str = "v21.0",
                 timeout: float = 30.0) -> None:
        self.base_url = base_url
        self.version = version if version.startswith("v") else f"v{version}"
        self.timeout = timeout

    def _graph(self, credentials: dict[str, str]) -> facebook.GraphAPI:
        token = credentials.get("page_access_token")
        if not token or not credentials.get("page_id"):
            raise PlatformError(ErrorKind.AUTH, "missing credentials: page_id, page_access_token",
                                code="missing_credentials")
        session = (RewriteSession(self.base_url, self.timeout) if self.base_url
                   else TimeoutSession(self.timeout))
        graph = facebook.GraphAPI(access_token=token, timeout=self.timeout, session=session)
        graph.version = self.version  # after construction: the SDK's check refuses v4+
        return graph

    def verify(self, credentials: dict[str, str]) -> AccountIdentity:
        graph = self._graph(credentials)
        page = _call(lambda: graph.get_object(credentials["page_id"], fields="id,name"), sent=False)
        return AccountIdentity(external_id=str(page["id"]), handle=str(page["id"]),
                               name=str(page.get("name", "")))

    def publish(self, credentials: dict[str, str], content: Content) -> Published:
        graph = self._graph(credentials)
        fields = {"message": content.text}
        if content.link:
            fields["link"] = content.link
        created = _call(lambda: graph.put_object(credentials["page_id"], "feed", **fields),
                        sent=True)
        post_id = str(created["id"])
        try:
            url = graph.get_object(post_id, fields="permalink_url").get("permalink_url")
        except (facebook.GraphAPIError, requests.RequestException):
            url = None  # the post exists; a missing link must not turn success into failure
        return Published(post_id, url or f"https://www.facebook.com/{post_id}")

    def delete(self, credentials: dict[str, str], external_id: str) -> None:
        graph = self._graph(credentials)
        _call(lambda: graph.delete_object(external_id), sent=False)


def _call(fn, *, sent: bool):  # type: ignore[no-untyped-def]
    try:
        return fn()
    except facebook.GraphAPIError as exc:
        raise to_platform_error(exc) from exc
    except requests.RequestException as exc:
        raise PlatformError(ErrorKind.TRANSIENT, f"network error: {type(exc).__name__}",
                            code="network", outcome_unknown=sent) from exc


def to_platform_error(exc: facebook.GraphAPIError) -> PlatformError:
    body = exc.result if isinstance(exc.result, dict) else {}
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

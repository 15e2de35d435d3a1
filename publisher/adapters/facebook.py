"""Facebook Pages through facebook-sdk 3.1.0, the one place that knows its quirks.

facebook-sdk only accepts Graph versions up to 3.1 and refuses the ones Meta serves today, so the
client is built without a version and the current one is set afterwards (it is read per call).
Errors are detected by the `error` key of the body, not by HTTP status.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import facebook
import requests

from core.clock import utcnow
from publisher.adapters.base import (
    AccountIdentity,
    Content,
    CredentialCheck,
    ErrorKind,
    MediaRef,
    Metrics,
    PlatformError,
    Published,
    same_text,
)
from publisher.adapters.errors import network_error
from publisher.adapters.redirect import PlatformSession, session_for
from publisher.history_notes import FIRST_COMMENT_FAILED, FIRST_COMMENT_UNKNOWN, note

AUTH_CODES = {102, 190, 458, 459, 460, 463, 464, 467, 492}
PERMISSION_CODES = {10, 200, 210, 220, 230, 270, 299}
RATE_CODES = {4, 17, 32, 613, 80001}
# Back off before Meta cuts the Page off: its usage headers are percentages of the budget.
USAGE_CEILING = 95
T = TypeVar("T")


class FacebookAdapter:
    def __init__(self, base_url: str | None = None, version: str = "v21.0",
                 timeout: float = 30.0, post_url: str | None = None) -> None:
        """`post_url` formats links to a post from {id}, {page_id} and {number}."""
        self.base_url = base_url
        self.post_url = post_url or "https://www.facebook.com/{id}"
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
        """A text or link post on the Page's feed (Facebook builds the link preview), or a photo
        post: one published photo, or several unpublished photos attached to one feed post.
        The first comment follows; if it fails the post stays and a warning says why."""
        graph, session = self._graph(credentials)
        page_id = credentials["page_id"]
        if content.reply_to:
            return self._publish_reply(graph, session, page_id, content)
        if content.media:
            post_id = self._publish_photos(graph, page_id, content)
        else:
            fields = {"message": content.text}
            if content.link:
                fields["link"] = content.link
            created = _call(lambda: graph.put_object(page_id, "feed", **fields), sent=True)
            post_id = str(created["id"])
        warnings = self._first_comment(graph, post_id, content.first_comment)
        exhausted = _usage_exhausted(session.last_headers)
        return Published(post_id, self._permalink(graph, post_id), rate_limited_until=exhausted,
                         warnings=warnings)

    def _publish_reply(self, graph: facebook.GraphAPI, session: PlatformSession, page_id: str,
                       content: Content) -> Published:
        """A comment by the Page under the post or comment answered (a comment has no link
        preview: the link goes into its words)."""
        text = _reply_text(content)
        reply_to = str(content.reply_to)
        created = _call(lambda: graph.put_object(reply_to, "comments", message=text), sent=True)
        comment_id = str(created["id"])
        return Published(comment_id, self._comment_link(page_id, comment_id),
                         rate_limited_until=_usage_exhausted(session.last_headers))

    def _comment_link(self, page_id: str, comment_id: str) -> str:
        """A comment's address: its post's, with ?comment_id= (a comment id is
        <post number>_<comment number>), built like a post's."""
        post_number, _, number = comment_id.rpartition("_")
        if "{id}" in self.post_url or not post_number:
            return self.post_url.format(id=comment_id, page_id=page_id, number=number)
        url = self.post_url.format(id=comment_id, page_id=page_id, number=post_number)
        return f"{url}?comment_id={number}"

    def _find_reply(self, graph: facebook.GraphAPI, page_id: str, content: Content,
                    since: datetime, exclude: frozenset[str]) -> Published | None:
        """The Page's comment with these words under the post or comment answered."""
        reply_to, text = str(content.reply_to), _reply_text(content)
        comments = _call(lambda: graph.get_connections(
            reply_to, "comments", fields="id,message,created_time,from",
            order="reverse_chronological", filter="toplevel", limit=100), sent=False)
        for comment in comments.get("data", []):
            created = _parse_time(comment.get("created_time"))
            if created is not None and created < since:
                break
            author = comment.get("from") if isinstance(comment.get("from"), dict) else {}
            if str(comment["id"]) not in exclude and str(author.get("id")) == page_id \
                    and same_text(comment.get("message", ""), text):
                return Published(str(comment["id"]),
                                 self._comment_link(page_id, str(comment["id"])))
        return None

    @classmethod
    def _first_comment(cls, graph: facebook.GraphAPI, post_id: str, text: str | None,
                       look_first: bool = False) -> tuple[str, ...]:
        """Comment under the post; a failure leaves the post and becomes a warning. With
        `look_first` (a post found on reconcile: the comment may be there already) the post's
        comments are read first, so it is never written twice. A write whose answer was lost
        may have been carried out: the comments are read before the history says either way."""
        if not text:
            return ()
        try:
            if look_first and cls._has_comment(graph, post_id, text):
                return ()
            _call(lambda: graph.put_object(post_id, "comments", message=text), sent=True)
        except PlatformError as exc:
            if not exc.outcome_unknown:
                return (note(FIRST_COMMENT_FAILED, reason=exc.message),)
            try:
                there = cls._has_comment(graph, post_id, text)
            except PlatformError as looking:
                return (note(FIRST_COMMENT_UNKNOWN, reason=looking.message),)
            return () if there else (note(FIRST_COMMENT_FAILED, reason=exc.message),)
        return ()

    @staticmethod
    def _has_comment(graph: facebook.GraphAPI, post_id: str, text: str) -> bool:
        comments = _call(lambda: graph.get_connections(
            post_id, "comments", fields="message", limit=100), sent=False)
        return any(same_text(c.get("message", ""), text) for c in comments.get("data", []))

    def _publish_photos(self, graph: facebook.GraphAPI, page_id: str, content: Content) -> str:
        # A photo post has no link preview: the link goes into the caption, as on X.
        caption = content.text
        if content.link and content.link not in caption:
            caption = f"{caption}\n\n{content.link}"
        album = f"{page_id}/photos"
        if len(content.media) == 1:
            created = self._upload_photo(graph, album, content.media[0], caption=caption,
                                         sent=True)
            return str(created.get("post_id") or created["id"])
        photo_ids: list[str] = []
        try:
            for ref in content.media:
                created = self._upload_photo(graph, album, ref, published=False, sent=False)
                photo_ids.append(str(created["id"]))
        except PlatformError:
            self._discard(graph, photo_ids)  # unpublished, so never seen; tidy up anyway
            raise
        attached = {f"attached_media[{n}]": json.dumps({"media_fbid": photo_id})
                    for n, photo_id in enumerate(photo_ids)}
        created = _call(lambda: graph.put_object(page_id, "feed", message=caption, **attached),
                        sent=True)
        return str(created["id"])

    @staticmethod
    def _upload_photo(graph: facebook.GraphAPI, album: str, ref: MediaRef, *, sent: bool,
                      **fields: Any) -> dict[str, Any]:
        if ref.alt_text:
            fields["alt_text_custom"] = ref.alt_text
        name = ref.name or ref.path.rsplit("/", 1)[-1]
        try:
            with open(ref.path, "rb") as image:
                return _call(lambda: graph.put_photo(image, album_path=album, **fields), sent=sent)
        except FileNotFoundError:
            raise PlatformError(ErrorKind.REJECTED, f"{name}: the stored file is missing",
                                code="media_missing") from None
        except PlatformError as exc:
            raise PlatformError(exc.kind, f"{name}: {_user_message(exc)}", code=exc.code,
                                retry_at=exc.retry_at,
                                outcome_unknown=exc.outcome_unknown) from exc

    @staticmethod
    def _discard(graph: facebook.GraphAPI, object_ids: list[str]) -> None:
        for object_id in object_ids:
            with contextlib.suppress(facebook.GraphAPIError, requests.RequestException):
                graph.delete_object(object_id)

    def _permalink(self, graph: facebook.GraphAPI, post_id: str) -> str:
        """The post's address, built rather than fetched: one call less per post, and a lookup
        that fails can never turn a published post into a failure."""
        page_id, _, number = post_id.rpartition("_")
        return self.post_url.format(id=post_id, page_id=page_id or post_id, number=number)

    def delete(self, credentials: dict[str, str], external_id: str) -> None:
        graph, _ = self._graph(credentials)
        _call(lambda: graph.delete_object(external_id), sent=False)

    def find_published(self, credentials: dict[str, str], content: Content, since: datetime,
                       exclude: frozenset[str] = frozenset()) -> Published | None:
        graph, _ = self._graph(credentials)
        if content.reply_to:
            return self._find_reply(graph, credentials["page_id"], content, since, exclude)
        page = _call(lambda: graph.get_connections(
            credentials["page_id"], "posts", fields="id,message,created_time,permalink_url",
            limit=100), sent=False)
        for post in page.get("data", []):
            created = _parse_time(post.get("created_time"))
            if created is not None and created < since:
                break
            if str(post["id"]) not in exclude and same_text(post.get("message", ""), content.text):
                # The lost answer may have cost the first comment too: finish the post.
                return Published(str(post["id"]), post.get("permalink_url")
                                 or f"https://www.facebook.com/{post['id']}",
                                 warnings=self._first_comment(graph, str(post["id"]),
                                                              content.first_comment,
                                                              look_first=True))
        return None

    # -- after publishing: metrics and the daily token check ---------------------------------

    metrics_fields = "shares,reactions.limit(0).summary(true),comments.limit(0).summary(true)"
    required_scopes = ("pages_manage_posts",)

    def fetch_metrics(self, credentials: dict[str, str],
                      external_ids: Sequence[str]) -> dict[str, Metrics]:
        """Reactions (as likes), shares and comments, one GET per post: a batched ?ids= call
        fails as a whole when one post is gone. Impressions need Page insights: left None."""
        graph, _ = self._graph(credentials)
        found: dict[str, Metrics] = {}
        for post_id in dict.fromkeys(str(i) for i in external_ids):
            try:
                node = _call(lambda p=post_id: graph.get_object(p, fields=self.metrics_fields),
                             sent=False)
            except PlatformError as exc:
                if exc.code == "100/33":  # "Object with ID … does not exist": deleted
                    found[post_id] = Metrics.gone()
                    continue
                if found:
                    return found  # keep what was read; the rest is asked for next time
                raise
            shares = node.get("shares") if isinstance(node.get("shares"), dict) else {}
            found[post_id] = Metrics(likes=self._total(node.get("reactions")),
                                     reposts=int(shares.get("count", 0)),
                                     comments=self._total(node.get("comments")))
        return found

    @staticmethod
    def _total(edge: object) -> int:
        summary = edge.get("summary") if isinstance(edge, dict) else None
        return int(summary.get("total_count", 0)) if isinstance(summary, dict) else 0

    def check_credentials(self, credentials: dict[str, str]) -> CredentialCheck:
        """GET /debug_token?input_token=<Page token>: data.is_valid, data.expires_at (0 = never)
        and the scopes. The caller is the app token when the credentials hold one
        (app_access_token = "app_id|app_secret"); otherwise the Page token inspects itself."""
        try:
            graph, _ = self._graph(credentials)
        except PlatformError as exc:
            return CredentialCheck.broken(exc.message, exc.code)
        token = credentials["page_access_token"]
        args = {"input_token": token,
                "access_token": credentials.get("app_access_token") or token}
        try:
            answer = _call(lambda: graph.request(f"{graph.version}/debug_token", args=args),
                           sent=False)
        except PlatformError as exc:
            if exc.kind is ErrorKind.AUTH:
                return CredentialCheck.broken(exc.message, exc.code)
            raise
        data = answer.get("data") if isinstance(answer, dict) else None
        if not isinstance(data, dict):
            raise PlatformError(ErrorKind.UNKNOWN, "debug_token answered without data",
                                code="debug_token")
        if not data.get("is_valid"):
            error = data.get("error") if isinstance(data.get("error"), dict) else {}
            code = "/".join(str(c) for c in (error.get("code"), error.get("subcode")) if c)
            return CredentialCheck.broken(
                str(error.get("message") or "the access token is no longer valid"),
                code or "invalid")
        profile = str(data.get("profile_id") or "")
        if profile and profile != credentials["page_id"]:
            return CredentialCheck.broken("the token belongs to another Page", "other_page")
        scopes = data.get("scopes")
        missing = [s for s in self.required_scopes if isinstance(scopes, list) and s not in scopes]
        if missing:
            return CredentialCheck.broken(f"the token lacks the permission {', '.join(missing)}",
                                          "scope")
        expires = int(data.get("expires_at") or 0)
        expires_at = datetime.fromtimestamp(expires, UTC) if expires > 0 else None
        return CredentialCheck.valid_until(expires_at, utcnow())


def _reply_text(content: Content) -> str:
    if content.link and content.link not in content.text:
        return f"{content.text}\n\n{content.link}"
    return content.text


def _user_message(exc: PlatformError) -> str:
    """Graph's message, with the explanation it writes for people when it gives one."""
    cause = exc.__cause__
    body = getattr(cause, "result", None)
    error = body.get("error") if isinstance(body, dict) else None
    user_message = error.get("error_user_msg") if isinstance(error, dict) else None
    return f"{exc.message} ({user_message})" if user_message else exc.message


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
    elif numeric in {100, 324, 368, 1609005}:  # 324: the photo file is missing or unreadable
        kind = ErrorKind.REJECTED
    else:
        kind = ErrorKind.UNKNOWN
    return PlatformError(kind, message, code=label)

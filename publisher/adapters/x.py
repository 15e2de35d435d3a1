"""X through the unmodified tweepy.Client (API v2, OAuth 1.0a user context)."""

from __future__ import annotations

from datetime import UTC, datetime

import requests
import tweepy

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

MAX_RECONCILE_PAGES = 5
REQUIRED = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")


class XAdapter:
    def __init__(self, base_url: str | None = None, status_url: str | None = None,
                 timeout: float = 30.0) -> None:
        """`base_url` sends API calls to the sandbox; `status_url` formats links to a post."""
        self.base_url = base_url
        self.timeout = timeout
        self.status_url = status_url or "https://x.com/{username}/status/{id}"

    def _client(self, credentials: dict[str, str]) -> tuple[tweepy.Client, PlatformSession]:
        missing = [k for k in REQUIRED if not credentials.get(k)]
        if missing:
            raise PlatformError(ErrorKind.AUTH, f"missing credentials: {', '.join(missing)}",
                                code="missing_credentials")
        client = tweepy.Client(**{k: credentials[k] for k in REQUIRED})
        client.session = session = session_for(self.base_url, self.timeout)
        return client, session

    def _url(self, credentials: dict[str, str], tweet_id: str) -> str:
        return self.status_url.format(username=credentials.get("username", "i/web"), id=tweet_id)

    def verify(self, credentials: dict[str, str]) -> AccountIdentity:
        client, _ = self._client(credentials)
        with _translated(sent=False):
            me = client.get_me(user_auth=True).data
        return AccountIdentity(external_id=str(me.id), handle=me.username, name=me.name)

    def publish(self, credentials: dict[str, str], content: Content) -> Published:
        client, session = self._client(credentials)
        with _translated(sent=True):
            data = client.create_tweet(text=tweet_text(content), user_auth=True).data
        tweet_id = str(data["id"])
        return Published(tweet_id, self._url(credentials, tweet_id),
                         rate_limited_until=_exhausted_until(session.last_headers))

    def delete(self, credentials: dict[str, str], external_id: str) -> None:
        client, _ = self._client(credentials)
        with _translated(sent=False):
            client.delete_tweet(external_id, user_auth=True)

    def find_published(self, credentials: dict[str, str], content: Content, since: datetime,
                       exclude: frozenset[str] = frozenset()) -> Published | None:
        client, _ = self._client(credentials)
        user_id = credentials.get("user_id") or credentials["access_token"].split("-", 1)[0]
        expected = tweet_text(content)
        token = None
        for _ in range(MAX_RECONCILE_PAGES):
            with _translated(sent=False):
                page = client.get_users_tweets(user_id, max_results=100, user_auth=True,
                                               tweet_fields=["created_at"],
                                               pagination_token=token)
            for tweet in page.data or []:
                if tweet.created_at is not None and tweet.created_at < since:
                    return None  # newest first: everything further down is older
                if str(tweet.id) not in exclude and same_text(tweet.text, expected):
                    return Published(str(tweet.id), self._url(credentials, str(tweet.id)))
            token = (page.meta or {}).get("next_token")
            if not token:
                return None
        return None


def tweet_text(content: Content) -> str:
    if content.link and content.link not in content.text:
        return f"{content.text}\n\n{content.link}"
    return content.text


def _exhausted_until(headers: dict[str, str]) -> datetime | None:
    remaining, reset = headers.get("x-rate-limit-remaining"), headers.get("x-rate-limit-reset")
    if remaining == "0" and reset and reset.isdigit():
        return datetime.fromtimestamp(int(reset), UTC)
    return None


class _translated:
    """Turns tweepy/requests exceptions raised inside the block into PlatformError."""

    def __init__(self, sent: bool) -> None:
        self.sent = sent

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: type | None, exc: BaseException | None, _tb: object) -> bool:
        if exc is None or isinstance(exc, PlatformError):
            return False
        translated = to_platform_error(exc, sent=self.sent)
        if translated is exc:
            return False
        raise translated from exc


def to_platform_error(exc: BaseException, *, sent: bool) -> BaseException:
    if isinstance(exc, tweepy.TooManyRequests):
        reset = exc.response.headers.get("x-rate-limit-reset") if exc.response is not None else None
        retry_at = datetime.fromtimestamp(int(reset), UTC) if reset and reset.isdigit() else None
        return PlatformError(ErrorKind.RATE_LIMITED, _message(exc), code="429", retry_at=retry_at)
    if isinstance(exc, tweepy.Unauthorized):
        return PlatformError(ErrorKind.AUTH, _message(exc), code="401")
    if isinstance(exc, tweepy.Forbidden):
        text = _message(exc)
        if "duplicate content" in text:
            return PlatformError(ErrorKind.DUPLICATE, text, code="403-duplicate")
        return PlatformError(ErrorKind.PERMISSION, text, code="403")
    if isinstance(exc, tweepy.TwitterServerError):
        return PlatformError(ErrorKind.TRANSIENT, _message(exc),
                             code=str(exc.response.status_code), outcome_unknown=sent)
    if isinstance(exc, tweepy.BadRequest):
        return PlatformError(ErrorKind.REJECTED, _message(exc), code="400")
    if isinstance(exc, tweepy.HTTPException):
        return PlatformError(ErrorKind.UNKNOWN, _message(exc),
                             code=str(exc.response.status_code))
    if isinstance(exc, requests.RequestException):
        return network_error(exc, sent=sent)
    return exc


def _message(exc: tweepy.HTTPException) -> str:
    messages = [m for m in exc.api_messages if m]
    if messages:
        return "; ".join(messages)
    return f"{exc.response.status_code} {exc.response.reason}"

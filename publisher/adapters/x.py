"""X through the unmodified tweepy.Client (API v2, OAuth 1.0a user context)."""

from __future__ import annotations

from datetime import UTC, datetime

import requests
import tweepy

from publisher.adapters.base import AccountIdentity, Content, ErrorKind, PlatformError, Published
from publisher.adapters.redirect import RewriteSession, TimeoutSession

REQUIRED = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")


class XAdapter:
    def __init__(self, base_url: str | None = None, status_url: str | None = None,
                 timeout: float = 30.0) -> None:
        """`base_url` sends API calls to the sandbox; `status_url` formats links to a post."""
        self.base_url = base_url
        self.timeout = timeout
        self.status_url = status_url or "https://x.com/{username}/status/{id}"

    def _client(self, credentials: dict[str, str]) -> tweepy.Client:
        missing = [k for k in REQUIRED if not credentials.get(k)]
        if missing:
            raise PlatformError(ErrorKind.AUTH, f"missing credentials: {', '.join(missing)}",
                                code="missing_credentials")
        client = tweepy.Client(**{k: credentials[k] for k in REQUIRED})
        client.session = (RewriteSession(self.base_url, self.timeout) if self.base_url
                          else TimeoutSession(self.timeout))
        return client

    def verify(self, credentials: dict[str, str]) -> AccountIdentity:
        client = self._client(credentials)
        with translate_errors(sent=False):
            me = client.get_me(user_auth=True).data
        return AccountIdentity(external_id=str(me.id), handle=me.username, name=me.name)

    def publish(self, credentials: dict[str, str], content: Content) -> Published:
        client = self._client(credentials)
        text = content.text
        if content.link and content.link not in text:
            text = f"{text}\n\n{content.link}"
        with translate_errors(sent=True):
            data = client.create_tweet(text=text, user_auth=True).data
        tweet_id = str(data["id"])
        username = credentials.get("username", "i/web")
        return Published(tweet_id, self.status_url.format(username=username, id=tweet_id))

    def delete(self, credentials: dict[str, str], external_id: str) -> None:
        client = self._client(credentials)
        with translate_errors(sent=False):
            client.delete_tweet(external_id, user_auth=True)


class translate_errors:
    """Context manager turning tweepy/requests exceptions into PlatformError."""

    def __init__(self, sent: bool) -> None:
        self.sent = sent

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: type | None, exc: BaseException | None, _tb: object) -> bool:
        if exc is None:
            return False
        raise to_platform_error(exc, sent=self.sent) from exc


def to_platform_error(exc: BaseException, *, sent: bool) -> BaseException:
    if isinstance(exc, PlatformError):
        return exc
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
    if isinstance(exc, requests.ConnectionError | requests.Timeout):
        return PlatformError(ErrorKind.TRANSIENT, f"network error: {type(exc).__name__}",
                             code="network", outcome_unknown=sent)
    if isinstance(exc, requests.RequestException):
        return PlatformError(ErrorKind.TRANSIENT, f"network error: {type(exc).__name__}",
                             code="network", outcome_unknown=sent)
    return exc


def _message(exc: tweepy.HTTPException) -> str:
    messages = [m for m in exc.api_messages if m]
    if messages:
        return "; ".join(messages)
    return f"{exc.response.status_code} {exc.response.reason}"

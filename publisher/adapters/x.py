"""X through the unmodified tweepy.Client (API v2, OAuth 1.0a user context).

Images go up through tweepy.API's v1.1 media upload (tweepy 4.17 has no v2 upload), with alt text
set by media/metadata/create, before the tweet that carries them. A thread is the first tweet and
then each part as a reply to the one before; it is all or nothing: when a part fails, the parts
already out are deleted again and the delivery fails or retries as a whole.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import requests
import tweepy

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
        media_ids = self._upload_media(credentials, content.media)
        with _translated(sent=True):
            data = client.create_tweet(text=tweet_text(content), media_ids=media_ids or None,
                                       in_reply_to_tweet_id=content.reply_to,
                                       user_auth=True).data
        tweet_id = str(data["id"])
        if content.thread:
            self._publish_thread(client, tweet_id, content.thread)
        return Published(tweet_id, self._url(credentials, tweet_id),
                         rate_limited_until=_exhausted_until(session.last_headers))

    def _publish_thread(self, client: tweepy.Client, first_id: str, parts: tuple[str, ...]
                        ) -> None:
        """Each part as a reply to the one before; on failure take back what went out."""
        posted = [first_id]
        for number, part in enumerate(parts, 2):
            try:
                with _translated(sent=True):
                    data = client.create_tweet(text=part, in_reply_to_tweet_id=posted[-1],
                                               user_auth=True).data
            except PlatformError as exc:
                cleaned = self._take_back(client, posted)
                raise PlatformError(
                    exc.kind, f"thread part {number} of {len(parts) + 1}: {exc.message}"
                    + ("" if cleaned else " (the parts already out could not all be deleted)"),
                    code=exc.code, retry_at=exc.retry_at,
                    # The part may exist, or parts we could not delete still do: look first.
                    outcome_unknown=exc.outcome_unknown or not cleaned) from exc
            posted.append(str(data["id"]))

    def _take_back(self, client: tweepy.Client, tweet_ids: list[str]) -> bool:
        """Delete tweets, newest first; True when every one is gone."""
        cleaned = True
        for tweet_id in reversed(tweet_ids):
            try:
                with _translated(sent=False):
                    client.delete_tweet(tweet_id, user_auth=True)
            except PlatformError:
                cleaned = False
        return cleaned

    def _upload_media(self, credentials: dict[str, str], media: tuple[MediaRef, ...]
                      ) -> list[str]:
        """Upload each image through v1.1 and set its alt text; returns the media ids."""
        if not media:
            return []
        auth = tweepy.OAuth1UserHandler(*(credentials[k] for k in REQUIRED))
        api = tweepy.API(auth=auth, timeout=self.timeout)
        api.session = session_for(self.base_url, self.timeout)
        ids = []
        for ref in media:
            with _about(ref):
                try:
                    with open(ref.path, "rb") as file, _translated(sent=False):
                        uploaded = api.media_upload(filename=Path(ref.path).name, file=file)
                except FileNotFoundError:
                    raise PlatformError(ErrorKind.REJECTED, "the stored file is missing",
                                        code="media_missing") from None
                media_id = str(uploaded.media_id_string)
                if ref.alt_text:
                    with _translated(sent=False):
                        api.create_media_metadata(media_id, ref.alt_text)
            ids.append(media_id)
        return ids

    def delete(self, credentials: dict[str, str], external_id: str) -> None:
        client, _ = self._client(credentials)
        with _translated(sent=False):
            client.delete_tweet(external_id, user_auth=True)

    def find_published(self, credentials: dict[str, str], content: Content, since: datetime,
                       exclude: frozenset[str] = frozenset()) -> Published | None:
        client, _ = self._client(credentials)
        user_id = credentials.get("user_id") or credentials["access_token"].split("-", 1)[0]
        expected = tweet_text(content)
        if content.thread:
            return self._find_thread(client, credentials, user_id, content, since, exclude)
        token = None
        for _ in range(MAX_RECONCILE_PAGES):
            with _translated(sent=False):
                page = client.get_users_tweets(user_id, max_results=100, user_auth=True,
                                               tweet_fields=["created_at", "referenced_tweets"],
                                               pagination_token=token)
            for tweet in page.data or []:
                if tweet.created_at is not None and tweet.created_at < since:
                    return None  # newest first: everything further down is older
                # A reply is ours only under the post it answers; a post only if it is no reply
                # (the same words may answer someone else, or go out on their own).
                if str(tweet.id) not in exclude and same_text(tweet.text, expected) \
                        and _replied_to(tweet) == content.reply_to:
                    return Published(str(tweet.id), self._url(credentials, str(tweet.id)))
            token = (page.meta or {}).get("next_token")
            if not token:
                return None
        return None

    # -- after publishing: metrics and the daily token check ---------------------------------

    metrics_batch = 100  # GET /2/tweets takes at most 100 ids

    def fetch_metrics(self, credentials: dict[str, str],
                      external_ids: Sequence[str]) -> dict[str, Metrics]:
        """public_metrics of the account's tweets, 100 ids a call. X answers 200 with errors[]
        for ids it cannot find (deleted): those map to Metrics.gone()."""
        client, _ = self._client(credentials)
        ids = list(dict.fromkeys(str(i) for i in external_ids))
        found: dict[str, Metrics] = {}
        for start in range(0, len(ids), self.metrics_batch):
            chunk = ids[start:start + self.metrics_batch]
            with _translated(sent=False):
                answer = client.get_tweets(chunk, tweet_fields=["public_metrics"], user_auth=True)
            for tweet in answer.data or []:
                counts = tweet.public_metrics or {}
                impressions = counts.get("impression_count")
                found[str(tweet.id)] = Metrics(
                    likes=int(counts.get("like_count", 0)),
                    reposts=int(counts.get("retweet_count", 0)),
                    replies=int(counts.get("reply_count", 0)),
                    quotes=int(counts.get("quote_count", 0)),
                    impressions=int(impressions) if impressions is not None else None)
            for error in answer.errors or []:
                missing = str(error.get("resource_id") or error.get("value") or "")
                if missing in chunk and str(error.get("type", "")).endswith("resource-not-found"):
                    found[missing] = Metrics.gone()
        return found

    def check_credentials(self, credentials: dict[str, str]) -> CredentialCheck:
        """OAuth 1.0a user tokens do not expire: they work until revoked. GET /2/users/me
        answers for a working token; 401 (or missing credentials) means broken."""
        try:
            me = self.verify(credentials)
        except PlatformError as exc:
            if exc.kind is ErrorKind.AUTH:
                return CredentialCheck.broken(exc.message, exc.code)
            raise
        expected = credentials.get("user_id")
        if expected and me.external_id != expected:
            return CredentialCheck.broken(
                f"the token belongs to @{me.handle}, not to this account", "other_user")
        return CredentialCheck.ok()


    def _find_thread(self, client: tweepy.Client, credentials: dict[str, str], user_id: str,
                     content: Content, since: datetime, exclude: frozenset[str]
                     ) -> Published | None:
        """Reconciling a thread: found whole, it is published. Found in part, what exists is
        deleted and None is answered, so the whole thread is sent again; never completed from
        the middle, where a part would sit unseen below tweets that followers already saw.
        Replies of ours left without their first tweet (an earlier clean-up that failed) are
        deleted too. A deletion that fails raises, so the delivery stays uncertain."""
        tweets = list(self._recent(client, user_id, since))
        replied_to = {t.id: _replied_to(t) for t in tweets}
        first_text = tweet_text(content)
        chains = []
        for first in reversed(tweets):  # oldest first
            if first.id in exclude or replied_to[first.id] is not None \
                    or not same_text(first.text, first_text):
                continue
            chain = [first.id]
            for part in content.thread:
                reply = next((t.id for t in reversed(tweets) if replied_to[t.id] == chain[-1]
                              and same_text(t.text, part)), None)
                if reply is None:
                    break
                chain.append(reply)
            if len(chain) == len(content.thread) + 1:
                return Published(first.id, self._url(credentials, first.id))
            chains.append(chain)
        doomed = [tweet_id for chain in chains for tweet_id in chain]
        doomed += self._orphans(client, tweets, replied_to, content.thread, exclude, doomed)
        if doomed and not self._take_back(client, doomed):
            raise PlatformError(ErrorKind.TRANSIENT, "could not delete an incomplete thread",
                                code="thread_cleanup")
        return None

    @staticmethod
    def _orphans(client: tweepy.Client, tweets: list[tweepy.Tweet],
                 replied_to: dict[str, str | None], parts: tuple[str, ...],
                 exclude: frozenset[str], doomed: list[str]) -> list[str]:
        """Replies with the text of one of our parts whose parent is gone or going: left over
        from an earlier attempt whose clean-up failed. Replies to live tweets are left alone."""
        listed = {t.id for t in tweets}
        candidates = [t.id for t in tweets if t.id not in exclude and t.id not in doomed
                      and replied_to[t.id] is not None
                      and any(same_text(t.text, part) for part in parts)]
        gone: set[str] = set(doomed)
        unknown = sorted({replied_to[c] for c in candidates} - listed - gone)
        if unknown:
            with _translated(sent=False):
                found = client.get_tweets(unknown[:100], user_auth=True).data or []
            gone |= set(unknown[:100]) - {str(t.id) for t in found}
        orphans: list[str] = []
        while True:  # a part below an orphan is an orphan too
            more = [c for c in candidates if c not in orphans and replied_to[c] in gone]
            if not more:
                return orphans
            orphans += more
            gone |= set(more)

    def _recent(self, client: tweepy.Client, user_id: str, since: datetime
                ) -> Iterator[tweepy.Tweet]:
        """The account's tweets (replies included) made since `since`, newest first."""
        token = None
        for _ in range(MAX_RECONCILE_PAGES):
            with _translated(sent=False):
                page = client.get_users_tweets(
                    user_id, max_results=100, user_auth=True, pagination_token=token,
                    tweet_fields=["created_at", "conversation_id", "referenced_tweets"])
            for tweet in page.data or []:
                if tweet.created_at is not None and tweet.created_at < since:
                    return
                tweet.id = str(tweet.id)  # compared with our string ids
                yield tweet
            token = (page.meta or {}).get("next_token")
            if not token:
                return


def _replied_to(tweet: tweepy.Tweet) -> str | None:
    for ref in tweet.referenced_tweets or []:
        if ref.type == "replied_to":
            return str(ref.id)
    return None


class _about:
    """Names the image in any PlatformError raised inside the block: "image 2: …"."""

    def __init__(self, ref: MediaRef) -> None:
        self.ref = ref

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: type | None, exc: BaseException | None, _tb: object) -> bool:
        if not isinstance(exc, PlatformError):
            return False
        kind = ErrorKind.REJECTED if exc.kind is ErrorKind.UNKNOWN and exc.code == "413" \
            else exc.kind
        raise PlatformError(kind, f"{self.ref.name or Path(self.ref.path).name}: {exc.message}",
                            code=exc.code, retry_at=exc.retry_at,
                            outcome_unknown=exc.outcome_unknown) from exc


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
        if "reply to a Tweet" in text:  # the post answered is deleted or hidden: never will do
            return PlatformError(ErrorKind.REJECTED, text, code="403-reply")
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
    if isinstance(exc, tweepy.TweepyException) and isinstance(exc.__context__,
                                                              requests.RequestException):
        return network_error(exc.__context__, sent=sent)  # tweepy.API wraps network errors
    return exc


def _message(exc: tweepy.HTTPException) -> str:
    messages = [m for m in exc.api_messages if m]
    if messages:
        return "; ".join(messages)
    return f"{exc.response.status_code} {exc.response.reason}"

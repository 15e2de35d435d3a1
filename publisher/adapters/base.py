"""The interface every platform adapter keeps, and the errors it speaks.

Adapters translate each platform's errors into PlatformError with a kind the delivery state
machine understands; the raw platform message is kept for the history, never the credentials.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol


class ErrorKind(enum.StrEnum):
    AUTH = "auth"  # token expired, revoked or wrong: reconnect the account
    PERMISSION = "permission"  # the app or token lacks a permission
    DUPLICATE = "duplicate"  # the platform refuses the same text twice
    REJECTED = "rejected"  # content or parameters refused
    RATE_LIMITED = "rate_limited"
    TRANSIENT = "transient"  # 5xx, network: may work if tried again
    UNKNOWN = "unknown"

    @property
    def permanent(self) -> bool:
        return self in {ErrorKind.AUTH, ErrorKind.PERMISSION, ErrorKind.DUPLICATE,
                        ErrorKind.REJECTED}


class PlatformError(Exception):
    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        code: str = "",
        retry_at: datetime | None = None,
        outcome_unknown: bool = False,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.code = code
        self.retry_at = retry_at
        # True when the request may have reached the platform (timeout, dropped connection):
        # the post may exist, so it must be reconciled before any resend.
        self.outcome_unknown = outcome_unknown


@dataclass(frozen=True)
class AccountIdentity:
    external_id: str
    handle: str
    name: str


@dataclass(frozen=True)
class Published:
    external_id: str
    url: str
    # When the platform says this account's budget is spent: nobody calls before this time.
    rate_limited_until: datetime | None = None
    # Published, but something around it did not work (a first comment): for the history.
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class MediaRef:
    """An image to attach: the stored file, its type and the description for screen readers."""

    path: str  # absolute
    mime: str
    alt_text: str = ""
    name: str = ""  # how errors name it, e.g. "image 2"


@dataclass(frozen=True)
class Content:
    text: str
    link: str | None = None
    media: tuple[MediaRef, ...] = ()
    thread: tuple[str, ...] = ()  # X: follow-up tweets, each replying to the one before
    first_comment: str | None = None  # Facebook: written under the post once it is out
    # A reply: the X post, or the Facebook post or comment, it is written under (in its thread).
    reply_to: str | None = None


class PlatformAdapter(Protocol):
    def verify(self, credentials: dict[str, str]) -> AccountIdentity:
        """Check the credentials against the platform and say whose they are."""
        ...

    def publish(self, credentials: dict[str, str], content: Content) -> Published:
        ...

    def delete(self, credentials: dict[str, str], external_id: str) -> None:
        ...

    def find_published(self, credentials: dict[str, str], content: Content, since: datetime,
                       exclude: frozenset[str] = frozenset()) -> Published | None:
        """The account's post with this content made since `since`, if there is one.

        Recovery asks this before resending anything whose outcome was lost; `exclude` holds
        ids already known to belong to other deliveries.
        """
        ...

    def fetch_metrics(self, credentials: dict[str, str],
                      external_ids: Sequence[str]) -> dict[str, Metrics]:
        """The current public numbers of these posts of the account, batched where the API can.

        Posts the platform says no longer exist map to `Metrics.gone()`; ids it said nothing
        about are left out (ask again later). Raises PlatformError when the call as a whole fails.
        """
        ...

    def check_credentials(self, credentials: dict[str, str]) -> CredentialCheck:
        """Whether the token works now and when it stops working, without publishing anything.

        Raises PlatformError only when the platform could not be asked (network, 5xx, rate limit);
        a refused token is an answer: `CredentialCheck.broken(reason)`.
        """
        ...


def same_text(published: str, expected: str) -> bool:
    """Compare post texts the way platforms change them: links rewritten, spaces folded."""
    return _normalise(published) == _normalise(expected)


def _normalise(text: str) -> str:
    without_links = re.sub(r"https?://\S+", " ", text)
    return " ".join(unicodedata.normalize("NFC", without_links).split()).casefold()


@dataclass(frozen=True)
class Metrics:
    """A post's public numbers at one moment. Each platform fills what it has: X likes, reposts
    (retweets), replies, quotes and impressions; Facebook likes (all reactions), reposts (shares)
    and comments. `impressions` is None where the API does not give it."""

    likes: int = 0
    reposts: int = 0
    replies: int = 0
    quotes: int = 0
    comments: int = 0
    impressions: int | None = None
    is_gone: bool = False  # the platform says the post no longer exists (deleted or hidden)

    @classmethod
    def gone(cls) -> Metrics:
        return cls(is_gone=True)


class CredentialState(enum.StrEnum):
    OK = "ok"
    EXPIRING = "expiring"  # works now, stops at expires_at (within EXPIRY_WARNING)
    BROKEN = "broken"  # the platform refuses the token


# Warn this long before a token stops working; a week leaves time to reconnect.
EXPIRY_WARNING = timedelta(days=7)


@dataclass(frozen=True)
class CredentialCheck:
    """The answer of PlatformAdapter.check_credentials."""

    state: CredentialState
    expires_at: datetime | None = None  # when known; None also for tokens that never expire
    reason: str = ""  # the platform's words when broken
    code: str = ""

    @classmethod
    def ok(cls) -> CredentialCheck:
        return cls(CredentialState.OK)

    @classmethod
    def broken(cls, reason: str, code: str = "") -> CredentialCheck:
        return cls(CredentialState.BROKEN, reason=reason, code=code)

    @classmethod
    def valid_until(cls, expires_at: datetime | None, now: datetime) -> CredentialCheck:
        """A working token: expiring when it stops within EXPIRY_WARNING, else ok."""
        if expires_at is not None and expires_at <= now:
            return cls(CredentialState.BROKEN, expires_at, "the access token has expired",
                       "expired")
        if expires_at is not None and expires_at - now <= EXPIRY_WARNING:
            return cls(CredentialState.EXPIRING, expires_at)
        return cls(CredentialState.OK, expires_at)

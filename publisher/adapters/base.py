"""The interface every platform adapter keeps, and the errors it speaks.

Adapters translate each platform's errors into PlatformError with a kind the delivery state
machine understands; the raw platform message is kept for the history, never the credentials.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
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


@dataclass(frozen=True)
class Content:
    text: str
    link: str | None = None


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


def same_text(published: str, expected: str) -> bool:
    """Compare post texts the way platforms change them: links rewritten, spaces folded."""
    return _normalise(published) == _normalise(expected)


def _normalise(text: str) -> str:
    without_links = re.sub(r"https?://\S+", " ", text)
    return " ".join(unicodedata.normalize("NFC", without_links).split()).casefold()

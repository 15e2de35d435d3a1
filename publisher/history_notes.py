"""The notes in a delivery's history: stored in English, as the log and the database read them,
and shown in the reader's language.

A note is one of these msgids with its values filled in (`note`). `parse` finds which one a
stored note is, so the web layer can translate it; anything else (a platform's own words, or a
note written before this registry) is shown as it is.
"""

from __future__ import annotations

import re
from functools import lru_cache

from core.i18n import N_

QUEUED = N_("queued by %(name)s")
ATTEMPT = N_("attempt %(attempt)s by %(worker)s")
WILL_RETRY = N_("will retry: %(reason)s")
OUTCOME_UNKNOWN = N_("outcome unknown: %(reason)s")
CANNOT_CHECK = N_("could not check the platform: %(reason)s")
LEASE_RAN_OUT = N_("the worker's lease ran out before it recorded an outcome")
NOT_FOUND_REQUEUED = N_("not found on the platform: queued again")
NOT_FOUND_TOO_LATE = N_("not found on the platform and too late")
# Kept so that histories written before DUPLICATE_REFUSED still read in the user's language.
DUPLICATE = N_("the platform refused duplicate text")
DUPLICATE_REFUSED = N_("the platform refused it as a repeat of a published text: %(reason)s")
TOO_LATE = N_("not sent: %(minutes)s min late")
INTERNAL_ERROR = N_("internal error: %(error)s")
PUBLISHED = N_("published (%(id)s)")
FOUND = N_("found on the platform after a lost answer (%(id)s)")
FIRST_COMMENT_FAILED = N_("the first comment was not posted: %(reason)s")
FIRST_COMMENT_UNKNOWN = N_("it is not known whether the first comment was posted (check the post): "
                           "%(reason)s")
RECONNECTED = N_("account reconnected by %(name)s")
CANCELLED = N_("cancelled by %(name)s")
SENT_AGAIN = N_("sent again by %(name)s")
EDITED = N_("edited by %(name)s")
ADDED = N_("added to the post by %(name)s")
REMOVED = N_("removed from the post by %(name)s")
SENT_FOR_REVIEW = N_("sent for approval by %(name)s")
APPROVED = N_("approved by %(name)s")
RETURNED_BY = N_("sent back by %(name)s")

NOTES = (QUEUED, ATTEMPT, WILL_RETRY, OUTCOME_UNKNOWN, CANNOT_CHECK, LEASE_RAN_OUT,
         NOT_FOUND_REQUEUED, NOT_FOUND_TOO_LATE, DUPLICATE, DUPLICATE_REFUSED, TOO_LATE,
         INTERNAL_ERROR, PUBLISHED, FOUND, FIRST_COMMENT_FAILED, FIRST_COMMENT_UNKNOWN,
         RECONNECTED, CANCELLED, SENT_AGAIN, EDITED, ADDED, REMOVED, SENT_FOR_REVIEW, APPROVED,
         RETURNED_BY)
SEPARATOR = "; "  # between a published note and the warnings that came with it

_VALUE = {"attempt": r"\d+", "minutes": r"\d+", "id": r"[^\s()]+"}
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def note(msgid: str, **values: object) -> str:
    return msgid % values


@lru_cache(maxsize=1)
def _patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    def pattern(msgid: str) -> re.Pattern[str]:
        parts, last = [], 0
        for match in _PLACEHOLDER.finditer(msgid):
            parts += [re.escape(msgid[last:match.start()]),
                      f"(?P<{match[1]}>{_VALUE.get(match[1], '.+')})"]
            last = match.end()
        return re.compile("".join([*parts, re.escape(msgid[last:])]), re.DOTALL)

    return tuple((msgid, pattern(msgid)) for msgid in NOTES)


def parse(detail: str) -> tuple[str, dict[str, str]] | None:
    """The msgid and values of a stored note, or None for text that is no note of ours."""
    for msgid, pattern in _patterns():
        if match := pattern.fullmatch(detail):
            return msgid, match.groupdict()
    return None


def parts(detail: str) -> list[str]:
    """A published note is followed by its warnings; each part is a note of its own."""
    if SEPARATOR in detail:
        first = parse(detail.split(SEPARATOR, 1)[0])
        if first is not None and first[0] in (PUBLISHED, FOUND):
            return detail.split(SEPARATOR)
    return [detail]

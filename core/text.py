"""Text a database can store and a person can read: the one rule on control characters.

C0 and C1 control characters but tab, line feed and carriage return: PostgreSQL refuses a NUL
byte in text outright (a 500 if it got that far), and none of them belongs in a post, a name or
a search. Forms refuse them at the field (web.forms); the domain refuses them again where text
arrives by other roads (a hand-read form field, the API), with the same message.
"""

from __future__ import annotations

import re

from core.i18n import N_

CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
CONTROL_MESSAGE = N_("Remove the control characters from this text (such as a NUL byte): they "
                     "cannot be saved.")


def has_control_characters(value: object) -> bool:
    if isinstance(value, str):
        return CONTROL_CHARACTERS.search(value) is not None
    if isinstance(value, list | tuple):
        return any(has_control_characters(item) for item in value)
    return False


def row_id(text: str | None) -> int | None:
    """A row id as typed in a form or a query string, or None when it cannot be one: only
    ASCII digits ("²" is a digit to str.isdigit, not to int), at most nine of them (a larger
    number is no row of ours and overflows SQLite's integers)."""
    text = (text or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else None

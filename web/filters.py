"""Template helpers: Stockholm time, permissions, translated domain messages."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache
from typing import Any

from babel import Locale
from flask import Flask
from flask_babel import (
    format_datetime,
    format_decimal,
    format_number,
    format_percent,
    get_locale,
    gettext,
)
from flask_login import current_user

from core.auth import Action, can
from core.clock import to_local
from publisher.history_notes import SEPARATOR, parse, parts


def localtime(moment: datetime | None, fmt: str = "short") -> str:
    """A UTC moment as Stockholm wall-clock time in the user's language."""
    if moment is None:
        return ""
    if fmt == "iso":
        return to_local(moment).strftime("%Y-%m-%d %H:%M")
    return format_datetime(moment, "yyyy-MM-dd HH:mm" if fmt == "short" else fmt)


def user_can(action: str) -> bool:
    return bool(current_user.is_authenticated and can(current_user, Action(action)))


def translate_error(error: object) -> str:
    message = getattr(error, "message", str(error))
    params = getattr(error, "params", {}) or {}
    return gettext(message, **params)


def stored_message(text: str | None, message: dict[str, Any] | None) -> str:
    """A message the domain stored as {"msgid", "params"} (e.g. a source's failure) in the
    reader's language; rows from before messages were stored keep their English text."""
    if message and message.get("msgid"):
        params = message.get("params") or {}
        msgid = str(message["msgid"])
        for template in (gettext(msgid), msgid):
            try:
                return template % params if params else template
            except (KeyError, ValueError, TypeError):
                continue
    return text or ""


def history_note(detail: str | None) -> str:
    """A delivery history note in the reader's language; a platform's own words as they are."""
    return SEPARATOR.join(_translated_note(part) for part in parts(detail or ""))


def _translated_note(text: str) -> str:
    found = parse(text)
    if found is None:
        return text
    msgid, values = found
    return gettext(msgid, **{name: _translated_note(value) for name, value in values.items()})


# A report page prints some hundreds of numbers; Babel's pattern engine takes ~25 µs for each,
# a third of the page. The fast paths below give Babel's very output (its rounding: half to
# even on the decimal written form; the locale's own grouping, decimal and minus signs, read
# from Babel) and fall back to Babel for anything else; tests/web/test_filters.py compares them.
_TENTH, _WHOLE = Decimal("0.1"), Decimal("1")


@lru_cache(maxsize=16)
def _symbols(locale: str) -> tuple[str, str] | None:
    """(group, decimal) of a locale whose numbers are plain Western digits, else None. (Babel
    writes the hyphen-minus of its patterns, not the locale's minus sign.)"""
    found = Locale.parse(locale)
    if found.default_numbering_system != "latn":
        return None
    symbols = found.number_symbols["latn"]
    return symbols["group"], symbols["decimal"]


def _localised(text: str, locale: str) -> str | None:
    symbols = _symbols(locale)
    if symbols is None:
        return None
    group, decimal = symbols
    return text.translate({ord(","): group, ord("."): decimal})


def _locale() -> str:
    return str(get_locale() or "sv")


def number(value: int) -> str:
    """A whole number in the reader's language (Swedish: 12 345; English: 12,345)."""
    if type(value) is int:
        found = _localised(f"{value:,}", _locale())
        if found is not None:
            return found
    return format_number(value)


def share(value: float | None) -> str:
    """A share (0.333) as the reader writes it: 33,3 % (Swedish), 33.3% (English); – for none."""
    if value is None:
        return "–"
    if isinstance(value, float | int):
        rounded = (Decimal(str(value)) * 100).quantize(_TENTH, ROUND_HALF_EVEN)
        found = _localised(f"{rounded:,.1f}", _locale())
        if found is not None:
            return found + " %"
    return format_percent(value, "#,##0.0 %")


def change(value: float | None) -> str:
    """A relative change (0.25) with its sign: +25 %; – when there was nothing to compare."""
    if value is None:
        return "–"
    if isinstance(value, float | int):
        rounded = Decimal(str(value * 100)).quantize(_WHOLE, ROUND_HALF_EVEN)
        negative = value * 100 < 0
        found = _localised(f"{'-' if negative else '+'}{abs(rounded):,.0f}", _locale())
        if found is not None:
            return found + " %"
    return format_decimal(value * 100, "+#,##0;-#,##0") + " %"


def groupby_organisation(accounts: list[Any]) -> list[tuple[Any, list[Any]]]:
    """Accounts under their organisation: the district first, then the associations by name;
    within each, by network and name (as the forms offer them)."""
    groups: dict[int, tuple[Any, list[Any]]] = {}
    for account in accounts:
        groups.setdefault(account.organisation_id, (account.organisation, []))[1].append(account)
    return sorted(groups.values(),
                  key=lambda group: (group[0].kind.value != "district", group[0].name.lower()))


def init_app(app: Flask) -> None:
    app.add_template_filter(groupby_organisation)
    app.add_template_filter(localtime)
    app.add_template_filter(number)
    app.add_template_filter(share)
    app.add_template_filter(change)
    app.add_template_filter(translate_error, "tr_error")
    app.add_template_filter(history_note)
    app.add_template_filter(stored_message)
    app.add_template_global(user_can, "can")
    app.add_template_global(get_locale, "current_locale")

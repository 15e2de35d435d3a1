"""Template helpers: Stockholm time, permissions, translated domain messages."""

from __future__ import annotations

from datetime import datetime

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


def history_note(detail: str | None) -> str:
    """A delivery history note in the reader's language; a platform's own words as they are."""
    return SEPARATOR.join(_translated_note(part) for part in parts(detail or ""))


def _translated_note(text: str) -> str:
    found = parse(text)
    if found is None:
        return text
    msgid, values = found
    return gettext(msgid, **{name: _translated_note(value) for name, value in values.items()})


def number(value: int) -> str:
    """A whole number in the reader's language (Swedish: 12 345; English: 12,345)."""
    return format_number(value)


def share(value: float | None) -> str:
    """A share (0.333) as the reader writes it: 33,3 % (Swedish), 33.3% (English); – for none."""
    return "–" if value is None else format_percent(value, "#,##0.0 %")


def change(value: float | None) -> str:
    """A relative change (0.25) with its sign: +25 %; – when there was nothing to compare."""
    return "–" if value is None else format_decimal(value * 100, "+#,##0;-#,##0") + " %"


def init_app(app: Flask) -> None:
    app.add_template_filter(localtime)
    app.add_template_filter(number)
    app.add_template_filter(share)
    app.add_template_filter(change)
    app.add_template_filter(translate_error, "tr_error")
    app.add_template_filter(history_note)
    app.add_template_global(user_can, "can")
    app.add_template_global(get_locale, "current_locale")

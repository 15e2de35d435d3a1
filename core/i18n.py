"""Marking user-facing messages for translation without importing Flask into the domain.

Domain code raises errors whose message is an English msgid marked with N_(); the web layer
translates it with Flask-Babel (pybabel extracts N_ as a keyword).
"""

from __future__ import annotations


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext marker name
    return message


class UserError(ValueError):
    """An error a person can act on: a translatable message, its parameters, and the form field."""

    def __init__(self, message: str, field: str | None = None, **params: object) -> None:
        super().__init__(message % params if params else message)
        self.message = message
        self.field = field
        self.params = params


class ValidationErrors(ValueError):
    """Several UserErrors at once, so a form shows every problem in one round."""

    def __init__(self, errors: list[UserError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors

    def for_field(self, field: str | None) -> list[UserError]:
        return [e for e in self.errors if e.field == field]

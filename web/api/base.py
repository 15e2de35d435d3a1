"""What every API operation shares: the caller from the bearer token, JSON errors with stable
codes, and opaque cursors.

The API never reads the browser's session cookie: a request is the token's user or nobody, so a
page on another site cannot make a logged-in browser call it (no CSRF to defend). The caller's
role and organisation apply through the same domain services the pages use; the token's scope
narrows writes. An object outside the caller's scope answers 404, as one that does not exist:
the API does not confirm what others hold.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import marshmallow as ma
from flask import Response, g, jsonify, request
from flask_babel import gettext
from flask_smorest import Blueprint
from werkzeug.exceptions import HTTPException

from core.auth import NotAllowed
from core.clock import utcnow
from core.i18n import UserError, ValidationErrors
from core.tokens import Allowance, Caller, authenticate, count_request
from monitor.query import QueryError
from web.context import db_session, discard_changes, services

F = TypeVar("F", bound=Callable[..., Any])

# HTTP status → the stable code a client can switch on.
CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
         405: "method_not_allowed", 409: "conflict", 413: "too_large",
         415: "unsupported_media_type", 422: "invalid", 429: "rate_limited",
         500: "internal_error", 503: "unavailable"}


class ErrorSchema(ma.Schema):
    """Every error: `{"error": {"code": "not_found", "message": "…", "fields": {…}}}`."""

    class Detail(ma.Schema):
        code = ma.fields.String(required=True, metadata={"description": "Stable error code"})
        message = ma.fields.String(required=True)
        fields = ma.fields.Dict(keys=ma.fields.String(),
                                values=ma.fields.List(ma.fields.String()),
                                metadata={"description": "Messages per request field"})

    error = ma.fields.Nested(Detail, required=True)


class ApiError(HTTPException):
    """An error answered as JSON with a code, a message and, for bad input, per field."""

    def __init__(self, status: int, message: str, fields: dict[str, list[str]] | None = None,
                 code: str | None = None) -> None:
        super().__init__(message)
        self.code = status
        self.error_code = code or CODES.get(status, "error")
        self.message = message
        self.fields = fields or {}


def error_response(status: int, message: str, *, code: str | None = None,
                   fields: dict[str, list[str]] | None = None) -> Any:
    body: dict[str, Any] = {"code": code or CODES.get(status, "error"), "message": message}
    if fields:
        body["fields"] = fields
    response = jsonify({"error": body})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="megafon"'
    return response


def from_exception(exc: Exception) -> Any:
    """Any error raised in an API view (or routing under /api/) as the JSON answer."""
    if isinstance(exc, ApiError):
        return error_response(exc.code or 400, exc.message, code=exc.error_code,
                              fields=exc.fields)
    if isinstance(exc, NotAllowed):
        discard_changes()
        return error_response(404, "Not found.")
    if isinstance(exc, ValidationErrors):
        discard_changes()
        fields: dict[str, list[str]] = {}
        for error in exc.errors:
            fields.setdefault(error.field or "_", []).append(_text(error))
        return error_response(422, "; ".join(_text(e) for e in exc.errors), fields=fields)
    if isinstance(exc, UserError):
        discard_changes()
        return error_response(422, _text(exc), fields={exc.field or "_": [_text(exc)]})
    if isinstance(exc, HTTPException):
        data = getattr(exc, "data", None) or {}
        messages = data.get("messages") if isinstance(data, dict) else None
        if messages:  # webargs: {"json": {"field": ["…"]}, "query": {…}}
            fields = {name: [str(m) for m in (found if isinstance(found, list) else [found])]
                      for location in messages.values() if isinstance(location, dict)
                      for name, found in location.items()}
            return error_response(422, "The request's fields are not valid.", fields=fields)
        return error_response(exc.code or 500, exc.description or exc.name)
    raise exc


def _text(error: UserError) -> str:
    return gettext(error.message, **error.params)


def caller() -> Caller:
    """The caller of the current API request (set by `authenticate_request`)."""
    found: Caller | None = g.get("api_caller")
    if found is None:
        raise ApiError(401, "A valid API token is required.")
    return found


def authenticate_request() -> None:
    """Before every API view: the bearer token, or 401."""
    header = request.headers.get("Authorization", "")
    scheme, _, presented = header.partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        raise ApiError(401, "Send an API token: Authorization: Bearer mgf_….")
    session = db_session()
    found = authenticate(session, presented.strip())
    if found is None:
        raise ApiError(401, "The API token is unknown, revoked or its user deactivated.")
    allowance = count_request(session, found.token_id,
                              services().settings.api_requests_per_minute)
    session.commit()  # the count, and when the token was last used
    g.api_allowance = allowance
    if not allowance.allowed:
        raise ApiError(429, "Too many requests with this token; wait for the next minute.")
    g.api_caller = found


def rate_headers(response: Response) -> Response:
    """The token's allowance on every API answer (RateLimit-* as in the IETF draft, and the
    widespread X-RateLimit-*), Retry-After on a 429."""
    allowance: Allowance | None = g.get("api_allowance")
    if allowance is not None:
        reset = max(0, math.ceil((allowance.reset_at - utcnow()).total_seconds()))
        for prefix in ("RateLimit", "X-RateLimit"):
            response.headers[f"{prefix}-Limit"] = str(allowance.limit)
            response.headers[f"{prefix}-Remaining"] = str(allowance.remaining)
            response.headers[f"{prefix}-Reset"] = str(reset)
        if not allowance.allowed:
            response.headers["Retry-After"] = str(max(1, reset))
    return response


def writes(view: F) -> F:
    """An operation that changes something: the token must have the write scope."""
    @wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        if not caller().may_write():
            raise ApiError(403, "This token may only read; make a token with the write scope.")
        return view(*args, **kwargs)

    return checked  # type: ignore[return-value]


def api_blueprint(name: str, import_name: str, url_prefix: str, description: str) -> Blueprint:
    """A blueprint of the API: token-authenticated, errors as JSON."""
    bp = Blueprint(name, import_name, url_prefix=f"/api/v1{url_prefix}", description=description)
    bp.before_request(authenticate_request)
    bp.after_request(rate_headers)
    for kind in (HTTPException, NotAllowed, ValidationErrors, UserError, QueryError):
        bp.register_error_handler(kind, from_exception)
    return bp


# -- cursors -----------------------------------------------------------------------------------

def encode_cursor(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ApiError(400, "The cursor is not one this API gave.", fields={
            "cursor": ["Not a cursor from a previous page."]}) from None


class PageArgs(ma.Schema):
    cursor = ma.fields.String(load_default=None, validate=ma.validate.Length(max=200),
                              metadata={"description": "next_cursor of the previous page"})
    limit = ma.fields.Integer(load_default=25, validate=ma.validate.Range(min=1, max=100))

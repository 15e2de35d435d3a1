"""Request-scoped access to the services and a database session."""

from __future__ import annotations

from flask import current_app, g
from sqlalchemy.orm import Session

from publisher.services import Services


def services() -> Services:
    return current_app.extensions["megafon"]


def db_session() -> Session:
    if "db_session" not in g:
        g.db_session = services().db.sessions()
    return g.db_session


def discard_changes() -> None:
    """Roll back whatever the request's session holds, if it has one (a refused action)."""
    session = g.get("db_session")
    if session is not None:
        session.rollback()

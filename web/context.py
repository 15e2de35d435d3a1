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

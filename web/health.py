"""Health for whoever runs Megafon (`/healthz`, `/healthz/publishing`) and for its users: a
banner on every page when posts that are due are not going out."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, jsonify
from flask_login import current_user
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from core.auth import Action, can
from publisher.health import PublishingHealth, PublishingState, publishing_health
from web.context import db_session

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)


# A write that changes nothing, rolled back: a database that answers reads but refuses writes
# (read-only file, a replica after failover, default_transaction_read_only, a full disk's
# read-only remount) cannot take a post, a login or a mention, so it is not healthy.
WRITE_PROBE = text("UPDATE organisations SET name = name WHERE id = -1")


@bp.get("/healthz")
def healthz() -> tuple[str, int]:
    """The web process answers and its database takes writes (503 with the reason if not)."""
    session = db_session()
    try:
        session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        session.rollback()
        log.exception("health check: the database does not answer")
        return "database unavailable", 503
    try:
        session.execute(WRITE_PROBE)
    except SQLAlchemyError as exc:
        log.warning("health check: the database refuses writes: %s",
                    str(getattr(exc, "orig", exc)).splitlines()[0][:200])
        return "database refuses writes", 503
    finally:
        session.rollback()
    return "ok", 200


@bp.get("/healthz/publishing")
def publishing() -> tuple[Response, int]:
    """503 while due posts are not going out, with why: no worker alive, or workers behind."""
    health = publishing_health(db_session())
    return jsonify(health.as_dict()), 200 if health.state is PublishingState.OK else 503


@bp.app_context_processor
def publishing_banner() -> dict[str, Any]:
    def publishing_problem() -> PublishingHealth | None:
        if not (current_user.is_authenticated and can(current_user, Action.COMPOSE)):
            return None
        try:
            health = publishing_health(db_session())
        except SQLAlchemyError:  # an error page must still render when the database is down
            log.exception("cannot check publishing health")
            return None
        return None if health.state is PublishingState.OK else health

    return {"publishing_problem": publishing_problem}

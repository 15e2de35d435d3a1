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


@bp.get("/healthz")
def healthz() -> tuple[str, int]:
    """The web process answers and reaches its database."""
    try:
        db_session().execute(text("SELECT 1"))
    except SQLAlchemyError:
        log.exception("health check: the database does not answer")
        return "database unavailable", 503
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

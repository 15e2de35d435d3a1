"""The Flask layer: app factory, blueprints and templates. Views are glue around domain services."""

from __future__ import annotations

import logging

from flask import Flask, g, send_from_directory
from werkzeug.wrappers import Response

from core.crypto import load_or_create_secret
from core.settings import Settings
from publisher.services import Services
from web import extensions, filters


def create_app(settings: Settings | None = None, services: Services | None = None) -> Flask:
    settings = settings or (services.settings if services else Settings.from_env())
    services = services or Services.from_settings(settings)
    app = Flask(__name__, instance_path=str(settings.ensure_instance_path()))
    app.config.update(
        SECRET_KEY=load_or_create_secret(settings),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,
        MAX_CONTENT_LENGTH=40 * 1024 * 1024,  # four 8 MB pictures and the text (compose)
        BABEL_DEFAULT_LOCALE=settings.default_locale,
        BABEL_DEFAULT_TIMEZONE=settings.timezone,
    )
    app.extensions["megafon"] = services
    logging.basicConfig(level=settings.log_level)

    extensions.init_app(app)
    filters.init_app(app)

    from web import (
        accounts,
        admin,
        api,
        auth,
        campaigns,
        compose,
        dashboard,
        errors,
        health,
        mentions,
        monitoring,
        notifications,
        privacy,
        reports,
        tokens,
    )

    for module in (auth, dashboard, compose, accounts, admin, notifications, mentions, monitoring,
                   reports, campaigns, health, tokens, privacy):
        app.register_blueprint(module.bp)
    errors.init_app(app)
    api.init_app(app)

    @app.get("/favicon.ico")
    def favicon() -> Response:
        """The tab's icon, for browsers that ask for it without reading the page's <link>."""
        return send_from_directory(app.static_folder or "static", "favicon.svg",
                                   mimetype="image/svg+xml", max_age=86400)

    @app.teardown_appcontext
    def close_session(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()

    return app

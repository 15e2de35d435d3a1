"""The Flask layer: app factory, blueprints and templates. Views are glue around domain services."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Flask, g, send_from_directory
from werkzeug.middleware.proxy_fix import ProxyFix
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
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        REMEMBER_COOKIE_SECURE=settings.secure_cookies,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_max_hours),
        WTF_CSRF_TIME_LIMIT=None,
        MAX_CONTENT_LENGTH=40 * 1024 * 1024,  # four 8 MB pictures and the text (compose)
        BABEL_DEFAULT_LOCALE=settings.default_locale,
        BABEL_DEFAULT_TIMEZONE=settings.timezone,
    )
    if settings.trusted_proxies:
        # The client's address (login throttling) and https come from the proxies' headers,
        # believed only for as many proxies as are configured: a client cannot forge them.
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    app.extensions["megafon"] = services
    logging.basicConfig(level=settings.log_level)

    extensions.init_app(app)
    filters.init_app(app)

    from web import (
        accounts,
        admin,
        api,
        audit,
        auth,
        calendar,
        campaigns,
        compose,
        county,
        dashboard,
        drafts,
        errors,
        events,
        health,
        imports,
        mentions,
        monitoring,
        notifications,
        posts,
        privacy,
        reports,
        reviews,
        schedule,
        tokens,
    )

    for module in (auth, dashboard, compose, accounts, admin, notifications, mentions, monitoring,
                   reports, campaigns, county, health, tokens, privacy, drafts, events,
                   schedule, calendar, reviews, posts, imports, audit):
        app.register_blueprint(module.bp)
    errors.init_app(app)
    api.init_app(app)
    auth.init_app(app)
    _security_headers(app, hsts=settings.https)

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


# No inline script or style anywhere (templates load static files only); the report's charts are
# data: URI images, the composer's picture previews blob: URLs. frame-ancestors and
# X-Frame-Options: no page can be framed (clickjacking).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'")
HSTS = "max-age=31536000; includeSubDomains"


def _security_headers(app: Flask, *, hsts: bool) -> None:
    """The security headers on every response, errors and static files included. HSTS only when
    Megafon's base URL is https: sent over plain HTTP it would be ignored, and a wrong one
    would lock browsers out of a site without TLS for a year."""
    headers = {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    }
    if hsts:
        headers["Strict-Transport-Security"] = HSTS

    @app.after_request
    def add_headers(response: Response) -> Response:
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response

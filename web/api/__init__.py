"""The REST API, /api/v1: the same domain services as the pages, for scripts and other
systems, authenticated by per-user tokens (core.tokens), described by an OpenAPI 3 document
generated from the code (flask-smorest: /api/v1/openapi.json) and a page that lists it
(/api/v1/docs)."""

from __future__ import annotations

from typing import Any

from flask import Flask, render_template
from flask_login import login_required
from flask_smorest import Api

from web.api.base import ErrorSchema
from web.api.resources import BLUEPRINTS

TITLE = "Megafon API"
VERSION = "1"


class MegafonApi(Api):
    """flask-smorest's Api, answering errors in Megafon's shape and only under /api/: the
    pages keep their own error pages (web.errors), so no app-wide handler is registered."""

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self) -> None:
        return None


def init_app(app: Flask) -> Api:
    from web.extensions import csrf

    app.config.update(
        API_TITLE=TITLE, API_VERSION=VERSION, OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1", OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={
            "info": {"description": "Megafon's REST API. Every request carries a token: "
                                    "`Authorization: Bearer mgf_…` (make one under Tokens). "
                                    "Errors are `{\"error\": {\"code\", \"message\", "
                                    "\"fields\"}}`; lists page with `next_cursor`."},
            "security": [{"token": []}],
            "servers": [{"url": "/"}],
        })
    api = MegafonApi(app, spec_kwargs={})
    api.spec.components.security_scheme("token", {"type": "http", "scheme": "bearer"})
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
        csrf.exempt(blueprint)

    @app.get("/api/v1/docs")
    @login_required
    def api_docs() -> str:
        """The operations of the API, read from its own OpenAPI document."""
        return render_template("api/docs.html", spec=api.spec.to_dict(),
                               operations=_operations(api.spec.to_dict()))

    return api


def _operations(spec: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for path, methods in spec.get("paths", {}).items():
        for method, operation in methods.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                found.append({"method": method.upper(), "path": path,
                              "summary": operation.get("summary", ""),
                              "description": operation.get("description", ""),
                              "tag": (operation.get("tags") or [""])[0],
                              "writes": method != "get"})
    return found

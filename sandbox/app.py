"""The sandbox WSGI app: X routes, Graph routes, HTML pages and the control API on one port."""

from __future__ import annotations

import re

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from sandbox import control, feeds, graph_routes, mail_pages, pages, x_routes
from sandbox.mailbox import Mailbox
from sandbox.state import SandboxState

GRAPH_PATH = re.compile(r"^/v\d{1,2}\.\d{1,2}/")


def create_app(state: SandboxState, mailbox: Mailbox | None = None) -> Flask:
    """Build the app around one SandboxState and Mailbox (nothing global, so tests can run
    many)."""
    app = Flask(__name__)
    app.config.update(SANDBOX_STATE=state, SANDBOX_MAILBOX=mailbox or Mailbox(),
                      JSON_SORT_KEYS=False, MAX_CONTENT_LENGTH=64 << 20)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.url_map.converters["gv"] = graph_routes.GraphVersion
    for blueprint in (x_routes.bp, graph_routes.bp, pages.bp, mail_pages.bp, control.bp):
        app.register_blueprint(blueprint)
    feeds.register(app)  # news feeds and article pages for the media monitor

    @app.errorhandler(HTTPException)
    def platform_shaped(err: HTTPException) -> Response | HTTPException:
        """Unrouted platform paths answer in the platform's JSON, never an HTML page."""
        status = err.code or 500
        if GRAPH_PATH.match(request.path):
            body = graph_routes.GraphError(
                2500, f"Unknown path components: {request.path}").body()
            response, response.status_code = jsonify(body), 400
        elif request.path.startswith(("/2/", "/1.1/")):
            x_err = x_routes.problem(status)
            response = jsonify(x_err.body)
            response.status_code = x_err.status
        elif request.path.startswith("/sandbox/api/"):
            response = jsonify({"error": err.description})
            response.status_code = status
        else:
            return err
        return response

    return app

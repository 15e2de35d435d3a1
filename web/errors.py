"""Error pages in the user's language; a CSRF failure explains itself instead of a bare 400.

A domain service refuses an action with `core.auth.NotAllowed`; this is the one place that turns
it into 403, so views neither check permissions themselves nor catch the refusal.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from core.auth import NotAllowed
from web.context import discard_changes


def _page(code: int) -> tuple[str, int]:
    messages = {
        403: _("You do not have permission to do that."),
        404: _("That page does not exist."),
        405: _("That page does not exist."),
        413: _("The upload is too large."),
    }
    message = messages.get(code, _("The request could not be handled."))
    return render_template("errors/error.html", code=code, message=message), code


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(_exc: CSRFError) -> tuple[str, int]:
        message = _("The form had expired or came from somewhere else. Go back, reload the page "
                    "and try again; nothing was saved.")
        return render_template("errors/error.html", code=400, message=message), 400

    @app.errorhandler(NotAllowed)
    def not_allowed(_exc: NotAllowed) -> tuple[str, int]:
        discard_changes()  # nothing of a refused action is kept, and the page reads clean rows
        return _page(403)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        if (exc.code or 500) >= 500:
            # After a database error the session refuses every statement until it is rolled
            # back (PendingRollbackError), and the page reads the user and the publishing
            # banner: roll back first, so the error page itself renders.
            discard_changes()
        if request.path.startswith("/api/"):  # a path under the API that matched no route
            from web.api.base import from_exception

            return from_exception(exc)
        return _page(exc.code or 500)

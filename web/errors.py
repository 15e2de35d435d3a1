"""Error pages in the user's language; a CSRF failure explains itself instead of a bare 400."""

from __future__ import annotations

from flask import Flask, render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(_exc: CSRFError) -> tuple[str, int]:
        message = _("The form had expired or came from somewhere else. Go back, reload the page "
                    "and try again; nothing was saved.")
        return render_template("errors/error.html", code=400, message=message), 400

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[str, int]:
        messages = {
            403: _("You do not have permission to do that."),
            404: _("That page does not exist."),
            405: _("That page does not exist."),
            413: _("The upload is too large."),
        }
        code = exc.code or 500
        message = messages.get(code, _("The request could not be handled."))
        return render_template("errors/error.html", code=code, message=message), code

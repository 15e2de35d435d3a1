"""Logging in and out, and the language switch."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from core.auth import AuthError, LoginLocked, authenticate
from core.users import Role
from web.context import db_session, services
from web.extensions import LANGUAGE_COOKIE, LANGUAGES
from web.forms import EmptyForm, LoginForm

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") \
            and not urlsplit(target).netloc:
        return target
    return url_for("dashboard.index")


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        session = db_session()
        settings = services().settings
        try:
            user = authenticate(session, form.email.data or "", form.password.data or "",
                                max_failures=settings.login_max_failures,
                                lock_minutes=settings.login_lock_minutes)
        except LoginLocked as exc:
            session.commit()
            error = ngettext("Too many failed attempts. Try again in %(num)s minute.",
                             "Too many failed attempts. Try again in %(num)s minutes.",
                             exc.minutes)
        except AuthError:
            session.commit()
            error = _("Wrong e-mail address or password.")
        else:
            session.commit()
            login_user(user)
            target = _safe_next(request.args.get("next"))
            if user.role is Role.BOARD and target == url_for("dashboard.index"):
                target = url_for("reports.index")  # the board's landing page is the report
            return redirect(target)
    elif request.method == "POST" and not form.errors.get("csrf_token"):
        error = _("Enter your e-mail address and password.")
    status = 200 if error is None else 400
    return render_template("auth/login.html", form=form, error=error), status


@bp.post("/logout")
@login_required
def logout() -> Response:
    form = EmptyForm()
    if form.validate_on_submit():
        logout_user()
    return redirect(url_for("auth.login"))


@bp.post("/language/<lang>")
def language(lang: str) -> Response:
    form = EmptyForm()
    if lang not in LANGUAGES or not form.validate_on_submit():
        return redirect(url_for("dashboard.index"))
    if current_user.is_authenticated:
        session = db_session()
        user = session.merge(current_user._get_current_object())
        user.locale = lang
        session.commit()
    response = make_response(redirect(_safe_next(request.form.get("next"))))
    response.set_cookie(LANGUAGE_COOKIE, lang, max_age=365 * 24 * 3600, samesite="Lax",
                        httponly=True)
    return response

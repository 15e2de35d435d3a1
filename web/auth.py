"""Logging in and out, passwords (change, reset by e-mail), session lifetimes, and the language
switch.

A session is valid while its user is active and its session version is current (checked on
every request by web.extensions.load_user), while it has been used within
`session_idle_minutes` and for at most `session_max_hours` since logging in (checked here,
before every request). A person who must choose a new password (the first-start admin, or
an administrator asked for it) is led to the password form from every page.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required, login_user, logout_user
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.wrappers import Response

from core.auth import (
    AuthError,
    ClientThrottled,
    LoginLocked,
    LoginPolicy,
    authenticate,
    change_password,
    device_fingerprint,
    end_sessions,
    request_password_reset,
    reset_is_usable,
    reset_password,
)
from core.clock import utcnow
from core.i18n import ValidationErrors
from core.users import Role, User
from web.context import db_session, services
from web.extensions import LANGUAGE_COOKIE, LANGUAGES
from web.forms import (
    EmptyForm,
    LoginForm,
    PasswordChangeForm,
    PasswordForgotForm,
    PasswordResetForm,
    Rendered,
    submit,
)

bp = Blueprint("auth", __name__)

DEVICE_COOKIE = "megafon_device"
DEVICE_DAYS = 365
LOGIN_AT, SEEN_AT = "login_at", "seen_at"
# What a person who must choose a new password may still open.
OPEN_BEFORE_NEW_PASSWORD = {"auth.password", "auth.logout", "auth.language", "static",
                            "favicon"}


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") \
            and not urlsplit(target).netloc:
        return target
    return url_for("dashboard.index")


def _devices() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key or "", salt="megafon-device")


def _device() -> tuple[int, str] | None:
    """The (user id, password fingerprint) this browser logged in as before, from its signed
    device cookie, or None."""
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw:
        return None
    try:
        user_id, fingerprint = _devices().loads(raw, max_age=DEVICE_DAYS * 86400)
    except (BadSignature, ValueError, TypeError):
        return None
    return int(user_id), str(fingerprint)


def _policy() -> LoginPolicy:
    settings = services().settings
    return LoginPolicy(max_failures=settings.login_max_failures,
                       lock_minutes=settings.login_lock_minutes,
                       client_max_failures=settings.login_client_max_failures)


def _start_session(user: User) -> None:
    login_user(user)
    session.permanent = True  # PERMANENT_SESSION_LIFETIME = the absolute lifetime
    now = utcnow().timestamp()
    session[LOGIN_AT] = session[SEEN_AT] = now


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | Rendered:
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = LoginForm()
    error = None
    status = 400
    if form.validate_on_submit():
        db = db_session()
        try:
            user = authenticate(db, form.email.data or "", form.password.data or "",
                                client=request.remote_addr or "", device=_device(),
                                policy=_policy())
        except ClientThrottled as exc:
            db.commit()
            status = 429
            error = ngettext(
                "Too many failed logins from your connection. Try again in %(num)s minute.",
                "Too many failed logins from your connection. Try again in %(num)s minutes.",
                exc.minutes)
        except LoginLocked as exc:
            db.commit()
            status = 429
            error = ngettext(
                "Too many failed attempts for this address. Try again in %(num)s minute, log "
                "in from a browser you have used before, or reset your password.",
                "Too many failed attempts for this address. Try again in %(num)s minutes, log "
                "in from a browser you have used before, or reset your password.",
                exc.minutes)
        except AuthError:
            db.commit()
            error = _("Wrong e-mail address or password.")
        else:
            db.commit()
            _start_session(user)
            if user.must_change_password:
                target = url_for("auth.password")
            else:
                target = _safe_next(request.args.get("next"))
                if user.role is Role.BOARD and target == url_for("dashboard.index"):
                    target = url_for("reports.index")  # the board's landing page is the report
            response = redirect(target)
            response.set_cookie(
                DEVICE_COOKIE, _devices().dumps([user.id, device_fingerprint(user)]),
                max_age=DEVICE_DAYS * 86400, httponly=True, samesite="Lax",
                secure=current_app.config["SESSION_COOKIE_SECURE"])
            return response
    elif request.method == "POST" and not form.errors.get("csrf_token"):
        error = _("Enter your e-mail address and password.")
    if error is None:
        status = 200
    return render_template("auth/login.html", form=form, error=error), status


@bp.post("/logout")
@login_required
def logout() -> Response:
    """Logging out ends every session of the user, on every device (a copied cookie too)."""
    form = EmptyForm()
    if form.validate_on_submit():
        db = db_session()
        end_sessions(db, db.merge(current_user._get_current_object()))
        db.commit()
        logout_user()
        session.clear()
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password() -> Response | Rendered:
    """Choose a new password; every other session of the user ends, this one goes on."""
    form = PasswordChangeForm()
    user = current_user._get_current_object()

    def page(errors: ValidationErrors | None) -> Rendered:
        return render_template("auth/password.html", form=form, errors=errors,
                               forced=user.must_change_password), 400 if errors else 200

    def done(changed: User) -> Response:
        _start_session(changed)
        flash(_("Your new password is set. You are logged out everywhere else."), "success")
        return redirect(url_for("dashboard.index"))

    return submit(form, lambda db: change_password(
        db, user, current=form.current_password.data or "", new=form.new_password.data or "",
        repeated=form.repeated.data or ""), done, page)


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot() -> Response | Rendered:
    """Ask for a reset link. The answer is the same whether or not the address has an
    account, so the form cannot be used to find out who has one."""
    form = PasswordForgotForm()

    def page(errors: ValidationErrors | None) -> Rendered:
        paused = errors and any(isinstance(e, ClientThrottled) for e in errors.errors)
        return render_template("auth/forgot.html", form=form, errors=errors), \
            429 if paused else 400 if errors else 200

    def done(_none: None) -> Response:
        flash(_("If the address belongs to a Megafon account, a link to set a new password is "
                "on its way there. It works once, for %(num)s minutes.",
                num=services().settings.password_reset_minutes), "success")
        return redirect(url_for("auth.login"))

    return submit(form, lambda db: request_password_reset(
        db, form.email.data or "", minutes=services().settings.password_reset_minutes,
        client=request.remote_addr or "", policy=_policy()), done, page)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset(token: str) -> Response | Rendered:
    """Set a new password with the e-mailed link: once, before it expires."""
    form = PasswordResetForm()
    usable = reset_is_usable(db_session(), token)

    def page(errors: ValidationErrors | None) -> Rendered:
        return render_template("auth/reset.html", form=form, errors=errors,
                               usable=usable), 400 if errors or not usable else 200

    def done(_user: User) -> Response:
        if current_user.is_authenticated:
            logout_user()
        session.clear()
        flash(_("Your new password is set. Log in with it."), "success")
        return redirect(url_for("auth.login"))

    return submit(form, lambda db: reset_password(
        db, token, new=form.new_password.data or "", repeated=form.repeated.data or ""),
        done, page)


@bp.post("/language/<lang>")
def language(lang: str) -> Response:
    form = EmptyForm()
    if lang not in LANGUAGES or not form.validate_on_submit():
        return redirect(url_for("dashboard.index"))
    if current_user.is_authenticated:
        db = db_session()
        user = db.merge(current_user._get_current_object())
        user.locale = lang
        db.commit()
    response = make_response(redirect(_safe_next(request.form.get("next"))))
    response.set_cookie(LANGUAGE_COOKIE, lang, max_age=365 * 24 * 3600, samesite="Lax",
                        httponly=True, secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


def _expired(now: float) -> bool:
    settings = services().settings
    login_at, seen_at = session.get(LOGIN_AT), session.get(SEEN_AT)
    if not isinstance(login_at, int | float) or not isinstance(seen_at, int | float):
        return True
    return (now - seen_at > settings.session_idle_minutes * 60
            or now - login_at > settings.session_max_hours * 3600)


def guard_session() -> Response | None:
    """Before every request: end a session past its idle or absolute lifetime, and send a
    person who must choose a new password to the password form."""
    if "_user_id" not in session:
        return None
    now = utcnow().timestamp()
    if _expired(now):
        logout_user()
        session.clear()
        return None
    session[SEEN_AT] = now
    if (current_user.is_authenticated and current_user.must_change_password
            and request.endpoint not in OPEN_BEFORE_NEW_PASSWORD
            and request.blueprint != "health"):
        return redirect(url_for("auth.password"))
    return None


def init_app(app: Flask) -> None:
    app.before_request(guard_session)


"""Flask-Login, Flask-WTF CSRF and Flask-Babel, configured for Megafon."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, request
from flask_babel import Babel
from flask_login import LoginManager, current_user
from flask_wtf import CSRFProtect

from core.users import User
from web.context import db_session

log = logging.getLogger(__name__)
LANGUAGES = ("sv", "en")
LANGUAGE_COOKIE = "megafon_lang"

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = None
login_manager.session_protection = "strong"
csrf = CSRFProtect()
babel = Babel()


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The session's user, on every request, only while the session is still valid: the user is
    active and its session version (User.get_id) is the current one. Logging out, a new password
    and deactivation raise the version, so every copy of an older cookie lands on the login
    page."""
    user_id, _, version = session_id.partition(":")
    if not (user_id.isdigit() and version.isdigit()):
        return None
    user = db_session().get(User, int(user_id))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


def select_locale() -> str:
    if current_user and current_user.is_authenticated and current_user.locale in LANGUAGES:
        return current_user.locale
    cookie = request.cookies.get(LANGUAGE_COOKIE)
    if cookie in LANGUAGES:
        return cookie
    from web.context import services

    return services().settings.default_locale


def compile_stale_catalogues(root: Path) -> None:
    """Compile each .po whose .mo is missing or older, so a fresh clone speaks Swedish without
    a build step; a read-only install (the Docker image compiles at build) is left alone."""
    for po in root.glob("*/LC_MESSAGES/*.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        try:
            with po.open("rb") as source:
                catalog = read_po(source)
            partial = mo.with_suffix(f".mo.{os.getpid()}")
            with partial.open("wb") as target:
                write_mo(target, catalog, use_fuzzy=False)
            os.replace(partial, mo)  # atomic: parallel test workers never read half a file
        except OSError:
            log.warning("could not compile %s", po)


def init_app(app: Flask) -> None:
    compile_stale_catalogues(Path(app.root_path) / "translations")
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories="translations")

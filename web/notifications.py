"""Notifications in the app: the list, marking read, and the unread badge in the header."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from core import notifications
from core.text import row_id
from web.context import db_session
from web.forms import EmptyForm

bp = Blueprint("notifications", __name__)
log = logging.getLogger(__name__)


def _safe_link(link: str | None) -> str | None:
    if link and link.startswith("/") and not link.startswith("//"):
        return link
    return None


@bp.get("/notifications")
@login_required
def index() -> str:
    found = notifications.recent(db_session(), current_user, limit=100)
    items = [(n, notifications.render(n, gettext), _safe_link(n.link)) for n in found]
    return render_template("notifications/index.html", items=items,
                           any_unread=any(n.read_at is None for n in found))


@bp.post("/notifications/read")
@login_required
def read() -> Response:
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    session = db_session()
    chosen = row_id(request.form.get("id", ""))
    if chosen is not None:
        notifications.mark_read(session, current_user, [chosen])
    elif request.form.get("all"):
        notifications.mark_read(session, current_user, notifications.ALL)
    else:
        abort(400)
    session.commit()
    if chosen is not None and request.form.get("open"):
        opened = session.get(notifications.Notification, chosen)
        if opened is not None and opened.user_id == current_user.id:
            target = _safe_link(opened.link)
            if target:
                return redirect(target)
    return redirect(url_for("notifications.index"))


@bp.app_context_processor
def unread_badge() -> dict[str, Any]:
    def unread_notifications() -> int:
        if not current_user.is_authenticated:
            return 0
        try:
            return notifications.unread_count(db_session(), current_user)
        except SQLAlchemyError:  # an error page must still render when the database is down
            log.exception("cannot count unread notifications")
            return 0

    return {"unread_notifications": unread_notifications}

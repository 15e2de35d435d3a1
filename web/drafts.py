"""Drafts: the writer's list, the composer's autosave, and throwing one away."""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from core.auth import Action
from core.i18n import UserError
from core.text import row_id
from publisher.drafts import discard_draft, drafts_of, save_draft
from web.context import db_session
from web.filters import localtime, translate_error
from web.permissions import requires

bp = Blueprint("drafts", __name__)


@bp.get("/drafts")
@requires(Action.COMPOSE)
def index() -> str:
    return render_template("compose/drafts.html", drafts=drafts_of(db_session(), current_user))


@bp.post("/drafts/autosave")
@requires(Action.COMPOSE)
def autosave() -> tuple[Response, int]:
    """The composer keeps what is typed as the writer types (web/static/drafts.js): the draft's
    id (new the first time) and when it was kept, or why it could not be (400, nothing kept)."""
    session = db_session()
    raw = {name: request.form.getlist(name) for name in request.form if name != "csrf_token"}
    draft_id = _draft_id(request.form.get("draft_id", ""))
    try:
        draft = save_draft(session, current_user, raw, draft_id)
    except UserError as problem:
        session.rollback()
        return jsonify(error=translate_error(problem)), 400
    except LookupError:
        session.rollback()
        return jsonify(error=_("This draft is gone: it was queued or deleted.")), 404
    session.commit()
    return jsonify(id=draft.id, saved_at=localtime(draft.updated_at, "HH:mm:ss"),
                   message=_("Draft saved %(time)s", time=localtime(draft.updated_at,
                                                                    "HH:mm:ss"))), 200


@bp.post("/drafts/<int:draft_id>/delete")
@requires(Action.COMPOSE)
def delete(draft_id: int) -> Response:
    session = db_session()
    try:
        discard_draft(session, current_user, draft_id)
    except LookupError:  # queued or deleted in another tab: what was asked is done
        flash(_("This draft is gone: it was queued or deleted."), "warning")
        return redirect(url_for("drafts.index"))
    session.commit()
    flash(_("The draft is deleted."), "success")
    return redirect(url_for("drafts.index"))


def _draft_id(raw: str) -> int | None:
    """The form's draft id: none for a new draft; a number too big for any row is no row."""
    if not raw.strip():
        return None
    if (number := row_id(raw)) is None:
        abort(404)
    return number

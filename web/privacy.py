"""Personal data (admins): find what is held about one person, export it, erase it; the log."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from core.auth import Action
from core.i18n import ValidationErrors
from monitor import privacy
from web.context import db_session, services
from web.forms import EmptyForm, PrivacyForm
from web.permissions import requires

bp = Blueprint("privacy", __name__)


@bp.get("/admin/privacy")
@requires(Action.MANAGE_USERS)
def index() -> str | tuple[str, int]:
    session = db_session()
    subject = request.args.get("subject", "")
    found, problem = None, None
    if subject:
        try:
            found = privacy.find_person(session, current_user, subject)
            session.commit()  # the search is logged
        except ValidationErrors as errors:
            session.rollback()
            problem = "; ".join(_(e.message, **e.params) for e in errors.errors)
    page = render_template("admin/privacy.html", subject=subject, found=found, refusal=problem,
                           log=privacy.privacy_log(session, current_user), form=EmptyForm(),
                           days=services().settings.personal_data_days)
    return (page, 400) if problem else page


def _refused(form: PrivacyForm) -> tuple[str, int]:
    """The form's problems on the page, with nothing done (400)."""
    problem = "; ".join(str(e) for errors in form.errors.values() for e in errors)
    session = db_session()
    return render_template("admin/privacy.html", subject="", found=None, refusal=problem,
                           log=privacy.privacy_log(session, current_user), form=EmptyForm(),
                           days=services().settings.personal_data_days), 400


@bp.post("/admin/privacy/export")
@requires(Action.MANAGE_USERS)
def export() -> BaseResponse | tuple[str, int]:
    form = PrivacyForm()
    if not form.validate_on_submit():
        return _refused(form)
    subject = form.subject.data or ""
    session = db_session()
    try:
        body = privacy.export_person(session, current_user, subject)
    except ValidationErrors:
        session.rollback()
        return redirect(url_for("privacy.index", subject=subject))
    session.commit()
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": 'attachment; filename="megafon-personuppgifter.json"'})


@bp.post("/admin/privacy/erase")
@requires(Action.MANAGE_USERS)
def erase() -> BaseResponse | tuple[str, int]:
    form = PrivacyForm()
    if not form.validate_on_submit():
        return _refused(form)
    subject = form.subject.data or ""
    if not form.confirm.data:
        flash(_("Tick the box to confirm the erasure; nothing was erased."), "error")
        return redirect(url_for("privacy.index", subject=subject))
    session = db_session()
    try:
        done = privacy.erase_person(session, current_user, subject)
    except ValidationErrors:
        session.rollback()
        return redirect(url_for("privacy.index", subject=subject))
    session.commit()
    flash(_("Erased: the words and identity in %(num)s mentions are gone.", num=done), "success")
    return redirect(url_for("privacy.index"))

"""Administration (admins only): users, and the monthly report by e-mail."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response

from core.auth import Action, AuthError, add_user, user_admin
from core.i18n import ValidationErrors
from core.users import Role
from reports import mailing
from web.context import db_session
from web.forms import Rendered, ReportMailForm, UserForm, submit
from web.permissions import requires

bp = Blueprint("admin", __name__, url_prefix="/admin")

ROLE_LABELS = {
    Role.ADMIN: _l("Administrator"),
    Role.COMMS: _l("Comms team"),
    Role.CAMPAIGN_LEAD: _l("Campaign lead"),
    Role.BOARD: _l("Board"),
}


@bp.route("/users", methods=["GET", "POST"])
@requires(Action.MANAGE_USERS)
def users() -> str | Response | tuple[str, int]:
    session = db_session()
    listed = user_admin(session, current_user)
    form = UserForm()
    form.role.choices = [(r.value, str(label)) for r, label in ROLE_LABELS.items()]
    form.organisation_id.choices = [(o.id, o.name) for o in listed.organisations]
    error = None
    if form.validate_on_submit():
        try:
            add_user(session, current_user, email=form.email.data or "",
                     name=form.name.data or "", password=form.password.data or "",
                     role=Role(form.role.data), organisation_id=form.organisation_id.data)
        except AuthError as exc:
            session.rollback()
            error = str(exc)
        else:
            session.commit()
            flash(_("The user was created."), "success")
            return redirect(url_for("admin.users"))
    status = 400 if (error or form.errors) else 200
    return render_template("admin/users.html", form=form, users=listed.users, error=error,
                           role_labels=ROLE_LABELS), status


FIRST_WEEKDAY = "first-weekday"


@bp.route("/report-mail", methods=["GET", "POST"])
@requires(Action.MANAGE_REPORT_MAIL)
def report_mail() -> Response | Rendered:
    """Who receives the board's monthly report by e-mail and when; the latest mailings."""
    shown = mailing.mailing_admin(db_session(), current_user)
    form = ReportMailForm()
    first = _("The first working day (Monday–Friday, not a public holiday)")
    form.day.choices = [(FIRST_WEEKDAY, first)] + [
        (str(day), _("The %(day)s of the month", day=day))
        for day in range(1, mailing.LAST_DAY + 1)]
    form.hour.choices = [(hour, f"{hour:02d}:00") for hour in range(24)]
    if not form.is_submitted():
        form.day.data = FIRST_WEEKDAY if shown.day is None else str(shown.day)
        form.hour.data = shown.hour
        form.recipients.data = [user.id for user, receives in shown.candidates if receives]

    def page(errors: ValidationErrors | None) -> Rendered:
        return render_template(
            "admin/report_mail.html", form=form, shown=shown, errors=errors,
            chosen=set(form.recipients.data or []), role_labels=ROLE_LABELS,
            state_labels=mailing.STATE_LABELS,
            next_month=format_date(shown.next_period.first, "LLLL yyyy")), 400 if errors else 200

    return submit(
        form, lambda session: mailing.save_mailing(
            session, current_user, recipient_ids=form.recipients.data or [],
            day=None if form.day.data == FIRST_WEEKDAY else int(form.day.data or 0),
            hour=form.hour.data if form.hour.data is not None else -1),
        lambda _saved: _report_mail_saved(), page)


def _report_mail_saved() -> Response:
    flash(_("Saved: who receives the monthly report, and when."), "success")
    return redirect(url_for("admin.report_mail"))

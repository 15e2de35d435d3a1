"""Administration (admins only): users, and the monthly report by e-mail."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms.fields import SelectChoice

from core.audit import may_read
from core.auth import Action, add_user, update_user, user_admin, user_detail
from core.i18n import ValidationErrors
from core.users import Organisation, Role, User
from reports import mailing
from web.context import db_session
from web.forms import Rendered, ReportMailForm, UserEditForm, UserForm, submit
from web.permissions import requires

bp = Blueprint("admin", __name__, url_prefix="/admin")

ROLE_LABELS = {
    Role.ADMIN: _l("Administrator"),
    Role.COMMS: _l("Comms team"),
    Role.CAMPAIGN_LEAD: _l("Campaign lead"),
    Role.BOARD: _l("Board"),
}


def _choices(form: UserForm | UserEditForm, organisations: list[Organisation]) -> None:
    form.role.choices = [SelectChoice(r.value, str(label)) for r, label in ROLE_LABELS.items()]
    form.organisation_id.choices = [SelectChoice(o.id, o.name) for o in organisations]


@bp.route("/users", methods=["GET", "POST"])
@requires(Action.MANAGE_USERS)
def users() -> Response | Rendered:
    """Every user, and a form to add one: it starts at the least power (board, the district;
    core.auth.organisations_for lists the district first) and an administrator must be
    confirmed."""
    listed = user_admin(db_session(), current_user)
    form = UserForm()
    _choices(form, listed.organisations)
    if not form.is_submitted():
        form.role.data = Role.BOARD.value
        form.organisation_id.data = listed.organisations[0].id if listed.organisations else None

    def page(errors: ValidationErrors | None) -> Rendered:
        return render_template("admin/users.html", form=form, users=listed.users,
                               errors=errors, role_labels=ROLE_LABELS,
                               may_read_audit=may_read(current_user)), 400 if errors else 200

    def done(_user: User) -> Response:
        flash(_("The user was created."), "success")
        return redirect(url_for("admin.users"))

    return submit(form, lambda db: add_user(
        db, current_user, email=form.email.data or "", name=form.name.data or "",
        password=form.password.data or "", role=Role(form.role.data),
        organisation_id=form.organisation_id.data, confirm_admin=form.confirm_admin.data),
        done, page)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@requires(Action.MANAGE_USERS)
def user(user_id: int) -> Response | Rendered:
    """Change one user: name, role, organisation, active or not, a new password at the next
    login; with the account's history."""
    try:
        shown = user_detail(db_session(), current_user, user_id)
    except LookupError:
        abort(404)
    form = UserEditForm(obj=shown.user)
    _choices(form, shown.organisations)
    if not form.is_submitted():
        form.role.data = shown.user.role.value

    def page(errors: ValidationErrors | None) -> Rendered:
        return render_template("admin/user.html", form=form, shown=shown, errors=errors,
                               role_labels=ROLE_LABELS), 400 if errors else 200

    def done(_user: User) -> Response:
        flash(_("The user was changed."), "success")
        return redirect(url_for("admin.users"))

    return submit(form, lambda db: update_user(
        db, current_user, user_id, name=form.name.data or "", role=Role(form.role.data),
        organisation_id=form.organisation_id.data, active=form.active.data,
        must_change_password=form.must_change_password.data,
        confirm_admin=form.confirm_admin.data), done, page)


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

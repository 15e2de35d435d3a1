"""User administration (admins only)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response

from core.auth import Action, AuthError, add_user, user_admin
from core.users import Role
from web.context import db_session
from web.forms import UserForm
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

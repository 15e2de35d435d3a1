"""The audit log (the district's administrators only): who changed what, filtered, and as CSV.
Read-only: there is no route that changes or deletes an entry."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta

from flask import Blueprint, Response, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from core import audit
from core.auth import Action
from core.clock import local_to_utc
from core.text import row_id
from core.users import Organisation, User
from web.context import db_session
from web.forms import AuditFilterForm, Rendered
from web.permissions import requires

bp = Blueprint("audit", __name__, url_prefix="/admin")

ACTION_LABELS = {
    "create": _l("Created"), "update": _l("Changed"), "delete": _l("Deleted"),
    "cancel": _l("Cancelled"), "send_again": _l("Sent again"), "connect": _l("Connected"),
    "reconnect": _l("Reconnected"), "disconnect": _l("Disconnected"),
    "pause": _l("Paused"), "resume": _l("Resumed"), "revoke": _l("Revoked"),
    "erase": _l("Erased"), "rollout": _l("Rolled out"), "ask": _l("Asked"),
    "decline": _l("Declined"), "add_message": _l("Message added"),
    "link_post": _l("Post linked"), "change_password": _l("Own password changed"),
    "reset_password": _l("Password reset by e-mail"),
    "approve": _l("Approved"), "send_back": _l("Sent back"), "set_rules": _l("Rules set"),
}
TYPE_LABELS = {
    "post": _l("Post"), "account": _l("Account"), "user": _l("User"),
    "api_token": _l("API token"), "source": _l("Source"), "watchlist": _l("Issue"),
    "person": _l("Person"), "personal_data": _l("Personal data"), "campaign": _l("Campaign"),
    "campaign_ask": _l("Campaign ask"), "report_mail": _l("Monthly report by e-mail"),
    "event": _l("Event"), "approval_rules": _l("Approval rules"),
}


def _int(value: str | None) -> int | None:
    return row_id(value)


def _filter() -> tuple[AuditFilterForm, audit.AuditFilter | None]:
    """The form, filled with its menus (pairs, as the fast_select macro reads them), and what
    it asks for (None: a date that is no date)."""
    session = db_session()
    form = AuditFilterForm(request.args)
    anything = [("", _("All"))]
    actions, types = audit.choices(session, current_user)
    form.actor.choices = anything + [(str(u.id), u.name) for u in session.scalars(
        select(User).order_by(User.name))]
    form.action.choices = anything + [(a, str(ACTION_LABELS.get(a, a))) for a in actions]
    form.object_type.choices = anything + [(t, str(TYPE_LABELS.get(t, t))) for t in types]
    form.organisation.choices = anything + [(str(o.id), o.name) for o in session.scalars(
        select(Organisation).order_by(Organisation.kind.desc(), Organisation.name))]
    if not form.validate():
        return form, None
    start, end = form.date_from.data, form.date_to.data
    return form, audit.AuditFilter(
        actor_id=_int(request.args.get("actor")),
        action=(request.args.get("action") or "")[:40],
        object_type=(request.args.get("object_type") or "")[:40],
        organisation_id=_int(request.args.get("organisation")),
        since=local_to_utc(datetime.combine(start, datetime.min.time())) if start else None,
        until=local_to_utc(datetime.combine(end + timedelta(days=1), datetime.min.time()))
        if end else None)


def _page(form: AuditFilterForm, entries: list[audit.AuditEntry], status: int = 200
          ) -> Rendered:
    organisations = {o.id: o.name for o in db_session().scalars(select(Organisation))}
    return render_template("admin/audit.html", form=form, entries=entries,
                           organisations=organisations, action_labels=ACTION_LABELS,
                           type_labels=TYPE_LABELS, limit=audit.MAX_ENTRIES,
                           query=request.query_string.decode(),
                           changes_text=_changes_text), status


def _changes_text(entry: audit.AuditEntry) -> str:
    return json.dumps(entry.changes, ensure_ascii=False, sort_keys=True) if entry.changes else ""


@bp.get("/audit")
@requires(Action.VIEW_AUDIT)
def index() -> Rendered:
    audit.require_reader(current_user)
    form, wanted = _filter()
    if wanted is None:
        return _page(form, [], 400)
    return _page(form, audit.entries(db_session(), current_user, wanted))


@bp.get("/audit.csv")
@requires(Action.VIEW_AUDIT)
def export() -> Response | Rendered:
    """Every matching entry (no limit), as CSV for a spreadsheet (BOM: Excel reads UTF-8)."""
    audit.require_reader(current_user)
    form, wanted = _filter()
    if wanted is None:
        return _page(form, [], 400)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(audit.COLUMNS)
    writer.writerows(audit.as_row(e) for e in audit.entries(db_session(), current_user, wanted,
                                                             limit=None))
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": 'attachment; filename="megafon-audit.csv"'})

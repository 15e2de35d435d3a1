"""An account's posting schedule (its weekly slots) and its queue in order."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms import HiddenField, SelectField, StringField

from core.auth import Action, NotAllowed
from core.i18n import ValidationErrors
from core.text import row_id
from publisher import queue
from publisher.accounts import get_account_for
from publisher.models import Account
from publisher.posting_slots import WEEKDAYS, add_slot, remove_slot, slots_for
from web.context import db_session
from web.forms import Rendered, SafeForm, submit
from web.permissions import requires

bp = Blueprint("schedule", __name__, url_prefix="/accounts")
SHOWN = 100


class SlotForm(SafeForm):
    weekday = SelectField(validate_choice=False)
    time = StringField()


class RemoveSlotForm(SafeForm):
    slot_id = HiddenField()


def _account(account_id: int) -> Account:
    """The account, or 404 when it is not the reader's to see."""
    try:
        return get_account_for(db_session(), current_user, account_id)
    except NotAllowed:
        abort(404)


def _page(account: Account, form: SlotForm, errors: ValidationErrors | None,
          remove_form: RemoveSlotForm | None = None) -> Rendered:
    form.weekday.choices = [(str(n), _(name)) for n, name in enumerate(WEEKDAYS)]
    slots = slots_for(db_session(), current_user, account.id)
    page = render_template("schedule/slots.html", account=account, slots=slots, form=form,
                           errors=errors, weekdays=WEEKDAYS,
                           remove_form=remove_form or RemoveSlotForm())
    return page, 400 if errors is not None else 200


@bp.get("/<int:account_id>/schedule")
@requires(Action.VIEW_DASHBOARD)
def slots(account_id: int) -> Rendered:
    return _page(_account(account_id), SlotForm(), None)


@bp.post("/<int:account_id>/schedule")
@requires(Action.MANAGE_ACCOUNTS)
def add(account_id: int) -> Response | Rendered:
    account = _account(account_id)
    form = SlotForm()

    def done(_slot: object) -> Response:
        flash(_("The time is added to the schedule."), "success")
        return redirect(url_for("schedule.slots", account_id=account.id))

    return submit(form, lambda session: add_slot(
        session, current_user, account.id, form.weekday.data or "", form.time.data or ""),
        done, lambda errors: _page(account, form, errors))


@bp.post("/<int:account_id>/schedule/remove")
@requires(Action.MANAGE_ACCOUNTS)
def remove(account_id: int) -> Response | Rendered:
    account = _account(account_id)
    form = RemoveSlotForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _page(account, SlotForm(), ValidationErrors([]), remove_form=form)
    raw = (form.slot_id.data or "").strip()
    session = db_session()
    if (number := row_id(raw)) is not None and remove_slot(session, current_user, account.id,
                                                           number):
        session.commit()
        flash(_("The time is taken off the schedule."), "success")
    else:
        flash(_("That time was not on the schedule."), "error")
    return redirect(url_for("schedule.slots", account_id=account.id))


@bp.get("/<int:account_id>/queue")
@requires(Action.VIEW_DASHBOARD)
def account_queue(account_id: int) -> str:
    account = _account(account_id)
    waiting = queue.account_queue(db_session(), current_user, account.id, limit=SHOWN)
    return render_template("schedule/queue.html", account=account, waiting=waiting,
                           shown=SHOWN)

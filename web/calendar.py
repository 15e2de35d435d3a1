"""The publishing calendar: a week or a month of every account's posts, filtered, and moving a
post by dragging it (web/static/calendar.js) or with its own "Move" form (keyboard, no JS)."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms import HiddenField, IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, NumberRange

from campaigns.campaigns import campaign_post_ids, campaigns_for
from core.auth import Action, organisations_for
from core.clock import to_local, utcnow
from core.entered_time import EnteredTime, parse_date
from core.i18n import N_, UserError, ValidationErrors
from publisher.accounts import visible_accounts
from publisher.calendar import (
    MONTH,
    MONTHS,
    WEEK,
    Filters,
    authors,
    day_slots,
    entries,
    grid,
    move_post,
)
from publisher.models import DeliveryState
from publisher.posting_slots import WEEKDAYS
from web.context import db_session
from web.filters import localtime, translate_error
from web.forms import PlainForm, SafeForm
from web.permissions import requires

bp = Blueprint("calendar", __name__)

STATE_LABELS = {DeliveryState.SCHEDULED: N_("Scheduled"), DeliveryState.SENDING: N_("Sending"),
                DeliveryState.RETRY_WAIT: N_("Retrying"), DeliveryState.UNCERTAIN: N_("Checking"),
                DeliveryState.HELD: N_("On hold"), DeliveryState.PUBLISHED: N_("Published"),
                DeliveryState.FAILED: N_("Failed"), DeliveryState.CANCELLED: N_("Cancelled")}


class CalendarForm(PlainForm):
    """The query string: which view, which day, and the filters (choices set by the view)."""

    view = SelectField(default=WEEK)
    date = StringField()
    account = SelectField()
    organisation = SelectField()
    campaign = SelectField()
    state = SelectField()
    author = SelectField()


class MoveForm(SafeForm):
    post_id = IntegerField(validators=[InputRequired(), NumberRange(min=1, max=2**31 - 1)])
    date = StringField()
    time = StringField()
    reading = HiddenField()
    next = HiddenField()


def _choices(form: CalendarForm) -> None:
    session, user = db_session(), current_user
    everything = [("", _("All"))]
    form.view.choices = [(WEEK, _("Week")), (MONTH, _("Month"))]
    form.account.choices = everything + [
        (str(a.id), a.name) for a in visible_accounts(session, user, active_only=False)]
    form.organisation.choices = everything + [
        (str(o.id), o.name) for o in organisations_for(session, user)]
    form.campaign.choices = everything + [(str(c.id), c.name) for c in campaigns_for(session, user)]
    form.state.choices = everything + [(s.value, _(label)) for s, label in STATE_LABELS.items()]
    form.author.choices = everything + [(str(u.id), u.name) for u in authors(session, user)]


def _chosen(field: SelectField) -> int | None:
    return int(field.data) if field.data and not field.errors else None


@bp.get("/calendar")
@requires(Action.VIEW_DASHBOARD)
def index() -> tuple[str, int]:
    session = db_session()
    form = CalendarForm(request.args)
    _choices(form)
    form.validate()
    problems: list[UserError] = []
    today = to_local(utcnow()).date()
    day = parse_date(form.date.data or "") if form.date.data else today
    if day is None:
        problems.append(UserError(N_("Write the date as YYYY-MM-DD, e.g. 2026-05-04."),
                                  field="date"))
        day = today
    view = form.view.data if form.view.data in (WEEK, MONTH) and not form.view.errors else WEEK
    shown = grid(view, day)
    campaign = _chosen(form.campaign)
    filters = Filters(
        account_id=_chosen(form.account), organisation_id=_chosen(form.organisation),
        state=DeliveryState(form.state.data) if form.state.data and not form.state.errors
        else None, author_id=_chosen(form.author),
        post_ids=campaign_post_ids(session, current_user, campaign) if campaign else None)
    listed = entries(session, current_user, shown, filters)
    slot_accounts = ([filters.account_id] if filters.account_id else
                     [a.id for a in visible_accounts(session, current_user)])
    slots = day_slots(session, shown, slot_accounts) if view == WEEK else {}
    query = {k: v for k, v in request.args.items() if k not in ("view", "date") and v}
    status = 400 if problems or any(f.errors for f in form if f.name in request.args) else 200
    return render_template(
        "calendar/index.html", form=form, grid=shown, entries=listed, slots=slots,
        problems=problems, weekdays=WEEKDAYS, months=MONTHS, today=today, query=query,
        move_form=MoveForm(), here=request.full_path.rstrip("?"),
        heading=_heading(view, shown.day, shown.days[0], shown.days[-1])), status


def _heading(view: str, day: date, first: date, last: date) -> str:
    if view == MONTH:
        return f"{_(MONTHS[day.month - 1])} {day.year}"
    return _("Week %(number)s, %(first)s – %(last)s", number=day.isocalendar()[1],
             first=first.isoformat(), last=last.isoformat())


def _back(target: str | None) -> str:
    """Back to the calendar as it was shown; nowhere else (no open redirect)."""
    parts = urlsplit(target or "")
    if not parts.scheme and not parts.netloc and parts.path == url_for("calendar.index"):
        return url_for("calendar.index") + (f"?{parts.query}" if parts.query else "")
    return url_for("calendar.index")


@bp.post("/calendar/move")
@requires(Action.COMPOSE)
def move() -> Response | tuple[str, int]:
    form = MoveForm()
    back = _back(form.next.data)
    if not form.validate_on_submit():
        flash(_("Choose a post and the day and time to move it to."), "error")
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "error")
        page, _status = index()
        return page, 400
    session = db_session()
    to = EnteredTime(form.date.data or "", form.time.data or "", form.reading.data or "")
    try:
        post = move_post(session, current_user, form.post_id.data, to)
    except ValidationErrors as refused:
        session.rollback()
        for problem in refused.errors:
            flash(translate_error(problem), "error")
        return redirect(back)
    session.commit()
    flash(_("The post is moved to %(time)s.", time=localtime(post.scheduled_at)), "success")
    return redirect(back)

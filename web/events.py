"""Evenemang: events, their announcements and their calendars.

Views read a form, call one service of campaigns.events and render; the service checks who may
change which event (core.auth, by the event's organiser). The public calendar (/events.ics) needs
no login; the members' calendar is reached by a person's secret link.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy.orm import Session
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import Length

from campaigns import events as service
from campaigns.calendar import calendar
from campaigns.event_models import Announcement
from campaigns.models import Event, EventKind
from core.auth import Action, require
from core.entered_time import EnteredTime
from core.i18n import ValidationErrors
from core.text import row_id
from publisher.accounts import visible_accounts
from publisher.models import Platform
from web.context import db_session
from web.forms import CheckboxListField, EmptyForm, Rendered, SafeForm, submit
from web.permissions import requires

bp = Blueprint("events", __name__)


def kind_label(kind: EventKind | str) -> str:
    labels = {EventKind.MEETING: _("Meeting"), EventKind.LECTURE: _("Lecture"),
              EventKind.COURSE: _("Course"),
              EventKind.ELECTION_CONFERENCE: _("Election conference"),
              EventKind.CAMPAIGN: _("Campaign activity"), EventKind.OTHER: _("Other")}
    return labels[EventKind(kind)]


def announcement_label(which: Announcement | str) -> str:
    labels = {Announcement.WEEK: _("A week before"), Announcement.DAY: _("The day before"),
              Announcement.MORNING: _("The same morning"),
              Announcement.CANCELLATION: _("Cancellation")}
    return labels[Announcement(which)]


class EventForm(SafeForm):
    title = StringField(_l("Title"), validators=[Length(max=200)])
    kind = SelectField(_l("Kind"), validate_choice=False)
    description = TextAreaField(_l("Description"), validators=[Length(max=10000)])
    place = StringField(_l("Place"), validators=[Length(max=300)])
    municipality_id = SelectField(_l("Municipality"), validate_choice=False)
    start_date = StringField(_l("Starts: date"))
    start_time = StringField(_l("Starts: time"))
    end_date = StringField(_l("Ends: date"))
    end_time = StringField(_l("Ends: time"))
    organiser_id = SelectField(_l("Organiser"), validate_choice=False)
    partners = TextAreaField(_l("Together with (unions, associations)"),
                             validators=[Length(max=2000)])
    public = BooleanField(_l("Public (shown in the public calendar)"), default=True)
    link = StringField(_l("Link"), validators=[Length(max=2000)])
    campaign_id = SelectField(_l("Campaign"), validate_choice=False)


class AnnounceForm(SafeForm):
    accounts = CheckboxListField(_l("Accounts"), coerce=int, validate_choice=False)
    which = CheckboxListField(_l("Announcements"), validate_choice=False,
                              default=[a.value for a in service.ANNOUNCEMENTS])
    hour = StringField(_l("At (Swedish time)"), default="08:00")
    language = SelectField(_l("Language"), validate_choice=False, default="sv")


class CancellationForm(SafeForm):
    cancellation_accounts = CheckboxListField(_l("Accounts"), coerce=int, validate_choice=False)
    cancellation_language = SelectField(_l("Language"), validate_choice=False, default="sv")


class TemplatesForm(SafeForm):
    language = SelectField(_l("Language"), validate_choice=False, default="sv")
    week = TextAreaField(_l("A week before"), validators=[Length(max=2000)])
    day = TextAreaField(_l("The day before"), validators=[Length(max=2000)])
    morning = TextAreaField(_l("The same morning"), validators=[Length(max=2000)])
    cancellation = TextAreaField(_l("Cancellation"), validators=[Length(max=2000)])


def _languages() -> list[SelectChoice]:
    return [SelectChoice("sv", _("Swedish")), SelectChoice("en", _("English"))]


def _number(text: str | None) -> int | None:
    return row_id(text)


def _event_choices(form: EventForm, session: Session) -> None:
    form.kind.choices = [SelectChoice(k.value, kind_label(k)) for k in EventKind]
    form.municipality_id.choices = [SelectChoice("", _("No municipality"))] + [
        SelectChoice(str(m.id), m.name) for m in service.municipalities(session)]
    form.organiser_id.choices = [SelectChoice(str(o.id), o.name)
                                 for o in service.organisers(session, current_user)]
    form.campaign_id.choices = [SelectChoice("", _("No campaign"))] + [
        SelectChoice(str(c.id), c.name) for c in service.campaigns(session)]


def _draft(form: EventForm) -> service.EventDraft:
    return service.EventDraft(
        title=form.title.data or "", organiser_id=_number(form.organiser_id.data) or 0,
        starts=EnteredTime(form.start_date.data or "", form.start_time.data or ""),
        ends=EnteredTime(form.end_date.data or "", form.end_time.data or ""),
        kind=form.kind.data or "", description=form.description.data or "",
        place=form.place.data or "", municipality_id=_number(form.municipality_id.data),
        partners=form.partners.data or "", public=bool(form.public.data),
        link=form.link.data or "", campaign_id=_number(form.campaign_id.data))


def _event(event_id: int) -> Event:
    try:
        return service.event_for(db_session(), current_user, event_id)
    except LookupError:
        abort(404)


def _done(message: str, event_id: int, anchor: str | None = None) -> Response:
    flash(message, "success")
    return redirect(url_for("events.detail", event_id=event_id, _anchor=anchor))


@bp.get("/events")
@requires(Action.VIEW_EVENTS)
def index() -> str:
    session = db_session()
    municipality = _number(request.args.get("municipality"))
    past = request.args.get("when") == "past"
    found = service.events_for(session, current_user, municipality_id=municipality, past=past)
    return render_template("events/index.html", events=found, past=past,
                           municipalities=service.municipalities(session),
                           chosen_municipality=municipality, kind_label=kind_label,
                           may_manage=service.may_manage(current_user),
                           may_edit_templates=service.may_edit_templates(current_user),
                           has_feed_token=service.has_feed_token(session, current_user))


@bp.route("/events/new", methods=["GET", "POST"])
@requires(Action.MANAGE_EVENTS)
def new() -> Response | Rendered:
    session = db_session()
    form = EventForm()
    _event_choices(form, session)

    def page(errors: ValidationErrors | None) -> Rendered:
        return render_template("events/form.html", form=form, errors=errors, event=None), (
            422 if errors else 200)

    return submit(form, lambda s: service.create_event(s, current_user, _draft(form)),
                  lambda event: _done(_("The event %(title)s is saved.", title=event.title),
                                      event.id), page)


@bp.route("/events/<int:event_id>/edit", methods=["GET", "POST"])
@requires(Action.MANAGE_EVENTS)
def edit(event_id: int) -> Response | Rendered:
    session = db_session()
    event = _event(event_id)
    require(current_user, Action.MANAGE_EVENTS, event.organiser_id)
    form = EventForm()
    if request.method == "GET":
        starts, ends = EnteredTime.showing(event.starts_at), EnteredTime.showing(event.ends_at)
        form = EventForm(formdata=None, title=event.title, description=event.description,
                         place=event.place, partners=event.partners, public=event.public,
                         start_date=starts.date,
                         start_time=starts.time, end_date=ends.date, end_time=ends.time,
                         kind=event.kind.value, organiser_id=str(event.organiser_id),
                         municipality_id=str(event.municipality_id or ""),
                         campaign_id=str(event.campaign_id or ""), link=event.link or "")
    _event_choices(form, session)

    def page(errors: ValidationErrors | None) -> Rendered:
        return render_template("events/form.html", form=form, errors=errors, event=event), (
            422 if errors else 200)

    return submit(form, lambda s: service.edit_event(s, current_user, event_id, _draft(form)),
                  lambda changed: _done(_("The event is changed; its announcements that have "
                                          "not gone out follow it."), event_id), page)


def _detail_page(event_id: int, errors: ValidationErrors | None = None,
                 announce_form: AnnounceForm | None = None,
                 cancellation_form: CancellationForm | None = None) -> Rendered:
    session = db_session()
    event = _event(event_id)
    accounts = visible_accounts(session, current_user)
    announce_form = announce_form or AnnounceForm(formdata=None)
    announce_form.accounts.choices = [
        SelectChoice(a.id, f"{a.name} ({'X' if a.platform is Platform.X else 'Facebook'})")
        for a in accounts]
    announce_form.which.choices = [SelectChoice(a.value, announcement_label(a))
                                   for a in service.ANNOUNCEMENTS]
    announce_form.language.choices = _languages()
    if cancellation_form is None:
        cancellation_form = CancellationForm(formdata=None)
        cancellation_form.cancellation_accounts.data = service.announced_accounts(session,
                                                                                  event_id)
    cancellation_form.cancellation_accounts.choices = announce_form.accounts.choices
    cancellation_form.cancellation_language.choices = _languages()
    return render_template(
        "events/detail.html", event=event, errors=errors, kind_label=kind_label,
        announcement_label=announcement_label,
        announcements=service.announcements_of(session, event_id),
        may_manage=service.may_manage(current_user, event) and bool(accounts),
        may_change=service.may_manage(current_user, event),
        announce_form=announce_form, cancellation_form=cancellation_form,
        cancel_form=EmptyForm(formdata=None),
        cancellation_text=service.cancellation_text(session, event)), 422 if errors else 200


@bp.get("/events/<int:event_id>")
@requires(Action.VIEW_EVENTS)
def detail(event_id: int) -> Rendered:
    return _detail_page(event_id)


@bp.post("/events/<int:event_id>/announce")
@requires(Action.MANAGE_EVENTS)
def announce(event_id: int) -> Response | Rendered:
    form = AnnounceForm()

    def done(result: service.Announced) -> Response:
        message = ngettext("%(num)d announcement is queued as an ordinary post.",
                           "%(num)d announcements are queued as ordinary posts.",
                           len(result.posts))
        if result.skipped:
            message += " " + _("Skipped, their time has passed: %(which)s.", which=", ".join(
                announcement_label(w) for w in result.skipped))
        return _done(message, event_id, "announcements")

    return submit(form, lambda s: service.announce(s, current_user, event_id,
                                                   service.AnnounceDraft(
                                                       list(form.accounts.data or []),
                                                       list(form.which.data or []),
                                                       form.hour.data or "",
                                                       form.language.data or "sv")),
                  done, lambda errors: _detail_page(event_id, errors, announce_form=form))


@bp.post("/events/<int:event_id>/cancel")
@requires(Action.MANAGE_EVENTS)
def cancel(event_id: int) -> Response | Rendered:
    form = EmptyForm()
    return submit(form, lambda s: service.cancel_event(s, current_user, event_id),
                  lambda cancelled: _done(ngettext(
                      "The event is cancelled. %(num)d announcement that had not gone out is "
                      "cancelled.", "The event is cancelled. %(num)d announcements that had not "
                      "gone out are cancelled.", len(cancelled)), event_id, "cancellation"),
                  lambda errors: _detail_page(event_id, errors))


@bp.post("/events/<int:event_id>/cancellation")
@requires(Action.MANAGE_EVENTS)
def cancellation(event_id: int) -> Response | Rendered:
    form = CancellationForm()
    return submit(form, lambda s: service.post_cancellation(
                      s, current_user, event_id, list(form.cancellation_accounts.data or []),
                      form.cancellation_language.data or "sv"),
                  lambda post: _done(_("The cancellation is queued as post %(number)s.",
                                       number=post.id), event_id, "announcements"),
                  lambda errors: _detail_page(event_id, errors, cancellation_form=form))


@bp.route("/events/templates", methods=["GET", "POST"])
@requires(Action.MANAGE_EVENTS)
def templates() -> Response | Rendered:
    session = db_session()
    language = request.values.get("language", "sv")
    language = language if language in service.LANGUAGES else "sv"
    texts = service.template_texts(session, language)
    form = TemplatesForm() if request.method == "POST" else TemplatesForm(
        formdata=None, language=language, **{w.value: t for w, t in texts.items()})
    form.language.choices = _languages()

    def page(errors: ValidationErrors | None) -> Rendered:
        return render_template("events/templates.html", form=form, errors=errors,
                               placeholders=service.PLACEHOLDERS,
                               may_edit=service.may_edit_templates(current_user)), (
            422 if errors else 200)

    def change(s: Session) -> str:
        service.save_templates(s, current_user, language, {
            w: getattr(form, w.value).data or "" for w in Announcement})
        return language

    def done(chosen: str) -> Response:
        flash(_("The announcement texts are saved."), "success")
        return redirect(url_for("events.templates", language=chosen))

    return submit(form, change, done, page)


@bp.post("/events/calendar-link")
@requires(Action.VIEW_EVENTS)
def calendar_link() -> Rendered:
    """A new secret link to the members' calendar, shown once (the old one stops working)."""
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    session = db_session()
    secret = service.new_feed_token(session, current_user)
    session.commit()
    return render_template("events/calendar_link.html",
                           link=url_for("events.members_feed", token=secret, _external=True),
                           public=url_for("events.public_feed", _external=True)), 200


def _ics(body: bytes, name: str) -> Response:
    return Response(body, mimetype="text/calendar", headers={
        "Content-Disposition": f'inline; filename="{name}"', "Cache-Control": "no-store"})


@bp.get("/events.ics")
def public_feed() -> Response:
    """The public events, for anyone's calendar: no login."""
    found = service.feed_events(db_session(), members=False)
    return _ics(calendar(found, name=_("Events"), host=request.host), "events.ics")


@bp.get("/events/members/<token>.ics")
def members_feed(token: str) -> Response:
    """Every event, members-only ones too, for the person whose secret link this is."""
    session = db_session()
    if service.feed_user(session, token) is None:
        abort(404)
    found = service.feed_events(session, members=True)
    page = url_for("events.detail", event_id=0, _external=True).rsplit("/", 1)[0] + "/{id}"
    return _ics(calendar(found, name=_("Events (members)"), host=request.host, page_url=page),
                "members.ics")

"""Setting up monitoring: sources and clippings, watchlists with a live query test, people, and
each user's own alert settings. Views are glue around monitor.admin and monitor.log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields import DateTimeLocalField
from wtforms.validators import Optional

from core.auth import Action
from core.clock import LocalTimeError, local_to_utc
from core.i18n import N_, UserError, ValidationErrors
from monitor import admin, log
from monitor.models import Person, Priority, Source, SourceKind, Watchlist
from publisher.models import Account, Platform
from web.context import db_session
from web.forms import EmptyForm
from web.mentions import KIND_LABELS, PRIORITY_LABELS, SOURCE_STATE_LABELS, TRIAGE_LABELS
from web.permissions import requires

bp = Blueprint("monitoring", __name__)

KIND_HINTS = {
    SourceKind.FEED: _l("An RSS or Atom feed: give its address."),
    SourceKind.PAGE: _l("A web page or section front: Megafon reads the articles it links to."),
    SourceKind.X_SEARCH: _l("Recent posts on X that contain the search words."),
    SourceKind.FB_COMMENTS: _l("Comments on the posts of a connected Facebook Page."),
    SourceKind.MANUAL: _l("Print and radio clippings entered by hand; nothing is fetched."),
}


class SourceForm(FlaskForm):
    name = StringField(_l("Name"))
    kind = SelectField(_l("Kind"), validate_choice=False)
    outlet = StringField(_l("Outlet"))
    url = StringField(_l("Web address"))
    interval_minutes = IntegerField(_l("Check every (minutes)"), validators=[Optional()])
    query = StringField(_l("Search words on X"))
    account_id = SelectField(_l("Facebook Page"), validate_choice=False)


class ClippingForm(FlaskForm):
    outlet = StringField(_l("Outlet"))
    published_at = DateTimeLocalField(_l("Published (Swedish time)"), format="%Y-%m-%dT%H:%M",
                                      validators=[Optional()])
    title = StringField(_l("Headline"))
    text = TextAreaField(_l("Text"))
    link = StringField(_l("Link (optional)"))


class WatchlistForm(FlaskForm):
    name = StringField(_l("Name"))
    query = TextAreaField(_l("Query"))
    priority = SelectField(_l("Priority"), validate_choice=False)
    active = BooleanField(_l("Active"), default=True)
    watchlist_id = HiddenField()


class PersonForm(FlaskForm):
    name = StringField(_l("Name"))
    aliases = TextAreaField(_l("Also written as (one per line)"))
    party = SelectField(_l("Party"), validate_choice=False)
    title = StringField(_l("Title"))


def _labels() -> dict[str, Any]:
    return {"kind_labels": KIND_LABELS, "triage_labels": TRIAGE_LABELS,
            "priority_labels": PRIORITY_LABELS, "source_state_labels": SOURCE_STATE_LABELS,
            "kind_hints": KIND_HINTS}


def _render(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    return render_template(template, action_form=EmptyForm(), **_labels(), **context), status


# --- Sources ----------------------------------------------------------------------------------


def _source_form(source: Source | None = None) -> SourceForm:
    if source is not None and request.method == "GET":
        config = admin.source_config(source)
        form = SourceForm(formdata=None, name=source.name, kind=source.kind.value,
                          outlet=source.outlet, url=source.url or "",
                          interval_minutes=source.interval_seconds // 60,
                          query=config.get("query", ""), account_id=config.get("account_id", ""))
    else:
        form = SourceForm(interval_minutes=1) if request.method == "GET" else SourceForm()
    form.kind.choices = [(k.value, str(label)) for k, label in KIND_LABELS.items()]
    pages = db_session().scalars(select(Account).where(Account.platform == Platform.FACEBOOK,
                                                       Account.active.is_(True))
                                 .order_by(Account.name))
    form.account_id.choices = [("", "—")] + [(str(a.id), a.name) for a in pages]
    return form


def _source_input(form: SourceForm) -> admin.SourceInput:
    return admin.SourceInput(name=form.name.data or "", kind=form.kind.data or "",
                             outlet=form.outlet.data or "", url=form.url.data,
                             interval_minutes=form.interval_minutes.data,
                             query=form.query.data, account_id=form.account_id.data)


def _form_errors(form: FlaskForm) -> ValidationErrors:
    """WTForms' own complaints (a number that is not a number) in the domain's shape."""
    return ValidationErrors([UserError(N_("Check this field."), field=name)
                             for name in form.errors if name != "csrf_token"])


@bp.get("/sources")
@requires(Action.MANAGE_MONITORING)
def sources() -> tuple[str, int]:
    return _render("monitoring/sources.html",
                   sources=admin.list_sources(db_session(), current_user))


@bp.route("/sources/new", methods=["GET", "POST"])
@requires(Action.MANAGE_MONITORING)
def new_source() -> Response | tuple[str, int]:
    session = db_session()
    form = _source_form()
    errors = None
    if form.validate_on_submit():
        try:
            source = admin.create_source(session, current_user, _source_input(form))
        except ValidationErrors as exc:
            session.rollback()
            errors = exc
        else:
            session.commit()
            flash(_("%(name)s is added and will be checked shortly.", name=source.name),
                  "success")
            return redirect(url_for("monitoring.source", source_id=source.id))
    elif form.errors:
        errors = _form_errors(form)
    return _render("monitoring/source_form.html", 400 if errors else 200, form=form,
                   errors=errors, source=None)


@bp.route("/sources/<int:source_id>", methods=["GET", "POST"])
@requires(Action.MANAGE_MONITORING)
def source(source_id: int) -> Response | tuple[str, int]:
    session = db_session()
    found = session.get(Source, source_id)
    if found is None:
        abort(404)
    form = _source_form(found)
    errors = None
    if form.validate_on_submit():
        try:
            admin.update_source(session, current_user, source_id, _source_input(form))
        except ValidationErrors as exc:
            session.rollback()
            errors = exc
        else:
            session.commit()
            flash(_("The source is saved."), "success")
            return redirect(url_for("monitoring.source", source_id=source_id))
    elif form.errors:
        errors = _form_errors(form)
    found = session.get(Source, source_id)
    return _render("monitoring/source.html", 400 if errors else 200, source=found, form=form,
                   errors=errors, history=admin.source_history(session, source_id))


@bp.post("/sources/<int:source_id>/pause")
@requires(Action.MANAGE_MONITORING)
def pause(source_id: int) -> Response:
    return _pause_or_resume(source_id, admin.pause_source,
                            _("%(name)s is paused: it is not checked until you resume it."))


@bp.post("/sources/<int:source_id>/resume")
@requires(Action.MANAGE_MONITORING)
def resume(source_id: int) -> Response:
    return _pause_or_resume(source_id, admin.resume_source,
                            _("%(name)s is resumed and is checked now."))


def _pause_or_resume(source_id: int, change: Any, done: str) -> Response:
    if not EmptyForm().validate_on_submit():
        abort(400)
    session = db_session()
    try:
        changed = change(session, current_user, source_id)
    except LookupError:
        abort(404)
    session.commit()
    if changed:
        flash(done % {"name": session.get(Source, source_id).name}, "success")
    return redirect(url_for("monitoring.source", source_id=source_id))


# --- Clippings --------------------------------------------------------------------------------


@bp.route("/clippings/new", methods=["GET", "POST"])
@requires(Action.MANAGE_MONITORING)
def new_clipping() -> Response | tuple[str, int]:
    """A print or radio story entered by hand, matched and stored like any polled item."""
    from monitor.sources.manual import add_clipping

    session = db_session()
    form = ClippingForm()
    errors = None
    if form.validate_on_submit():
        try:
            mention = add_clipping(session, form.outlet.data or "", _clipping_time(form),
                                   form.title.data or "", form.text.data or "", form.link.data,
                                   current_user)
        except ValidationErrors as exc:
            session.rollback()
            errors = exc
        else:
            session.commit()
            if mention is not None:
                issues = log.watchlist_names(session, [mention])[mention.id]
                flash(_("The clipping is in the mention log under %(issues)s.",
                        issues=", ".join(issues)), "success")
                return redirect(url_for("mentions.detail", mention_id=mention.id))
            flash(_("The clipping matches none of the issues, so it is not in the mention log."),
                  "warning")
            return redirect(url_for("monitoring.new_clipping"))
    elif form.errors:
        errors = _form_errors(form)
    return _render("monitoring/clipping.html", 400 if errors else 200, form=form, errors=errors,
                   outlets=admin.manual_source_outlets(session))


def _clipping_time(form: ClippingForm) -> datetime | None:
    """The Swedish wall-clock time entered, in UTC; one in the spring DST gap is refused."""
    if form.published_at.data is None:
        return None
    try:
        return local_to_utc(form.published_at.data)
    except LocalTimeError:
        raise ValidationErrors([UserError(
            N_("%(time)s does not exist in Swedish time: the clocks jump from 02:00 to 03:00 "
               "that night."), field="published_at",
            time=form.published_at.data.strftime("%Y-%m-%d %H:%M"))]) from None


# --- Watchlists -------------------------------------------------------------------------------


def _watchlist_form(watchlist: Watchlist | None = None) -> WatchlistForm:
    if watchlist is not None and request.method == "GET":
        form = WatchlistForm(formdata=None, name=watchlist.name, query=watchlist.query,
                             priority=watchlist.priority.value, active=watchlist.active,
                             watchlist_id=str(watchlist.id))
    else:
        form = WatchlistForm()
    form.priority.choices = [(p.value, str(label)) for p, label in PRIORITY_LABELS.items()]
    return form


def _watchlist_input(form: WatchlistForm) -> admin.WatchlistInput:
    return admin.WatchlistInput(name=form.name.data or "", query=form.query.data or "",
                                priority=form.priority.data or Priority.NORMAL,
                                active=bool(form.active.data))


def _localize(error: UserError) -> UserError:
    """A query problem's reason in the reader's language (the parser's msgid, translated)."""
    if isinstance(error, admin.QueryProblem):
        cause = error.cause
        error.params["reason"] = _(getattr(cause, "message", str(cause)),
                                   **(getattr(cause, "params", None) or {}))
    return error


def _watchlist_page(form: WatchlistForm, watchlist: Watchlist | None,
                    errors: ValidationErrors | None = None, test: dict | None = None,
                    status: int = 200) -> tuple[str, int]:
    session = db_session()
    for error in errors.errors if errors else []:
        _localize(error)
    suggestions = log.suggested_not_terms(session, watchlist.id) if watchlist else []
    return _render("monitoring/watchlist.html", 400 if errors else status, form=form,
                   watchlist=watchlist, errors=errors, test=test, suggestions=suggestions)


@bp.get("/watchlists")
@requires(Action.MANAGE_MONITORING)
def watchlists() -> tuple[str, int]:
    session = db_session()
    found = admin.list_watchlists(session)
    return _render("monitoring/watchlists.html", watchlists=found,
                   stats=log.watchlist_stats(session))


@bp.route("/watchlists/new", methods=["GET", "POST"])
@requires(Action.MANAGE_MONITORING)
def new_watchlist() -> Response | tuple[str, int]:
    session = db_session()
    form = _watchlist_form()
    if form.validate_on_submit():
        try:
            watchlist = admin.create_watchlist(session, current_user, _watchlist_input(form))
        except ValidationErrors as exc:
            session.rollback()
            return _watchlist_page(form, None, exc)
        session.commit()
        flash(_("%(name)s is watched from now on.", name=watchlist.name), "success")
        return redirect(url_for("monitoring.watchlist", watchlist_id=watchlist.id))
    return _watchlist_page(form, None, _form_errors(form) if form.errors else None)


@bp.route("/watchlists/<int:watchlist_id>", methods=["GET", "POST"])
@requires(Action.MANAGE_MONITORING)
def watchlist(watchlist_id: int) -> Response | tuple[str, int]:
    session = db_session()
    found = session.get(Watchlist, watchlist_id)
    if found is None:
        abort(404)
    form = _watchlist_form(found)
    if form.validate_on_submit():
        try:
            admin.update_watchlist(session, current_user, watchlist_id, _watchlist_input(form))
        except ValidationErrors as exc:
            session.rollback()
            return _watchlist_page(form, session.get(Watchlist, watchlist_id), exc)
        session.commit()
        flash(_("The issue is saved."), "success")
        return redirect(url_for("monitoring.watchlist", watchlist_id=watchlist_id))
    return _watchlist_page(form, found, _form_errors(form) if form.errors else None)


@bp.post("/watchlists/<int:watchlist_id>/delete")
@requires(Action.MANAGE_MONITORING)
def delete_watchlist(watchlist_id: int) -> Response:
    if not EmptyForm().validate_on_submit():
        abort(400)
    session = db_session()
    found = session.get(Watchlist, watchlist_id)
    if found is None:
        abort(404)
    name = found.name
    admin.delete_watchlist(session, current_user, watchlist_id)
    session.commit()
    flash(_("%(name)s is no longer watched. Its mentions stay in the log.", name=name),
          "success")
    return redirect(url_for("monitoring.watchlists"))


@bp.post("/watchlists/test")
@requires(Action.MANAGE_MONITORING)
def test_query() -> tuple[str, int]:
    """Run the query over the last 30 days: a fragment for the page's script, else the page."""
    form = _watchlist_form()
    if not form.validate_on_submit():
        abort(400)
    session = db_session()
    query = form.query.data or ""
    test: dict[str, Any] = {"query": query, "days": 30}
    problem = admin.query_problem(query)
    if problem is not None:
        test["error"] = _localize(problem)
        position = problem.position if isinstance(problem, admin.QueryProblem) else -1
        test["before"], test["at"], test["after"] = _around(query, position)
    else:
        test["results"], test["searched"] = log.test_query(session, query, days=30)
    if request.form.get("fragment"):
        return _render("monitoring/_query_test.html", test=test)
    watchlist = session.get(Watchlist, int(form.watchlist_id.data)) \
        if (form.watchlist_id.data or "").isdigit() else None
    return _watchlist_page(form, watchlist, test=test)


def _around(query: str, position: int) -> tuple[str, str, str]:
    """The query split around the character where the error is (a space past the end)."""
    if position < 0:
        return "", "", query
    if position >= len(query):
        return query, " ", ""
    return query[:position], query[position], query[position + 1:]


# --- People -----------------------------------------------------------------------------------


def _person_form(person: Person | None = None) -> PersonForm:
    if person is not None and request.method == "GET":
        form = PersonForm(formdata=None, name=person.name, aliases=person.aliases,
                          party=person.party, title=person.title)
    else:
        form = PersonForm(party="V") if request.method == "GET" else PersonForm()
    form.party.choices = [(p, p) for p in admin.PARTIES]
    return form


def _person_input(form: PersonForm) -> admin.PersonInput:
    return admin.PersonInput(name=form.name.data or "", aliases=form.aliases.data or "",
                             party=form.party.data or "", title=form.title.data or "")


@bp.route("/people", methods=["GET", "POST"])
@requires(Action.MANAGE_MONITORING)
def people() -> Response | tuple[str, int]:
    session = db_session()
    form = _person_form()
    errors = None
    if form.validate_on_submit():
        try:
            person = admin.create_person(session, current_user, _person_input(form))
        except ValidationErrors as exc:
            session.rollback()
            errors = exc
        else:
            session.commit()
            flash(_("%(name)s is added.", name=person.name), "success")
            return redirect(url_for("monitoring.people"))
    return _render("monitoring/people.html", 400 if errors else 200, form=form, errors=errors,
                   people=admin.list_people(session), split_aliases=admin.split_aliases)


@bp.route("/people/<int:person_id>", methods=["GET", "POST"])
@requires(Action.MANAGE_MONITORING)
def person(person_id: int) -> Response | tuple[str, int]:
    session = db_session()
    found = session.get(Person, person_id)
    if found is None:
        abort(404)
    form = _person_form(found)
    errors = None
    if form.validate_on_submit():
        try:
            admin.update_person(session, current_user, person_id, _person_input(form))
        except ValidationErrors as exc:
            session.rollback()
            errors = exc
        else:
            session.commit()
            flash(_("The person is saved."), "success")
            return redirect(url_for("monitoring.people"))
    return _render("monitoring/person.html", 400 if errors else 200, form=form, errors=errors,
                   person=session.get(Person, person_id))


@bp.post("/people/<int:person_id>/delete")
@requires(Action.MANAGE_MONITORING)
def delete_person(person_id: int) -> Response:
    if not EmptyForm().validate_on_submit():
        abort(400)
    session = db_session()
    found = session.get(Person, person_id)
    if found is None:
        abort(404)
    name = found.name
    admin.delete_person(session, current_user, person_id)
    session.commit()
    flash(_("%(name)s is removed from the list.", name=name), "success")
    return redirect(url_for("monitoring.people"))


# --- My alerts --------------------------------------------------------------------------------


@bp.route("/alerts", methods=["GET", "POST"])
@requires(Action.VIEW_MENTIONS)
def alerts() -> Response | tuple[str, int]:
    session = db_session()
    form = EmptyForm()
    errors = None
    if form.validate_on_submit():
        wanted = []
        for raw in request.form.getlist("watchlist"):
            if not raw.isdigit():
                continue
            hour = request.form.get(f"digest_{raw}", "")
            wanted.append(admin.SubscriptionInput(
                watchlist_id=int(raw), immediate=bool(request.form.get(f"immediate_{raw}")),
                digest_hour=int(hour) if hour.lstrip("-").isdigit() else None))
        try:
            admin.save_subscriptions(session, current_user, wanted)
        except ValidationErrors as exc:
            session.rollback()
            errors = exc
        else:
            session.commit()
            flash(_("Your alert settings are saved."), "success")
            return redirect(url_for("monitoring.alerts"))
    return _render("monitoring/alerts.html", 400 if errors else 200, form=form, errors=errors,
                   rows=admin.subscriptions(session, current_user), hours=range(24))

"""Setting up monitoring: sources and clippings, watchlists with a live query test, people, and
each user's own alert settings. Views are glue: read the form, call one service of monitor.admin
(or monitor.sources.manual, monitor.query_trial), and answer through web.forms.submit."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response

from core.auth import Action
from core.entered_time import EnteredTime
from core.i18n import UserError, ValidationErrors
from core.text import row_id
from monitor import admin, mention_search, not_terms, query_trial
from monitor.models import Mention, Person, Priority, Source, SourceKind, Watchlist
from monitor.sources.manual import add_clipping
from publisher.accounts import visible_accounts
from publisher.models import Platform
from web.context import db_session
from web.forms import (
    CONTROL_MESSAGE,
    ClippingForm,
    EmptyForm,
    PersonForm,
    Rendered,
    SourceForm,
    WatchlistForm,
    has_control_characters,
    submit,
)
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


def _labels() -> dict[str, Any]:
    return {"kind_labels": KIND_LABELS, "triage_labels": TRIAGE_LABELS,
            "priority_labels": PRIORITY_LABELS, "source_state_labels": SOURCE_STATE_LABELS,
            "kind_hints": KIND_HINTS,
            # Issues, people and news sources are the district's (monitor.admin decides; the
            # pages only leave out what would be refused).
            "shared_editable": admin.is_district_user(current_user)}


def _render(template: str, errors: ValidationErrors | None = None, **context: Any) -> Rendered:
    """The page, with the problems at their fields and 400 when there are any."""
    return render_template(template, action_form=EmptyForm(), errors=errors, **_labels(),
                           **context), 400 if errors else 200


def _done(message: str, endpoint: str, category: str = "success", **values: Any) -> Response:
    flash(message, category)
    return redirect(url_for(endpoint, **values))


def _found(model: type, row_id: int) -> Any:
    """The row the page is about, or 404."""
    found = db_session().get(model, row_id)
    if found is None:
        abort(404)
    return found


# --- Sources ----------------------------------------------------------------------------------


def _own_source(source_id: int) -> Source:
    """The source the page is about: 404 if there is none, 403 if it is another
    organisation's (monitor.admin decides)."""
    try:
        return admin.get_source(db_session(), current_user, source_id)
    except LookupError:
        abort(404)


def _source_form(source: Source | None = None) -> SourceForm:
    if source is not None and request.method == "GET":
        config = admin.source_config(source)
        account = admin.source_account(source)
        form = SourceForm(formdata=None, name=source.name, kind=source.kind.value,
                          outlet=source.outlet, url=source.url or "",
                          interval_minutes=source.interval_seconds // 60,
                          query=config.get("query", ""),
                          account_id=str(account) if account is not None else "")
    else:
        form = SourceForm(interval_minutes=1) if request.method == "GET" else SourceForm()
    kinds = admin.source_kinds_for(current_user)
    form.kind.choices = [(k.value, str(label)) for k, label in KIND_LABELS.items() if k in kinds]
    # Only the accounts in the user's scope: X accounts search, Facebook Pages read comments.
    accounts = [a for a in visible_accounts(db_session(), current_user)
                if a.platform in (Platform.X, Platform.FACEBOOK)]
    form.account_id.choices = [("", "—")] + [
        (str(a.id), f"{a.name} ({'X' if a.platform is Platform.X else 'Facebook'})")
        for a in accounts]
    return form


def _source_input(form: SourceForm) -> admin.SourceInput:
    return admin.SourceInput(name=form.name.data or "", kind=form.kind.data or "",
                             outlet=form.outlet.data or "", url=form.url.data,
                             interval_minutes=form.interval_minutes.data,
                             query=form.query.data, account_id=form.account_id.data)


@bp.get("/sources")
@requires(Action.MANAGE_MONITORING)
def sources() -> Rendered:
    return _render("monitoring/sources.html",
                   sources=admin.list_sources(db_session(), current_user))


@bp.route("/sources/new", methods=["GET", "POST"])
@requires(Action.MANAGE_MONITORING)
def new_source() -> Response | Rendered:
    form = _source_form()
    return submit(
        form, lambda session: admin.create_source(session, current_user, _source_input(form)),
        lambda source: _done(_("%(name)s is added and will be checked shortly.",
                               name=source.name), "monitoring.source", source_id=source.id),
        lambda errors: _render("monitoring/source_form.html", errors, form=form, source=None))


@bp.route("/sources/<int:source_id>", methods=["GET", "POST"])
@requires(Action.MANAGE_MONITORING)
def source(source_id: int) -> Response | Rendered:
    form = _source_form(_own_source(source_id))
    return submit(
        form, lambda session: admin.update_source(session, current_user, source_id,
                                                  _source_input(form)),
        lambda _source: _done(_("The source is saved."), "monitoring.source",
                              source_id=source_id),
        lambda errors: _render("monitoring/source.html", errors, form=form,
                               source=_own_source(source_id),
                               history=admin.source_history(db_session(), source_id)))


@bp.post("/sources/<int:source_id>/pause")
@requires(Action.MANAGE_MONITORING)
def pause(source_id: int) -> Response | Rendered:
    return _pause_or_resume(source_id, admin.pause_source,
                            _("%(name)s is paused: it is not checked until you resume it."))


@bp.post("/sources/<int:source_id>/resume")
@requires(Action.MANAGE_MONITORING)
def resume(source_id: int) -> Response | Rendered:
    return _pause_or_resume(source_id, admin.resume_source,
                            _("%(name)s is resumed and is checked now."))


def _pause_or_resume(source_id: int, change: Any, done: str) -> Response | Rendered:
    def said(changed: bool) -> Response:
        if changed:
            flash(done % {"name": _own_source(source_id).name}, "success")
        return redirect(url_for("monitoring.source", source_id=source_id))

    return submit(EmptyForm(), lambda session: change(session, current_user, source_id), said)


# --- Clippings --------------------------------------------------------------------------------


@bp.route("/clippings/new", methods=["GET", "POST"])
@requires(Action.MANAGE_MONITORING)
def new_clipping() -> Response | Rendered:
    """A print or radio story entered by hand, matched and stored like any polled item."""
    form = ClippingForm()
    return submit(
        form, lambda session: add_clipping(
            session, form.outlet.data or "",
            EnteredTime(form.published_date.data or "", form.published_time.data or ""),
            form.title.data or "",
            form.text.data or "", form.link.data, current_user),
        _clipping_added,
        lambda errors: _render("monitoring/clipping.html", errors, form=form,
                               outlets=admin.manual_source_outlets(db_session())))


def _clipping_added(mention: Mention | None) -> Response:
    if mention is None:
        return _done(_("The clipping matches none of the issues, so it is not in the mention "
                       "log."), "monitoring.new_clipping", "warning")
    issues = mention_search.watchlist_names(db_session(), [mention])[mention.id]
    return _done(_("The clipping is in the mention log under %(issues)s.",
                   issues=", ".join(issues)), "mentions.detail", mention_id=mention.id)


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


def _watchlist_page(form: WatchlistForm, watchlist_id: int | None,
                    errors: ValidationErrors | None = None,
                    test: dict | None = None) -> Rendered:
    session = db_session()
    for error in errors.errors if errors else []:
        _localize(error)
    watchlist = session.get(Watchlist, watchlist_id) if watchlist_id else None
    suggestions = not_terms.suggested_not_terms(session, watchlist.id) if watchlist else []
    return _render("monitoring/watchlist.html", errors, form=form, watchlist=watchlist,
                   test=test, suggestions=suggestions)


@bp.get("/watchlists")
@requires(Action.MANAGE_MONITORING)
def watchlists() -> Rendered:
    session = db_session()
    return _render("monitoring/watchlists.html", watchlists=admin.list_watchlists(session),
                   stats=mention_search.watchlist_stats(session))


@bp.route("/watchlists/new", methods=["GET", "POST"])
@requires(Action.MANAGE_MONITORING)
def new_watchlist() -> Response | Rendered:
    form = _watchlist_form()
    return submit(
        form, lambda session: admin.create_watchlist(session, current_user,
                                                     _watchlist_input(form)),
        lambda watchlist: _done(_("%(name)s is watched from now on.", name=watchlist.name),
                                "monitoring.watchlist", watchlist_id=watchlist.id),
        lambda errors: _watchlist_page(form, None, errors))


@bp.route("/watchlists/<int:watchlist_id>", methods=["GET", "POST"])
@requires(Action.MANAGE_MONITORING)
def watchlist(watchlist_id: int) -> Response | Rendered:
    form = _watchlist_form(_found(Watchlist, watchlist_id))
    return submit(
        form, lambda session: admin.update_watchlist(session, current_user, watchlist_id,
                                                     _watchlist_input(form)),
        lambda _watchlist: _done(_("The issue is saved."), "monitoring.watchlist",
                                 watchlist_id=watchlist_id),
        lambda errors: _watchlist_page(form, watchlist_id, errors))


@bp.post("/watchlists/<int:watchlist_id>/delete")
@requires(Action.MANAGE_MONITORING)
def delete_watchlist(watchlist_id: int) -> Response | Rendered:
    return submit(
        EmptyForm(), lambda session: admin.delete_watchlist(session, current_user, watchlist_id),
        lambda name: _done(_("%(name)s is no longer watched. Its mentions stay in the log.",
                             name=name), "monitoring.watchlists"))


@bp.post("/watchlists/test")
@requires(Action.MANAGE_MONITORING)
def test_query() -> Rendered:
    """Run the query over the last 30 days: a fragment for the page's script, else the page."""
    form = _watchlist_form()
    valid = form.validate_on_submit()
    if not valid and not (form.errors.keys() <= {"query", "name"} and form.query.errors):
        abort(400)
    query = form.query.data or ""
    test: dict[str, Any] = {"query": query, "days": 30}
    problem = admin.query_problem(query) if valid else UserError(CONTROL_MESSAGE, field="query")
    if problem is not None:
        test["error"] = _localize(problem)
        position = problem.position if isinstance(problem, admin.QueryProblem) else -1
        test["before"], test["at"], test["after"] = _around(query, position)
    else:
        test["results"], test["searched"] = query_trial.try_query(db_session(), query, days=30)
    if request.form.get("fragment"):
        return _render("monitoring/_query_test.html", test=test)
    watchlist_id = form.watchlist_id.data or ""
    return _watchlist_page(form, row_id(watchlist_id),
                           test=test)


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
def people() -> Response | Rendered:
    form = _person_form()
    return submit(
        form, lambda session: admin.create_person(session, current_user, _person_input(form)),
        lambda person: _done(_("%(name)s is added.", name=person.name), "monitoring.people"),
        lambda errors: _render("monitoring/people.html", errors, form=form,
                               people=admin.list_people(db_session()),
                               split_aliases=admin.split_aliases))


@bp.route("/people/<int:person_id>", methods=["GET", "POST"])
@requires(Action.MANAGE_MONITORING)
def person(person_id: int) -> Response | Rendered:
    form = _person_form(_found(Person, person_id))
    return submit(
        form, lambda session: admin.update_person(session, current_user, person_id,
                                                  _person_input(form)),
        lambda _person: _done(_("The person is saved."), "monitoring.people"),
        lambda errors: _render("monitoring/person.html", errors, form=form,
                               person=_found(Person, person_id)))


@bp.post("/people/<int:person_id>/delete")
@requires(Action.MANAGE_MONITORING)
def delete_person(person_id: int) -> Response | Rendered:
    return submit(
        EmptyForm(), lambda session: admin.delete_person(session, current_user, person_id),
        lambda name: _done(_("%(name)s is removed from the list.", name=name),
                           "monitoring.people"))


# --- My alerts --------------------------------------------------------------------------------


def _subscriptions_input() -> list[admin.SubscriptionInput]:
    """The alerts page's rows: one checkbox per issue, with its immediate box and digest hour.
    (Read by hand, not by a WTForm: the shared rule against control characters is kept here.)"""
    if has_control_characters(list(request.form.values())):
        raise ValidationErrors([UserError(CONTROL_MESSAGE)])
    wanted = []
    for raw in request.form.getlist("watchlist"):
        if row_id(raw) is None:
            continue
        hour = request.form.get(f"digest_{raw}", "")
        wanted.append(admin.SubscriptionInput(
            watchlist_id=int(raw), immediate=bool(request.form.get(f"immediate_{raw}")),
            digest_hour=int(hour) if hour.lstrip("-").isascii() and hour.lstrip("-").isdigit()
            and len(hour) <= 3 else None))
    return wanted


@bp.route("/alerts", methods=["GET", "POST"])
@requires(Action.VIEW_MENTIONS)
def alerts() -> Response | Rendered:
    form = EmptyForm()
    return submit(
        form, lambda session: admin.save_subscriptions(session, current_user,
                                                       _subscriptions_input()),
        lambda _saved: _done(_("Your alert settings are saved."), "monitoring.alerts"),
        lambda errors: _render("monitoring/alerts.html", errors, form=form,
                               rows=admin.subscriptions(db_session(), current_user),
                               hours=range(24)))

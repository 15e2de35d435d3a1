"""The mention log: find mentions, read them with the matched words marked, triage, respond."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from core.auth import Action, can
from core.clock import ensure_utc, utcnow
from core.i18n import ValidationErrors
from core.text import CONTROL_CHARACTERS, row_id
from core.users import User
from monitor import fulltext, highlight, mention_search, not_terms
from monitor import respond as respond_service
from monitor import triage as triage_service
from monitor.models import (
    Mention,
    MentionsSeen,
    Person,
    Priority,
    SourceKind,
    SourceState,
    Triage,
    Watchlist,
)
from monitor.query import QueryError
from publisher import replies
from publisher.models import Account, Platform, Post
from web.context import db_session
from web.forms import (
    FIRST_YEAR,
    LAST_YEAR,
    EmptyForm,
    FilterForm,
    Rendered,
    ReplyForm,
    TriageForm,
    submit,
)
from web.permissions import requires

bp = Blueprint("mentions", __name__)
logger = logging.getLogger(__name__)
PER_PAGE = 25
SEEN_EVERY = timedelta(seconds=30)

KIND_LABELS = {
    SourceKind.FEED: _l("News feed"),
    SourceKind.PAGE: _l("Web page"),
    SourceKind.X_SEARCH: _l("X search"),
    SourceKind.FB_COMMENTS: _l("Facebook comments"),
    SourceKind.MANUAL: _l("Clipping"),
}
TRIAGE_LABELS = {
    Triage.NEW: _l("To triage"),
    Triage.RELEVANT: _l("Relevant"),
    Triage.NOT_RELEVANT: _l("Not relevant"),
}
PRIORITY_LABELS = {Priority.NORMAL: _l("Normal"), Priority.HIGH: _l("High")}
SOURCE_STATE_LABELS = {
    SourceState.OK: _l("OK"),
    SourceState.FAILING: _l("Failing"),
    SourceState.PAUSED: _l("Paused"),
}


def _int(value: str | None) -> int | None:
    """An id from the query string; anything else (or beyond what a database id can be) is
    no filter at all rather than an error."""
    return row_id(value)


def _text(value: str | None) -> str:
    """A filter's words without control characters: the form marks them (web.forms), and the
    search goes on without them rather than failing (PostgreSQL refuses a NUL byte)."""
    return CONTROL_CHARACTERS.sub(" ", value or "")


def _filter_form(args: MultiDict[str, str]) -> tuple[FilterForm, mention_search.MentionFilter]:
    session = db_session()
    form = FilterForm(args)
    anything = [("", _("All"))]
    choices = mention_search.filter_choices(session)
    form.watchlist.choices = anything + [(str(i), name) for i, name in choices.watchlists]
    form.party.choices = anything + [(p, p) for p in mention_search.parties()]
    form.person.choices = anything + [(str(i), name) for i, name in choices.people]
    form.outlet.choices = anything + [(o, o) for o in choices.outlets]
    form.kind.choices = anything + [(k.value, str(label)) for k, label in KIND_LABELS.items()]
    form.triage.choices = anything + [(t.value, str(label)) for t, label in TRIAGE_LABELS.items()]
    form.assignee.choices = anything + [(str(u.id), u.name)
                                        for u in triage_service.assignees(session)]
    form.own.choices = [("", _("Shown, marked")),
                        (mention_search.OWN_HIDDEN, _("Hidden")),
                        (mention_search.OWN_ONLY, _("Only ours"))]
    form.order.choices = [("time", _("Newest first")), ("arrival", _("Latest arrivals first")),
                          ("relevance", _("Best match first (when searching)"))]
    form.validate()  # only the dates can be wrong; a wrong date is ignored and marked
    kind = args.get("kind") or ""
    triage = args.get("triage") or ""
    own = args.get("own") or ""
    filters = mention_search.MentionFilter(
        watchlist_id=_int(args.get("watchlist")),
        party=_text(args.get("party")).strip().upper() or None,
        person_id=_int(args.get("person")),
        outlet=_text(args.get("outlet")) or None,
        source_kind=SourceKind(kind) if kind in set(SourceKind) else None,
        date_from=form.date_from.data if not form.date_from.errors else None,
        date_to=form.date_to.data if not form.date_to.errors else None,
        triage=Triage(triage) if triage in set(Triage) else None,
        assignee_id=_int(args.get("assignee")),
        text=_text(args.get("q")).strip()[:200] or None,
        own=own if own in (mention_search.OWN_HIDDEN, mention_search.OWN_ONLY) else None,
    )
    return form, filters


def _seen_until(user: User) -> Any:
    seen = db_session().get(MentionsSeen, user.id)
    return seen.seen_until if seen else None


def _mark_seen(seen_until: Any) -> None:
    """The log was looked at now. Written at most every SEEN_EVERY: a page read a few seconds
    after the last changes nothing a person would notice, and a write per GET would cost every
    request of the log a commit."""
    from monitor.alerts import mark_mentions_seen

    now = utcnow()
    if seen_until is not None and now - ensure_utc(seen_until) < SEEN_EVERY:
        return
    session = db_session()
    try:
        mark_mentions_seen(session, current_user, now)
        session.commit()
    except SQLAlchemyError:  # reading the log must work even if this bookkeeping fails
        session.rollback()
        logger.exception("cannot mark mentions seen")


@bp.get("/mentions")
@requires(Action.VIEW_MENTIONS)
def index() -> str:
    session = db_session()
    form, filters = _filter_form(request.args)
    older, newer, day = _position(request.args)
    search_error, searched = None, None
    try:
        found = mention_search.search(session, current_user, filters, per_page=PER_PAGE,
                                      order=request.args.get("order", "time"),
                                      older_than=older, newer_than=newer, on_or_before=day,
                                      offset=_int(request.args.get("from")) or 0)
        searched = fulltext.parse_search(filters.text) if filters.text else None
    except QueryError as error:  # a search that cannot be read: said where and why, no results
        search_error = _("At character %(position)s: %(reason)s", position=error.position + 1,
                         reason=_(error.message, **error.params))
        found = mention_search.Page([], mention_search.Count(0, True), PER_PAGE)
    last_seen = _seen_until(current_user)
    seen_until = ensure_utc(last_seen or current_user.created_at)
    _mark_seen(last_seen)
    assigned = {m.assigned_to_id for m in found.items if m.assigned_to_id}
    users = dict(session.execute(select(User.id, User.name).where(User.id.in_(assigned))).all()
                 ) if assigned else {}
    args = {k: v for k, v in request.args.items()
            if v and k not in ("older", "newer", "day", "page", "from")}
    return render_template(
        "mentions/index.html", form=form, filters=filters, page=found, args=args,
        search_error=search_error, search_hits=_search_hits(searched),
        issues=mention_search.watchlist_names(session, found.items),
        person_names=_person_names(found.items),
        own_accounts=_own_accounts(found.items), users=users,
        seen_until=seen_until, action_form=EmptyForm(), **_texts(), **_labels())


def _search_hits(searched: fulltext.Search | None) -> Any:
    """For the template: the spans to mark in a mention: the words that made it a mention and,
    with a search, the searched words too (None: the first only)."""
    def hits(mention: Mention) -> list[dict[str, int]] | None:
        if searched is None:
            return None
        doc = highlight.document(mention.title, mention.text)
        return [{"start": s, "end": e} for s, e in highlight.parse_hits(mention.hits)] + \
            fulltext.spans(doc, searched)

    return hits


def _position(args: Any) -> tuple[mention_search.Position | None,
                                   mention_search.Position | None, date | None]:
    """Where the page starts: after an `older` or before a `newer` position, or on a day
    (`day=YYYY-MM-DD`, the jump to a date). A link that cannot be read shows the newest page
    and says why, rather than failing."""
    try:
        older = mention_search.Position.parse(args["older"]) if args.get("older") else None
        newer = mention_search.Position.parse(args["newer"]) if args.get("newer") else None
    except mention_search.BadCursor:
        flash(_("That page link could not be read; here are the newest mentions."), "warning")
        return None, None, None
    day = None
    if args.get("day"):
        try:
            day = date.fromisoformat(args["day"])
        except ValueError:
            flash(_("Not a date: write it as YYYY-MM-DD."), "warning")
        else:
            if not FIRST_YEAR <= day.year <= LAST_YEAR:
                flash(_("Not a date: write it as YYYY-MM-DD."), "warning")
                day = None
    return older, newer, day


def _person_names(mentions: Any = None) -> Any:
    """A function giving the names of the people a mention names (of `mentions`' people only,
    when given)."""
    query = select(Person.id, Person.name)
    if mentions is not None:
        wanted = {i for m in mentions for i in m.person_ids}
        query = query.where(Person.id.in_(wanted))
    people = dict(db_session().execute(query).all()) if mentions is None or wanted else {}

    def names(mention) -> list[str]:  # noqa: ANN001
        return [people[i] for i in mention.person_ids if i in people]

    return names


def _own_accounts(mentions: Any) -> dict[int, str]:
    """The names of our accounts that wrote these mentions (monitor.own), by account id."""
    ids = {m.own_account_id for m in mentions if m.own_account_id}
    return dict(db_session().execute(select(Account.id, Account.name)
                                     .where(Account.id.in_(ids))).all()) if ids else {}


def _mention_or_404(mention_id: int):  # noqa: ANN202 - a Mention
    mention = mention_search.get_mention(db_session(), current_user, mention_id)
    if mention is None:
        abort(404)
    return mention


def _detail(mention_id: int, form: TriageForm | None = None,
            errors: ValidationErrors | None = None) -> tuple[str, int]:
    session = db_session()
    mention = _mention_or_404(mention_id)
    if form is None:
        form = TriageForm(formdata=None, state=mention.triage.value,
                          assignee_id=str(mention.assigned_to_id or ""), note=mention.note or "")
    _triage_choices(form)
    response = session.get(Post, mention.response_post_id) if mention.response_post_id else None
    suggestions = not_terms.suggestions_for(session, current_user, mention)
    return render_template(
        "mentions/detail.html", mention=mention, form=form, errors=errors,
        issues=mention_search.watchlist_names(session, [mention])[mention.id],
        person_names=_person_names(), own_accounts=_own_accounts([mention]),
        assignee=session.get(User, mention.assigned_to_id) if mention.assigned_to_id else None,
        response=response, suggestions=suggestions, action_form=EmptyForm(), **_texts(),
        may_reply_in_thread=can(current_user, Action.COMPOSE) and bool(
            replies.reply_accounts(session, current_user, _reply_target(mention))),
        watchlists={w.id: w for w in session.scalars(select(Watchlist))}, **_labels(),
    ), 400 if errors else 200


def _triage_choices(form: TriageForm) -> None:
    form.state.choices = [(t.value, str(label)) for t, label in TRIAGE_LABELS.items()]
    form.assignee_id.choices = [("", _("Nobody"))] + [
        (str(u.id), u.name) for u in triage_service.assignees(db_session())]


@bp.get("/mentions/<int:mention_id>")
@requires(Action.VIEW_MENTIONS)
def detail(mention_id: int) -> tuple[str, int]:
    return _detail(mention_id)


def _safe_next(target: str | None, fallback: str) -> str:
    parts = urlsplit(target or "")
    if target and not parts.scheme and not parts.netloc and parts.path.startswith("/mentions"):
        return target
    return fallback


@bp.post("/mentions/<int:mention_id>/triage")
@requires(Action.TRIAGE_MENTIONS)
def triage(mention_id: int) -> Response | Rendered:
    form = TriageForm()
    _triage_choices(form)
    _mention_or_404(mention_id)
    note = form.note.data if "note" in request.form else triage_service.KEEP
    assignee = (_int(form.assignee_id.data) if "assignee_id" in request.form
                else triage_service.KEEP)
    return submit(
        form, lambda session: triage_service.triage(session, current_user, mention_id,
                                                    form.state.data or None, note=note,
                                                    assignee_id=assignee),
        lambda mention: _triaged(mention, form.next.data),
        lambda errors: _detail(mention_id, form, errors))


def _triaged(mention: Mention, next_url: str | None) -> Response:
    flash(_("Saved: %(title)s is %(state)s.", title=_short(mention.title),
            state=str(TRIAGE_LABELS[mention.triage]).lower()), "success")
    session = db_session()
    for watchlist_id, found in not_terms.suggestions_for(session, current_user, mention).items():
        watchlist = session.get(Watchlist, watchlist_id)
        if watchlist is not None:
            flash(_("Words that keep turning up in mentions of %(issue)s marked not relevant: "
                    "%(words)s. Adding NOT with one of them to the query would leave such "
                    "stories out.", issue=watchlist.name,
                    words=", ".join(s.word for s in found)), "info")
    return redirect(_safe_next(next_url, url_for("mentions.detail", mention_id=mention.id)))


def _short(title: str) -> str:
    return title if len(title) <= 60 else title[:57].rstrip() + "…"


@bp.post("/mentions/<int:mention_id>/respond")
@requires(Action.TRIAGE_MENTIONS)
def respond(mention_id: int) -> Response | Rendered:
    """Answer the mention: the composer opens with its link and a quote; the post is linked."""
    return submit(EmptyForm(),
                  lambda session: respond_service.start_response(session, current_user,
                                                                 mention_id),
                  lambda _mention: redirect(url_for("compose.compose", mention=mention_id)))


def _reply_target(mention: Mention) -> replies.ReplyTarget | None:
    """Where the mention was said, as the publisher names it (monitor.respond.thread_of)."""
    thread = respond_service.thread_of(db_session(), mention)
    if thread is None:
        return None
    return replies.ReplyTarget(Platform(thread.platform), thread.external_id,
                               thread.owner_account_id)


@bp.route("/mentions/<int:mention_id>/reply", methods=["GET", "POST"])
@requires(Action.TRIAGE_MENTIONS)
def reply(mention_id: int) -> Response | Rendered:
    """Svara: a reply in the mention's thread, from an account that may write there; beside it,
    a new post with the link (the composer, as before)."""
    mention = _mention_or_404(mention_id)
    target = _reply_target(mention)
    form = ReplyForm()
    account = form.account.data or ""

    def change(session: Any) -> Post:
        post = replies.create_reply(session, current_user, target,
                                    row_id(account), form.text.data or "")
        respond_service.link_response(session, current_user, mention_id, post.id)
        return post

    def done(_post: Post) -> Response:
        flash(_("Your reply is queued; it goes out in the thread as soon as possible."),
              "success")
        return redirect(url_for("mentions.detail", mention_id=mention_id))

    return submit(form, change, done, lambda errors: _reply_page(mention, target, form, errors))


def _reply_page(mention: Mention, target: replies.ReplyTarget | None, form: ReplyForm,
                errors: ValidationErrors | None) -> tuple[str, int]:
    session = db_session()
    accounts = replies.reply_accounts(session, current_user, target)
    if not form.account.data and len(accounts) == 1:
        form.account.data = str(accounts[0].id)
    response = session.get(Post, mention.response_post_id) if mention.response_post_id else None
    return render_template(
        "mentions/reply.html", mention=mention, target=target, form=form, errors=errors,
        accounts=accounts, response=response, own_accounts=_own_accounts([mention]),
        **_texts(), **_labels()), 400 if errors else 200


def _texts() -> dict[str, Any]:
    """What the templates call to show a mention: its time, its lists, its marked words."""
    return {"when": mention_search.when, "marks": highlight}


def _labels() -> dict[str, Any]:
    return {"kind_labels": KIND_LABELS, "triage_labels": TRIAGE_LABELS,
            "priority_labels": PRIORITY_LABELS, "source_state_labels": SOURCE_STATE_LABELS}


@bp.app_context_processor
def unread_badge() -> dict[str, Any]:
    def unread_mentions() -> int:
        if not current_user.is_authenticated or not can(current_user, Action.VIEW_MENTIONS):
            return 0
        try:
            from monitor.alerts import unread_mentions as count

            found = count(db_session(), current_user)
        except SQLAlchemyError:  # an error page must still render when the database is down
            logger.exception("cannot count unread mentions")
            return 0
        return found if isinstance(found, int) else len(found)

    return {"unread_mentions": unread_mentions}

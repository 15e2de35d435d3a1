"""The API's operations: thin, like the pages' views — read the request, call one domain
service with the token's user, shape the answer (web.api.schemas)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from flask.views import MethodView

from campaigns import asks as ask_service
from campaigns import campaigns as campaign_service
from campaigns import county as county_service
from campaigns import coverage
from campaigns import election as election_service
from campaigns import events as event_service
from campaigns.models import Event
from core.auth import Action, NotAllowed, can
from core.clock import STOCKHOLM, utcnow
from core.entered_time import EnteredTime
from core.i18n import ValidationErrors
from core.text import row_id
from monitor import mention_search
from monitor.admin import list_watchlists
from monitor.mention_search import MentionFilter, Position
from monitor.models import Mention
from monitor.triage import triage
from publisher import approval
from publisher import deliveries as delivery_states
from publisher.accounts import visible_accounts
from publisher.deliveries import cancel_for, delivery_for
from publisher.models import Delivery, DeliveryState, Post
from publisher.posts import DraftImage, PostDraft, create_post, edit_post, post_for, posts_for
from reports import snapshots
from reports.period import parse
from web.api import schemas
from web.api.base import ApiError, api_blueprint, caller, decode_cursor, encode_cursor, writes
from web.context import db_session, discard_changes, services

accounts_bp = api_blueprint("api_accounts", __name__, "/accounts",
                            "The accounts the caller may publish to (never credentials)")
posts_bp = api_blueprint("api_posts", __name__, "/posts",
                         "Posts: queue, list, read, cancel; each with its deliveries")
deliveries_bp = api_blueprint("api_deliveries", __name__, "/deliveries",
                              "A delivery (a post on one account) and its history")
mentions_bp = api_blueprint("api_mentions", __name__, "/mentions",
                            "The mention log: search and triage")
watchlists_bp = api_blueprint("api_watchlists", __name__, "/watchlists",
                              "The issues watched (watchlists) and their queries")
reports_bp = api_blueprint("api_reports", __name__, "/reports", "The board's report, as JSON")
campaigns_bp = api_blueprint("api_campaigns", __name__, "/campaigns",
                             "Campaigns and their coverage: which account carried them, how")
events_bp = api_blueprint("api_events", __name__, "/events",
                         "Events: list, read, create, change, cancel and announce them")
county_bp = api_blueprint("api_county", __name__, "/county",
                          "The county's municipalities, their associations and what reached them")
election_bp = api_blueprint("api_election", __name__, "/election",
                            "The election plan: the weeks to election day and what is in them")
reviews_bp = api_blueprint("api_reviews", __name__, "/reviews",
                           "Posts waiting for the caller's approval")
BLUEPRINTS = (accounts_bp, posts_bp, deliveries_bp, mentions_bp, watchlists_bp, reports_bp,
              campaigns_bp, events_bp, county_bp, election_bp, reviews_bp)


def _may(action: Action) -> None:
    """A role that may not do this at all is told so (403); an object outside the caller's
    organisation is answered as missing (404, web.api.base)."""
    if not can(caller().user, action):
        raise ApiError(403, "Your role may not do this.")


@accounts_bp.route("")
class Accounts(MethodView):
    @accounts_bp.response(200, schemas.AccountList)
    def get(self) -> dict[str, Any]:
        """The active accounts in the caller's organisation(s)."""
        _may(Action.VIEW_DASHBOARD)
        return {"items": visible_accounts(db_session(), caller().user)}


@posts_bp.route("")
class Posts(MethodView):
    @posts_bp.arguments(schemas.PostListArgs, location="query")
    @posts_bp.response(200, schemas.PostPage)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Posts on the caller's accounts, newest first, a page at a time."""
        _may(Action.VIEW_DASHBOARD)
        before = None
        if args["cursor"]:
            before = decode_cursor(args["cursor"])
            if row_id(before) is None:
                raise ApiError(400, "The cursor is not one this API gave.")
        items, more = posts_for(db_session(), caller().user,
                                before_id=int(before) if before else None, limit=args["limit"])
        return {"items": items,
                "next_cursor": encode_cursor(str(items[-1].id)) if more and items else None}

    @posts_bp.arguments(schemas.PostIn)
    @posts_bp.response(201, schemas.PostOut)
    @writes
    def post(self, body: dict[str, Any]) -> Post:
        """Queue a post on one or more accounts: at a time (ISO 8601 with offset) or at once.
        Checked by every chosen network's rules, as in the composer."""
        _may(Action.COMPOSE)
        session = db_session()
        when = body["scheduled_at"]
        with _accounts_refused():
            post = create_post(session, caller().user, PostDraft(
                text=body["text"], account_ids=body["account_ids"], link=body["link"],
                text_x=body["text_x"], text_facebook=body["text_facebook"],
                scheduled_local=_local(when) if when is not None else None,
                thread=body["thread"], first_comment=body["first_comment"]))
        session.commit()
        return post


@posts_bp.route("/<int:post_id>")
class OnePost(MethodView):
    @posts_bp.response(200, schemas.PostOut)
    def get(self, post_id: int) -> Post:
        """One post and its deliveries."""
        _may(Action.VIEW_DASHBOARD)
        return _post(post_id)

    @posts_bp.arguments(schemas.PostChange)
    @posts_bp.response(200, schemas.PostOut)
    @writes
    def patch(self, body: dict[str, Any], post_id: int) -> Post:
        """Change a post that has not gone out anywhere yet, with the composer's rules."""
        _may(Action.COMPOSE)
        session = db_session()
        post = _post(post_id)
        accounts = body.get("account_ids")
        if accounts is None:
            accounts = [d.account_id for d in post.deliveries
                        if d.state is not DeliveryState.CANCELLED]
        when = body.get("scheduled_at", post.scheduled_at)
        draft = PostDraft(
            text=body.get("text", post.text), account_ids=accounts,
            text_x=body.get("text_x", post.text_x),
            text_facebook=body.get("text_facebook", post.text_facebook),
            link=body.get("link", post.link),
            scheduled_local=_local(when) if when is not None else None,
            thread=body.get("thread", [part.text for part in post.parts]),
            first_comment=body.get("first_comment", post.first_comment),
            media=[DraftImage(m.media_id, m.alt_text, f"#{m.position}") for m in post.media])
        with _accounts_refused():
            changed = edit_post(session, caller().user, post_id, draft)
        session.commit()
        session.expire_all()  # the deliveries moved in SQL: read them as they are now
        return changed


@posts_bp.route("/<int:post_id>/cancel")
class CancelPost(MethodView):
    @posts_bp.response(200, schemas.CancelOut)
    @writes
    def post(self, post_id: int) -> dict[str, Any]:
        """Cancel every delivery of the post that has not gone out yet."""
        _may(Action.COMPOSE)
        session = db_session()
        post = _post(post_id)
        cancelled = [d.id for d in post.deliveries
                     if delivery_states.can_cancel(d)
                     and cancel_for(session, caller().user, d.id)]
        session.commit()
        session.expire_all()  # the deliveries moved in SQL: read them as they are now
        return {"cancelled": cancelled, "post": post}


@contextmanager
def _accounts_refused() -> Iterator[None]:
    """The post service refuses an account outside the caller's scope (NotAllowed, the role
    having been checked first): for a request body that is bad input on `account_ids`."""
    try:
        yield
    except NotAllowed:
        discard_changes()
        raise ApiError(422, "Not accounts you may publish to.", fields={
            "account_ids": ["Only accounts you may publish to (GET /api/v1/accounts)."]}
        ) from None


def _local(when: datetime) -> datetime:
    """An instant as Stockholm wall-clock time, its fold kept (which of a doubled hour)."""
    return when.astimezone(STOCKHOLM).replace(tzinfo=None)


def _post(post_id: int) -> Post:
    if post_id > 2**62:
        raise ApiError(404, "Not found.")
    return post_for(db_session(), caller().user, post_id)


@deliveries_bp.route("/<int:delivery_id>")
class OneDelivery(MethodView):
    @deliveries_bp.response(200, schemas.DeliveryDetail)
    def get(self, delivery_id: int) -> Delivery:
        """A delivery with every change of its state and why."""
        _may(Action.VIEW_DASHBOARD)
        if delivery_id > 2**62:
            raise ApiError(404, "Not found.")
        return delivery_for(db_session(), caller().user, delivery_id)


@mentions_bp.route("")
class Mentions(MethodView):
    @mentions_bp.arguments(schemas.MentionArgs, location="query")
    @mentions_bp.response(200, schemas.MentionPage)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Mentions newest first, narrowed by a search, an issue, a party or triage state."""
        _may(Action.VIEW_MENTIONS)
        older = None
        if args["cursor"]:
            try:
                older = Position.parse(decode_cursor(args["cursor"]))
            except mention_search.BadCursor:
                raise ApiError(400, "The cursor is not one this API gave.") from None
        filters = MentionFilter(watchlist_id=args["watchlist"], party=args["party"],
                                triage=args["triage"], text=args["q"] or None)
        page = mention_search.search(db_session(), caller().user, filters,
                                     per_page=args["limit"], older_than=older)
        return {"items": page.items,
                "next_cursor": encode_cursor(page.older.token()) if page.older else None,
                "total": page.total.value, "total_exact": page.total.exact}


@mentions_bp.route("/<int:mention_id>")
class OneMention(MethodView):
    @mentions_bp.response(200, schemas.MentionOut)
    def get(self, mention_id: int) -> Mention:
        """One mention."""
        _may(Action.VIEW_MENTIONS)
        found = (mention_search.get_mention(db_session(), caller().user, mention_id)
                 if mention_id <= 2**62 else None)
        if found is None:
            raise ApiError(404, "Not found.")
        return found

    @mentions_bp.arguments(schemas.TriageIn)
    @mentions_bp.response(200, schemas.MentionOut)
    @writes
    def patch(self, body: dict[str, Any], mention_id: int) -> Mention:
        """Triage: relevant, not relevant or new again, and a note."""
        _may(Action.TRIAGE_MENTIONS)
        if mention_id > 2**62:
            raise ApiError(404, "Not found.")
        session = db_session()
        changes: dict[str, Any] = {"state": body.get("triage")}
        if "note" in body and body["note"] is not None:
            changes["note"] = body["note"]
        try:
            mention = triage(session, caller().user, mention_id, **changes)
        except LookupError:
            raise ApiError(404, "Not found.") from None
        session.commit()
        return mention


@watchlists_bp.route("")
class Watchlists(MethodView):
    @watchlists_bp.response(200, schemas.WatchlistList)
    def get(self) -> dict[str, Any]:
        """Every watchlist (issue) and its query."""
        _may(Action.VIEW_MENTIONS)
        return {"items": list_watchlists(db_session())}


@reports_bp.route("")
class Report(MethodView):
    @reports_bp.arguments(schemas.ReportArgs, location="query")
    @reports_bp.response(200, schemas.ReportOut)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """The board's report for a period (last month by default), every figure."""
        import json

        _may(Action.VIEW_REPORTS)
        today = utcnow().astimezone(STOCKHOLM).date()
        period = parse(args["period"], today)
        session = db_session()
        report, counted = snapshots.cached_report(session, caller().user, period,
                                                  own_party=services().settings.own_party)
        session.commit()
        return json.loads(snapshots.encode(report, counted))


@campaigns_bp.route("")
class Campaigns(MethodView):
    @campaigns_bp.response(200, schemas.CampaignList)
    def get(self) -> dict[str, Any]:
        """The campaigns the caller may see (an association's: those aimed at it)."""
        _may(Action.VIEW_CAMPAIGNS)
        return {"items": campaign_service.campaigns_for(db_session(), caller().user)}


@campaigns_bp.route("/<int:campaign_id>/coverage")
class CampaignCoverage(MethodView):
    @campaigns_bp.response(200, schemas.CampaignCoverage)
    def get(self, campaign_id: int) -> dict[str, Any]:
        """Per target account, where the campaign stands: planned, published (with reach and
        engagement), failed (why), asked, declined…; computed from the posts themselves."""
        _may(Action.VIEW_CAMPAIGNS)
        if campaign_id > 2**62:
            raise ApiError(404, "Not found.")
        try:
            found = coverage.matrix(db_session(), caller().user, campaign_id)
        except LookupError:
            raise ApiError(404, "Not found.") from None
        return {"campaign": found.campaign, "rows": found.rows, "overdue": found.overdue}


@campaigns_bp.route("/<int:campaign_id>/asks")
class CampaignAsks(MethodView):
    @campaigns_bp.response(200, schemas.CampaignAsks)
    def get(self, campaign_id: int) -> dict[str, Any]:
        """The associations asked to carry the campaign (an association's caller: its own),
        when and by whom, when reminded, and their answer: planned or published posts, a no
        with its reason, or nothing yet."""
        _may(Action.VIEW_CAMPAIGNS)
        if campaign_id > 2**62:
            raise ApiError(404, "Not found.")
        try:
            found = ask_service.ask_statuses(db_session(), caller().user, campaign_id)
        except LookupError:
            raise ApiError(404, "Not found.") from None
        return {"items": found}


# -- events (campaigns.events) ------------------------------------------------------------------

@contextmanager
def _renamed(fields: dict[str, str]) -> Iterator[None]:
    """The domain's field names (a form's) as the request's: `starts` is `starts_at`…"""
    try:
        yield
    except ValidationErrors as exc:
        for error in exc.errors:
            if error.field in fields:
                error.field = fields[error.field]
        raise


EVENT_FIELDS = {"starts": "starts_at", "ends": "ends_at", "accounts": "account_ids"}


@contextmanager
def _organiser_refused() -> Iterator[None]:
    """The event service refuses an organiser outside the caller's scope (NotAllowed, the
    role having been checked first): 403, naming `organiser_id`."""
    try:
        with _renamed(EVENT_FIELDS):
            yield
    except NotAllowed:
        discard_changes()
        raise ApiError(403, "You may not organise events for that organisation.", fields={
            "organiser_id": ["Only your own organisation (the district's users: any)."]}
        ) from None


def _event(event_id: int) -> Event:
    if event_id > 2**62:
        raise ApiError(404, "Not found.")
    try:
        return event_service.event_for(db_session(), caller().user, event_id)
    except LookupError:
        raise ApiError(404, "Not found.") from None


def _managed_event(event_id: int) -> Event:
    """An event the caller may change: every event is visible, so another organiser's is a
    403, not a 404."""
    _may(Action.MANAGE_EVENTS)
    event = _event(event_id)
    if not event_service.may_manage(caller().user, event):
        raise ApiError(403, "Another organisation organises this event; you may not change it.")
    return event


class _Detailed:
    """An event with its announcements, for CalendarEventDetail."""

    def __init__(self, event: Event) -> None:
        self._event = event
        self.announcements = [{"which": link.which.value, "post": post} for link, post in
                              event_service.announcements_of(db_session(), event.id)]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._event, name)


@events_bp.route("")
class Events(MethodView):
    @events_bp.arguments(schemas.EventListArgs, location="query")
    @events_bp.response(200, schemas.CalendarEventList)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Events not yet over, soonest first; `past=true`: those over, latest first."""
        _may(Action.VIEW_EVENTS)
        return {"items": event_service.events_for(
            db_session(), caller().user, municipality_id=args["municipality"],
            past=args["past"])}

    @events_bp.arguments(schemas.EventIn)
    @events_bp.response(201, schemas.CalendarEventDetail)
    @writes
    def post(self, body: dict[str, Any]) -> _Detailed:
        """Create an event (the district's users for anyone, an association's for itself).
        Times are Stockholm wall-clock times to the minute (see the fields)."""
        _may(Action.MANAGE_EVENTS)
        session = db_session()
        user = caller().user
        with _organiser_refused():
            event = event_service.create_event(session, user, event_service.EventDraft(
                title=body["title"], kind=body["kind"],
                organiser_id=body["organiser_id"] or user.organisation_id,
                starts=body["starts_at"], ends=body["ends_at"],
                description=body["description"], place=body["place"],
                municipality_id=body["municipality_id"], partners=body["partners"],
                public=body["public"], link=body["link"] or "",
                campaign_id=body["campaign_id"]))
        session.commit()
        return _Detailed(event)


@events_bp.route("/<int:event_id>")
class OneEvent(MethodView):
    @events_bp.response(200, schemas.CalendarEventDetail)
    def get(self, event_id: int) -> _Detailed:
        """One event and its announcements (each an ordinary post with its deliveries)."""
        _may(Action.VIEW_EVENTS)
        return _Detailed(_event(event_id))

    @events_bp.arguments(schemas.EventChange)
    @events_bp.response(200, schemas.CalendarEventDetail)
    @writes
    def patch(self, body: dict[str, Any], event_id: int) -> _Detailed:
        """Change an event; its announcements still waiting move with its start (the same
        Stockholm wall-clock hour) and their words follow when nobody changed them."""
        event = _managed_event(event_id)
        session = db_session()
        draft = event_service.EventDraft(
            title=body.get("title", event.title), kind=body.get("kind", event.kind.value),
            organiser_id=body.get("organiser_id", event.organiser_id),
            starts=body.get("starts_at") or EnteredTime.showing(event.starts_at),
            ends=body.get("ends_at") or EnteredTime.showing(event.ends_at),
            description=body.get("description", event.description),
            place=body.get("place", event.place),
            municipality_id=body.get("municipality_id", event.municipality_id),
            partners=body.get("partners", event.partners),
            public=body.get("public", event.public), link=body.get("link", event.link) or "",
            campaign_id=body.get("campaign_id", event.campaign_id))
        with _organiser_refused():
            changed = event_service.edit_event(session, caller().user, event_id, draft)
        session.commit()
        session.expire_all()  # the announcements moved in SQL: read them as they are now
        return _Detailed(changed)


@events_bp.route("/<int:event_id>/cancel")
class CancelEvent(MethodView):
    @events_bp.response(200, schemas.EventCancelOut)
    @writes
    def post(self, event_id: int) -> dict[str, Any]:
        """Cancel the event (the calendars say so); its announcements not yet out are
        cancelled, those published stay."""
        _managed_event(event_id)
        session = db_session()
        cancelled = event_service.cancel_event(session, caller().user, event_id)
        session.commit()
        session.expire_all()
        return {"cancelled": cancelled, "event": _event(event_id)}


@events_bp.route("/<int:event_id>/announce")
class AnnounceEvent(MethodView):
    @events_bp.arguments(schemas.AnnounceIn)
    @events_bp.response(201, schemas.AnnouncedOut)
    @writes
    def post(self, body: dict[str, Any], event_id: int) -> event_service.Announced:
        """Queue the announcements: one post per account and moment (the week before, the day
        before, the same morning) at the hour given, from the announcement texts; moments
        already past are skipped. Refused as a whole when anything is wrong."""
        _managed_event(event_id)
        _may(Action.COMPOSE)
        session = db_session()
        with _accounts_refused(), _renamed(EVENT_FIELDS):
            announced = event_service.announce(
                session, caller().user, event_id, event_service.AnnounceDraft(
                    account_ids=body["account_ids"], which=body["which"], hour=body["hour"],
                    language=body["language"]))
        session.commit()
        return announced


# -- the county and the election plan ----------------------------------------------------------

@county_bp.route("")
class County(MethodView):
    @county_bp.arguments(schemas.CountyArgs, location="query")
    @county_bp.response(200, schemas.CountyOut)
    def get(self, args: dict[str, Any]) -> county_service.County:
        """Every municipality, the association covering it (or none), the events starting
        there and the campaigns' posts on that association's accounts within the period
        (an association's caller: its own accounts' counts)."""
        _may(Action.VIEW_CAMPAIGNS)
        with _renamed({"first": "from", "last": "until"}):
            span = county_service.read_span(args["first"], args["last"],
                                            county_service.today())
        return county_service.county(db_session(), caller().user, span)


@election_bp.route("")
class Election(MethodView):
    @election_bp.response(200, schemas.ElectionOut)
    def get(self) -> election_service.Plan:
        """Election day (chosen, or the general election's rule) and every ISO week until it:
        campaigns running, events, and posts published or planned per account."""
        _may(Action.VIEW_CAMPAIGNS)
        return election_service.plan(db_session(), caller().user)


# -- reviews (publisher.approval) ----------------------------------------------------------------

def _reviewer() -> None:
    """Only the district's reviewers approve: anyone else is refused as a role is (403)."""
    _may(Action.APPROVE_POSTS)
    if not approval.may_review(caller().user):
        raise ApiError(403, "Only the district's reviewers approve posts.")


@reviews_bp.route("")
class Reviews(MethodView):
    @reviews_bp.response(200, schemas.ReviewList)
    def get(self) -> dict[str, Any]:
        """Posts with a delivery waiting for the caller's approval, soonest due first (at
        most 200); the caller's own posts are someone else's to approve, so left out."""
        _reviewer()
        user = caller().user
        return {"items": [post for post in approval.waiting_list(db_session(), user)
                          if post.author_id != user.id]}


@posts_bp.route("/<int:post_id>/approve")
class ApprovePost(MethodView):
    @posts_bp.arguments(schemas.ApproveIn)
    @posts_bp.response(200, schemas.PostOut)
    @writes
    def post(self, body: dict[str, Any], post_id: int) -> Post:
        """Approve what of the post waits for approval: queued at its own time, or at the
        new time given (needed once its own has passed). Never its author."""
        _reviewer()
        if post_id > 2**62:
            raise ApiError(404, "Not found.")
        entered: EnteredTime | None = None
        if "scheduled_at" in body:
            entered = body["scheduled_at"] or EnteredTime(soon=True)
        session = db_session()
        try:
            post = approval.approve(session, caller().user, post_id, comment=body["comment"],
                                    entered=entered)
        except LookupError:
            raise ApiError(404, "Not found.") from None
        session.commit()
        session.expire_all()  # the deliveries moved in SQL: read them as they are now
        return post


@posts_bp.route("/<int:post_id>/send-back")
class SendBackPost(MethodView):
    @posts_bp.arguments(schemas.SendBackIn)
    @posts_bp.response(200, schemas.PostOut)
    @writes
    def post(self, body: dict[str, Any], post_id: int) -> Post:
        """Send the post back to its author with a comment (required): its deliveries
        waiting for approval are `returned` until the author changes it."""
        _reviewer()
        if post_id > 2**62:
            raise ApiError(404, "Not found.")
        session = db_session()
        try:
            post = approval.send_back(session, caller().user, post_id, body["comment"])
        except LookupError:
            raise ApiError(404, "Not found.") from None
        session.commit()
        session.expire_all()
        return post

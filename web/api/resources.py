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
from campaigns import coverage
from core.auth import Action, NotAllowed, can
from core.clock import STOCKHOLM, utcnow
from monitor import mention_search
from monitor.admin import list_watchlists
from monitor.mention_search import MentionFilter, Position
from monitor.models import Mention
from monitor.triage import triage
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
BLUEPRINTS = (accounts_bp, posts_bp, deliveries_bp, mentions_bp, watchlists_bp, reports_bp,
              campaigns_bp)


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
            if not before.isdigit() or len(before) > 18:
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

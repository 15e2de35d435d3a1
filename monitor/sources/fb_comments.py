"""Comments on a connected Facebook Page's recent posts, through facebook-sdk.

Settings (Source.config): "account" (the Page whose token reads; see PollContext) and optionally
"posts" (how many recent posts to look at, default 25). The cursor is the creation time of the
newest comment seen; comments are read newest first and reading stops at the cursor.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import facebook
import requests

from core.i18n import N_
from monitor.fetch import FetchError
from monitor.items import Author, Item
from monitor.models import Source, SourceKind
from monitor.sources.base import PollContext, PollResult, config_of, credentials, session

AUTH_CODES = {102, 190, 458, 459, 460, 463, 464, 467, 492}
RATE_CODES = {4, 17, 32, 613, 80001}
COMMENT_FIELDS = "id,message,created_time,from,permalink_url"


def graph_for(creds: dict[str, str], ctx: PollContext) -> tuple[facebook.GraphAPI, str]:
    token, page_id = creds.get("page_access_token"), creds.get("page_id")
    if not token or not page_id:
        raise FetchError("auth", N_("The Facebook Page has no usable credentials."))
    graph = facebook.GraphAPI(access_token=token, session=session(ctx))
    graph.version = ctx.graph_version  # after construction: the SDK's check refuses v4+
    return graph, page_id


def poll(source: Source, ctx: PollContext) -> PollResult:
    config = config_of(source)
    graph, page_id = graph_for(credentials(source, ctx), ctx)
    since = _parse_time(source.cursor) if source.cursor else None
    posts = _call(lambda: graph.get_connections(
        page_id, "posts", fields="id,message,created_time,permalink_url",
        limit=int(config.get("posts") or 25)))
    outlet = source.outlet or "Facebook"
    items: list[Item] = []
    newest = since
    for post in posts.get("data", []):
        comments = _call(lambda post_id=post["id"]: graph.get_connections(
            post_id, "comments", fields=COMMENT_FIELDS, order="reverse_chronological",
            filter="stream", limit=100))
        for comment in comments.get("data", []):
            created = _parse_time(comment.get("created_time", ""))
            if since is not None and created is not None and created < since:
                break  # newest first: the rest were seen before (the cursor's own second is
                # read again: its comments come back as updates of known items, never lost)
            items.append(_item(comment, outlet, ctx, created))
            if created is not None and (newest is None or created > newest):
                newest = created
    return PollResult(items, cursor=newest.isoformat() if newest else source.cursor)


def _parse_time(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        try:
            value = datetime.strptime(raw, "%Y-%m-%dT%H:%M:%S%z")  # Graph: +0000
        except ValueError:
            return None
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def _item(comment: dict[str, Any], outlet: str, ctx: PollContext,
          created: datetime | None) -> Item:
    by = comment.get("from") or {}
    author = by.get("name") or ""
    message = str(comment.get("message") or "")
    short = " ".join(message.split())
    short = short[:97] + "…" if len(short) > 100 else short
    title = f"{author}: {short}" if author else short
    url = comment.get("permalink_url") or ctx.facebook_url.format(id=comment["id"])
    return Item(item_key=f"fb:{comment['id']}", url=url, title=title, text=message,
                published_at=created, outlet=outlet, source_kind=SourceKind.FB_COMMENTS,
                author=Author("facebook", str(by["id"])) if by.get("id") else None)


def _call(fn: Any) -> dict[str, Any]:
    try:
        return fn()
    except facebook.GraphAPIError as exc:
        error = (exc.result or {}).get("error", {}) if isinstance(exc.result, dict) else {}
        code = error.get("code") if isinstance(error, dict) else None
        if code in AUTH_CODES:
            raise FetchError("auth", N_("Facebook refused the Page's token: %(reason)s"),
                             reason=exc.message) from None
        if code in RATE_CODES:
            raise FetchError("rate_limited", N_("Facebook's rate limit is reached: %(reason)s"),
                             reason=exc.message, retry_after=3600) from None
        raise FetchError("http", N_("Facebook answered with an error: %(reason)s"),
                         reason=exc.message) from None
    except requests.Timeout:
        raise FetchError("timeout", N_("Facebook did not answer in time.")) from None
    except requests.RequestException as exc:
        raise FetchError("connect", N_("Could not reach Facebook (%(reason)s)."),
                         reason=str(exc)[:200]) from None

"""X recent search through tweepy: new tweets matching the source's query since the last poll.

Settings (Source.config): "query" (X search syntax, at most 512 characters) and "account" (whose
credentials search; see PollContext). The cursor is the newest tweet id seen (since_id).
"""

from __future__ import annotations

import time
from typing import Any

import requests
import tweepy

from core.i18n import N_
from monitor.fetch import FetchError
from monitor.items import Author, Item
from monitor.models import Source, SourceKind
from monitor.sources.base import PollContext, PollResult, config_of, credentials, session

PAGE_SIZE = 100
MAX_PAGES = 5
TWEET_FIELDS = ["created_at", "author_id", "lang"]


def client_for(creds: dict[str, str], ctx: PollContext) -> tuple[tweepy.Client, bool]:
    """A tweepy client and whether it signs as a user (OAuth 1.0a) rather than the app."""
    if creds.get("bearer_token"):
        client, user_auth = tweepy.Client(bearer_token=creds["bearer_token"]), False
    else:
        keys = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
        if not all(creds.get(k) for k in keys):
            raise FetchError("auth", N_("The X account has no usable credentials."))
        client, user_auth = tweepy.Client(**{k: creds[k] for k in keys}), True
    client.session = session(ctx)
    return client, user_auth


def poll(source: Source, ctx: PollContext) -> PollResult:
    query = str(config_of(source).get("query") or "").strip()
    if not query or len(query) > 512:
        raise FetchError("config", N_("The X search needs a query of 1 to 512 characters."))
    client, user_auth = client_for(credentials(source, ctx), ctx)
    since = source.cursor if (source.cursor or "").isdigit() else None
    tweets: list[Any] = []
    users: dict[str, Any] = {}
    next_token = None
    for _ in range(MAX_PAGES):
        response = _search(client, query, since, next_token, user_auth)
        tweets += response.data or []
        users.update({str(u.id): u for u in (response.includes or {}).get("users", [])})
        next_token = (response.meta or {}).get("next_token")
        if not next_token:
            break
    newest = max((int(t.id) for t in tweets), default=int(since) if since else None)
    outlet = source.outlet or "X"
    items = [_item(t, users.get(str(t.author_id)), outlet, ctx) for t in tweets]
    return PollResult(items, cursor=str(newest) if newest else None)


def _search(client: tweepy.Client, query: str, since: str | None, next_token: str | None,
            user_auth: bool) -> Any:
    try:
        return client.search_recent_tweets(
            query, since_id=since, next_token=next_token, max_results=PAGE_SIZE,
            tweet_fields=TWEET_FIELDS, expansions=["author_id"], user_fields=["username", "name"],
            user_auth=user_auth)
    except tweepy.TooManyRequests as exc:
        reset = getattr(exc, "reset_time", None)
        raise FetchError("rate_limited", N_("X's rate limit is reached; the search waits until it "
                                            "resets."),
                         retry_after=max(0.0, reset - time.time()) if reset else None) from None
    except tweepy.Unauthorized:
        raise FetchError("auth", N_("X refused the credentials (401).")) from None
    except tweepy.Forbidden as exc:
        raise FetchError("auth", N_("X refused the search (403): %(reason)s"),
                         reason=_reason(exc)) from None
    except tweepy.BadRequest as exc:
        raise FetchError("config", N_("X refused the search query: %(reason)s"),
                         reason=_reason(exc)) from None
    except tweepy.TwitterServerError as exc:
        raise FetchError("http", N_("X answered %(status)s (server error)."),
                         status=exc.response.status_code) from None
    except tweepy.HTTPException as exc:
        raise FetchError("http", N_("X answered %(status)s."),
                         status=exc.response.status_code) from None
    except requests.Timeout:
        raise FetchError("timeout", N_("X did not answer in time.")) from None
    except requests.RequestException as exc:
        raise FetchError("connect", N_("Could not reach X (%(reason)s)."),
                         reason=str(exc)[:200]) from None


def _reason(exc: tweepy.HTTPException) -> str:
    return "; ".join(exc.api_messages) or str(exc.response.status_code)


def _item(tweet: Any, user: Any, outlet: str, ctx: PollContext) -> Item:
    username = user.username if user is not None else str(tweet.author_id or "")
    text = " ".join(str(tweet.text).split())
    title = f"@{username}: {text[:97] + '…' if len(text) > 100 else text}"
    return Item(item_key=f"x:{tweet.id}", url=ctx.x_status_url.format(username=username,
                                                                      id=tweet.id),
                title=title, text=str(tweet.text), published_at=tweet.created_at, outlet=outlet,
                source_kind=SourceKind.X_SEARCH,
                author=Author("x", str(tweet.author_id) if tweet.author_id else None,
                              user.username if user is not None else None))

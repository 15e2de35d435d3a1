"""The X API v2 imitation (plus v1.1 simple media upload), as tweepy 4.17 talks to it.

Every call goes through `x_endpoint`: OAuth 1.0a HMAC-SHA1 verified for real (or a Bearer token
where X accepts app-only auth), then the account's faults, then its rate window, and the
x-rate-limit-* headers on every answer. Error bodies use X's shapes and wording.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from flask import Blueprint, Response, jsonify, request
from oauthlib.common import Request as OAuthRequest
from oauthlib.oauth1.rfc5849 import signature, utils

from sandbox import clock
from sandbox.context import current_state, delay, rng
from sandbox.faults import WINDOW_S, X_LIMITS, RateDecision, drop_connection, x_limit
from sandbox.images import sniff
from sandbox.state import Account, DuplicatePost, Post, iso

bp = Blueprint("x", __name__)

PROBLEMS = "https://api.twitter.com/2/problems/"
DUPLICATE = "You are not allowed to create a Tweet with duplicate content."
REPLY_GONE = "You attempted to reply to a Tweet that is deleted or not visible to you."
TOO_LONG = ("Your Tweet text is too long. For more information on how X determines text length "
            "see https://github.com/twitter/twitter-text.")
APP_ONLY = ("Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.  "
            "Supported authentication types are [OAuth 1.0a User Context, "
            "OAuth 2.0 User Context].")
MAX_IMAGE = 5 * 1024 * 1024
V1_CODES = {401: 32, 403: 200, 429: 88}


class XError(Exception):
    """An answer X would give instead of the data; raised anywhere inside an endpoint."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(status)
        self.status, self.body = status, body


def problem(status: int, detail: str | None = None, title: str | None = None,
            kind: str = "about:blank") -> XError:
    """X's RFC 7807 error; under /1.1/ the legacy {"errors":[{code,message}]} shape instead."""
    phrase = HTTPStatus(status).phrase
    if request.path.startswith("/1.1/"):
        message = "Could not authenticate you." if status == 401 else (detail or phrase)
        return XError(status, {"errors": [{"code": V1_CODES.get(status, 131),
                                           "message": message}]})
    if status == 403:  # key order as X sends them (docs/shared spec)
        return XError(status, {"detail": detail or phrase, "type": kind, "title": title or phrase,
                               "status": status})
    return XError(status, {"title": title or phrase, "type": kind, "status": status,
                           "detail": detail or phrase})


def invalid(message: str, parameters: dict[str, Any]) -> XError:
    return XError(400, {"errors": [{"parameters": parameters, "message": message}],
                        "title": "Invalid Request",
                        "detail": "One or more parameters to your request was invalid.",
                        "type": PROBLEMS + "invalid-request"})


def upload_error(message: str) -> XError:
    return XError(400, {"request": request.path, "error": message})


def _signed_url() -> str:
    raw = request.environ.get("RAW_URI") or request.full_path
    return f"{request.scheme}://{request.host}{raw}"


def authenticate(user_only: bool) -> tuple[Account, bool]:
    """The calling account and whether it is user context (OAuth1) rather than app-only."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        found = current_state().account_by_token(header[7:].strip())
        if not found or found[1] != "bearer":
            raise problem(401, "Unauthorized")
        if user_only:
            raise problem(403, APP_ONLY, "Unsupported Authentication",
                          PROBLEMS + "unsupported-authentication")
        return found[0], False
    if not header.startswith("OAuth "):
        raise problem(401, "Unauthorized")
    try:
        oauth = {k: utils.unescape(v) for k, v in utils.parse_authorization_header(header)}
        fresh = abs(time.time() - int(oauth.get("oauth_timestamp", ""))) <= 300
    except ValueError:
        raise problem(401, "Unauthorized") from None
    found = current_state().account_by_token(oauth.get("oauth_token", ""))
    if not found or found[1] != "oauth1" or oauth.get("oauth_signature_method") != "HMAC-SHA1":
        raise problem(401, "Unauthorized")
    account = found[0]
    creds = account.credentials
    if oauth.get("oauth_consumer_key") != creds["consumer_key"] or not fresh:
        raise problem(401, "Unauthorized")
    url = _signed_url()
    body = (request.get_data(as_text=True)
            if request.mimetype == "application/x-www-form-urlencoded" else None)
    signed = OAuthRequest(url, request.method, body, {"Authorization": header})
    signed.params = signature.collect_parameters(
        uri_query=url.partition("?")[2], body=body, headers={"Authorization": header})
    signed.signature = oauth.get("oauth_signature", "")
    if not signature.verify_hmac_sha1(signed, creds["consumer_secret"],
                                      creds["access_token_secret"]):
        raise problem(401, "Unauthorized")
    return account, True


def x_endpoint(bucket: str, user_only: bool = True) -> Callable[..., Callable[..., Response]]:
    """Authenticate, apply faults and the rate window, and stamp the rate headers."""

    def wrap(view: Callable[..., Any]) -> Callable[..., Response]:
        @functools.wraps(view)
        def run(**kwargs: Any) -> Response:
            state = current_state()
            rate = RateDecision(X_LIMITS[bucket], 0, int(clock.now()) + WINDOW_S)
            drop = False
            try:
                account, user_context = authenticate(user_only)
                faults = account.faults
                if faults.token_expired():
                    raise problem(401, "Unauthorized")
                delay(account)
                owner = account.key if user_context else f"app:{account.key}"
                rate = state.count_call(owner, bucket, x_limit(bucket, faults),
                                        faults.rate_window_s)
                if not rate.allowed:
                    raise problem(429)
                if faults.roll_error(rng):
                    if faults.error_status == 429:
                        rate = RateDecision(rate.limit, rate.limit + 1, int(clock.now()) + 1)
                    raise problem(faults.error_status)
                drop = request.method in ("POST", "DELETE") and faults.roll_drop(rng)
                body, status = view(account, **kwargs)
                # None: an empty answer, as X gives to media/metadata/create
                response = jsonify(body) if body is not None else Response(status=status)
                response.status_code = status
            except XError as err:
                response, drop = jsonify(err.body), False
                response.status_code = err.status
            response.headers.update(rate.x_headers())
            if drop:
                drop_connection(request.environ)
            return response

        return run

    return wrap


# -- representations ------------------------------------------------------------------------

def _fields(name: str) -> set[str]:
    return {f for f in request.args.get(name, "").split(",") if f}


def user_json(account: Account) -> dict[str, Any]:
    data: dict[str, Any] = {"id": account.key, "name": account.name,
                            "username": account.username}
    extra = {"protected": False, "verified": False, "description": "",
             "url": f"{request.host_url}sandbox/x/{account.username}"}
    data.update({k: v for k, v in extra.items() if k in _fields("user.fields")})
    return data


def tweet_json(post: Post) -> dict[str, Any]:
    """A Tweet object with the fields asked for in tweet.fields."""
    fields = _fields("tweet.fields")
    data: dict[str, Any] = {"id": post.id, "text": post.text, "edit_history_tweet_ids": [post.id]}
    if "created_at" in fields:
        data["created_at"] = iso(post.created_at)
    if "author_id" in fields:
        data["author_id"] = post.account_key
    if "conversation_id" in fields:
        data["conversation_id"] = post.conversation_id
    if post.parent_id and "referenced_tweets" in fields:
        data["referenced_tweets"] = [{"type": "replied_to", "id": post.parent_id}]
    if post.parent_id and "in_reply_to_user_id" in fields:
        parent = current_state().post(post.parent_id)
        if parent:
            data["in_reply_to_user_id"] = parent.account_key
    if post.media_ids and "attachments" in fields:
        data["attachments"] = {"media_keys": [f"3_{m}" for m in post.media_ids]}
    if "public_metrics" in fields:
        grown = current_state().metrics(post)  # grows with the post's age (sandbox.metrics)
        data["public_metrics"] = {
            "retweet_count": grown["reposts"], "reply_count": grown["replies"],
            "like_count": grown["likes"], "quote_count": grown["quotes"],
            "bookmark_count": grown["bookmarks"], "impression_count": grown["impressions"]}
    return data


def tweet_page(posts: list[Post], more: bool) -> dict[str, Any]:
    """{data, includes, meta} as the list endpoints answer; no data key when nothing matched."""
    if not posts:
        return {"meta": {"result_count": 0}}
    meta: dict[str, Any] = {"newest_id": posts[0].id, "oldest_id": posts[-1].id,
                            "result_count": len(posts)}
    if more:
        meta["next_token"] = _token(posts[-1].seq)
    body: dict[str, Any] = {"data": [tweet_json(p) for p in posts], "meta": meta}
    if "author_id" in request.args.get("expansions", "").split(","):
        state = current_state()
        authors = {p.account_key: state.account(p.account_key) for p in posts}
        body["includes"] = {"users": [user_json(a) for a in authors.values() if a]}
    return body


def _token(seq: int) -> str:
    digits, out = "0123456789abcdefghijklmnopqrstuvwxyz", ""
    while seq:
        seq, r = divmod(seq, 36)
        out = digits[r] + out
    return "7140dibdnow9c7btw" + out.rjust(8, "0")


def _cursor(name: str) -> int | None:
    token = request.args.get(name)
    if not token:
        return None
    if not re.fullmatch(r"7140dibdnow9c7btw[0-9a-z]{8,}", token):
        raise invalid(f"The `{name}` query parameter value [{token}] is not valid",
                      {name: [token]})
    return int(token[17:], 36)


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name, str(default))
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise invalid(f"The `{name}` query parameter value [{raw}] is not between {low} and "
                      f"{high}", {name: [raw]})
    return int(raw)


def _weighted_length(text: str) -> int:
    return len(re.sub(r"https?://\S+", "x" * 23, text))


def not_found(kind: str, ids: list[str], parameter: str) -> list[dict[str, Any]]:
    return [{"value": i, "detail": f"Could not find {kind} with {parameter}: [{i}].",
             "title": "Not Found Error", "resource_type": kind, "parameter": parameter,
             "resource_id": i, "type": PROBLEMS + "resource-not-found"} for i in ids]


# -- endpoints --------------------------------------------------------------------------------

@bp.post("/2/tweets")
@x_endpoint("tweets_create")
def create_tweet(account: Account) -> tuple[dict[str, Any], int]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise invalid("Request body must be a JSON object.", {})
    media, reply = body.get("media"), body.get("reply")
    text = body.get("text", "")
    media_ids = (media.get("media_ids") or []) if isinstance(media, dict) else []
    parent_id = reply.get("in_reply_to_tweet_id") if isinstance(reply, dict) else None
    if not isinstance(text, str) or not isinstance(media_ids, list):
        raise invalid("text must be a string and media.media_ids a list.", {"text": [text]})
    if not text.strip() and not media_ids:
        raise invalid("Tweet text or media is required.", {"text": [text]})
    media_ids = [str(m) for m in media_ids]
    if len(media_ids) > 4 or not current_state().media_owned(account.key, media_ids):
        raise invalid("Your media IDs are invalid.", {"media.media_ids": media_ids})
    if _weighted_length(text) > 280:
        raise problem(403, TOO_LONG)
    if parent_id is not None and not re.fullmatch(r"[0-9]{1,19}", str(parent_id)):
        raise invalid(f"$.reply.in_reply_to_tweet_id: string [{parent_id}] does not match "
                      "pattern ^[0-9]{1,19}$", {"reply.in_reply_to_tweet_id": [parent_id]})
    parent = current_state().post(str(parent_id)) if parent_id else None
    if parent_id and (not parent or parent.kind != "tweet" or not parent.visible()):
        raise problem(403, REPLY_GONE)
    try:
        post = current_state().add_post(account, "tweet", text, parent=parent,
                                         media_ids=media_ids, dedupe="any")
    except DuplicatePost:
        raise problem(403, DUPLICATE) from None
    return {"data": {"id": post.id, "text": post.text,
                     "edit_history_tweet_ids": [post.id]}}, 201


@bp.delete("/2/tweets/<tweet_id>")
@x_endpoint("tweets_delete")
def delete_tweet(account: Account, tweet_id: str) -> tuple[dict[str, Any], int]:
    post = current_state().post(tweet_id)
    if post and post.kind == "tweet" and post.account_key != account.key:
        raise problem(403, "You are not allowed to delete this Tweet.")
    deleted = bool(post and post.kind == "tweet" and current_state().delete_post(tweet_id))
    return {"data": {"deleted": deleted}}, 200


@bp.get("/2/users/me")
@x_endpoint("users_me")
def get_me(account: Account) -> tuple[dict[str, Any], int]:
    return {"data": user_json(account)}, 200


@bp.get("/2/tweets")
@x_endpoint("tweets_lookup", user_only=False)
def get_tweets(account: Account) -> tuple[dict[str, Any], int]:
    ids = [i for i in request.args.get("ids", "").split(",") if i]
    if not 1 <= len(ids) <= 100 or not all(i.isdigit() for i in ids):
        raise invalid("The `ids` query parameter value is not valid.", {"ids": ids})
    found = {i: current_state().post(i) for i in ids}
    live = [p for p in found.values() if p and p.kind == "tweet" and p.visible()]
    body: dict[str, Any] = {"data": [tweet_json(p) for p in live]} if live else {}
    missing = [i for i in ids if i not in {p.id for p in live}]
    if missing:
        body["errors"] = not_found("tweet", missing, "ids")
    return body, 200


@bp.get("/2/tweets/<tweet_id>")
@x_endpoint("tweets_lookup", user_only=False)
def get_tweet(account: Account, tweet_id: str) -> tuple[dict[str, Any], int]:
    post = current_state().post(tweet_id)
    if not post or post.kind != "tweet" or not post.visible():
        return {"errors": not_found("tweet", [tweet_id], "id")}, 200
    return {"data": tweet_json(post)}, 200


@bp.get("/2/users/<user_id>/tweets")
@x_endpoint("user_tweets", user_only=False)
def user_tweets(account: Account, user_id: str) -> tuple[dict[str, Any], int]:
    owner = current_state().account(user_id)
    if not owner or owner.platform != "x" or owner.key != user_id:
        return {"errors": not_found("user", [user_id], "id")}, 200
    limit = _int_arg("max_results", 10, 5, 100)
    posts, more = current_state().timeline(owner.key, ["tweet"], limit=limit,
                                           before_seq=_cursor("pagination_token"))
    if "replies" in request.args.get("exclude", ""):
        posts = [p for p in posts if not p.parent_id]
    return tweet_page(posts, more), 200


@bp.get("/2/tweets/search/recent")
@x_endpoint("search_recent", user_only=False)
def search_recent(account: Account) -> tuple[dict[str, Any], int]:
    query = request.args.get("query", "")
    if not query.strip() or len(query) > 512:
        raise invalid("The `query` parameter must be 1 to 512 characters.", {"query": [query]})
    limit = _int_arg("max_results", 10, 10, 100)
    since, until = request.args.get("since_id", ""), request.args.get("until_id", "")
    posts, more = current_state().search(
        query.split(), limit=limit, before_seq=_cursor("next_token"),
        since_id=int(since) if since.isdigit() else None,
        until_id=int(until) if until.isdigit() else None)
    return tweet_page(posts, more), 200


@bp.post("/1.1/media/upload.json")
@x_endpoint("media_upload")
def media_upload(account: Account) -> tuple[dict[str, Any], int]:
    if request.form.get("command"):
        raise upload_error("The sandbox supports only the simple (one request) image upload.")
    upload = request.files.get("media")
    if upload is None:
        raise upload_error("media parameter is missing.")
    data = upload.read(MAX_IMAGE + 1)
    if len(data) > MAX_IMAGE:
        raise upload_error(f"File size exceeds {MAX_IMAGE} bytes.")
    image = sniff(data)
    if image is None:
        raise upload_error("media type unrecognized.")
    mime, width, height = image
    media_id = current_state().add_media(account.key, mime, width, height, len(data), data)
    return {"media_id": int(media_id), "media_id_string": media_id, "media_key": f"3_{media_id}",
            "size": len(data), "expires_after_secs": 86400,
            "image": {"image_type": mime, "w": width, "h": height}}, 200


ALT_TEXT_MAX = 1000


@bp.post("/1.1/media/metadata/create.json")
@x_endpoint("media_upload")
def media_metadata_create(account: Account) -> tuple[None, int]:
    """JSON {"media_id": "…", "alt_text": {"text": "…"}}: the image's description; 200, no body."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise problem(400, "Request body must be a JSON object.")
    media_id = str(body.get("media_id", ""))
    alt = body.get("alt_text")
    text = alt.get("text") if isinstance(alt, dict) else None
    if not isinstance(text, str):
        raise problem(400, "alt_text.text parameter is missing.")
    if len(text) > ALT_TEXT_MAX:
        raise problem(400, f"Text parameter length must be less than or equal to "
                      f"{ALT_TEXT_MAX} characters.")
    if not media_id.isdigit() or not current_state().set_alt_text(account.key, media_id, text):
        raise problem(400, "Invalid media_id parameter.")
    return None, 200

"""The Facebook Graph API imitation for Pages, as facebook-sdk 3.1.0 talks to it.

Any /vNN.N/ prefix is accepted. Every answer is JSON (facebook-sdk fails on anything else) and
errors are {"error": {...}} with HTTP 400, because the SDK looks at the body, not the status.
"""

from __future__ import annotations

import base64
import functools
import json
import re
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, jsonify, request
from werkzeug.routing import BaseConverter

from sandbox import clock
from sandbox.context import current_state, delay, rng
from sandbox.faults import RateDecision, drop_connection, graph_limit
from sandbox.images import sniff
from sandbox.state import Account, DuplicatePost, Post

bp = Blueprint("graph", __name__)

NO_OBJECT = ("Unsupported {method} request. Object with ID '{id}' does not exist, cannot be "
             "loaded due to missing permissions, or does not support this operation. Please read "
             "the Graph API documentation at https://developers.facebook.com/docs/graph-api")
INJECTED = {429: (4, "(#4) Application request limit reached"),
            500: (1, "An unknown error has occurred."),
            502: (2, "An unexpected error has occurred. Please retry your request later."),
            503: (2, "An unexpected error has occurred. Please retry your request later."),
            504: (2, "An unexpected error has occurred. Please retry your request later.")}
POST_FIELDS = {"id", "message", "created_time", "updated_time", "permalink_url", "is_published",
               "link", "from", "status_type", "scheduled_publish_time", "shares", "reactions",
               "likes", "comments", "full_picture", "picture", "attachments", "story",
               "is_hidden", "privacy", "parent_id", "name", "images", "page_story_id",
               "like_count", "comment_count", "parent", "can_comment"}
PAGE_FIELDS = {"id", "name", "link", "fan_count", "followers_count", "category", "about",
               "username", "access_token"}


class GraphVersion(BaseConverter):
    """/v2.8/, /v21.0/: any version the client asks for."""

    regex = r"v\d{1,2}\.\d{1,2}"


class GraphError(Exception):
    def __init__(self, code: int, message: str, kind: str = "OAuthException",
                 subcode: int | None = None, status: int = 400, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.error = {"message": message, "type": kind, "code": code, **extra}
        if subcode is not None:
            self.error["error_subcode"] = subcode

    def body(self) -> dict[str, Any]:
        return {"error": {**self.error, "fbtrace_id": _trace_id()}}


def _trace_id() -> str:
    return base64.b64encode(secrets.token_bytes(9), b"-_").decode()[:11]


def no_object(object_id: str) -> GraphError:
    method = {"DELETE": "delete", "POST": "post"}.get(request.method, "get")
    return GraphError(100, NO_OBJECT.format(method=method, id=object_id), "GraphMethodException",
                      33)


def bad_param(message: str = "(#100) Invalid parameter") -> GraphError:
    return GraphError(100, message)


def expired() -> GraphError:
    pacific = ZoneInfo("America/Los_Angeles")
    fmt = "%A, %d-%b-%y %H:%M:%S %Z"
    now = datetime.fromtimestamp(clock.now(), pacific)
    was = datetime.fromtimestamp(clock.now() - 3600, pacific)
    return GraphError(190, f"Error validating access token: Session has expired on "
                      f"{was.strftime(fmt)}. The current time is {now.strftime(fmt)}.",
                      subcode=463)


def _token() -> str:
    header = request.headers.get("Authorization", "")
    if header.split(" ")[0] in ("OAuth", "Bearer"):
        return header.partition(" ")[2].strip()
    return request.values.get("access_token", "")


def graph_endpoint(view: Callable[..., dict[str, Any]]) -> Callable[..., Response]:
    """Check the Page token, apply faults and the Page's call budget, answer JSON."""

    @functools.wraps(view)
    def run(version: str, **kwargs: Any) -> Response:
        rate: RateDecision | None = None
        drop = False
        try:
            token = _token()
            if not token:
                raise GraphError(104, "An access token is required to request this resource.")
            found = current_state().account_by_token(token)
            if not found or found[1] != "page":
                raise GraphError(190, "Invalid OAuth access token - Cannot parse access token",
                                 subcode=467)
            account = found[0]
            faults = account.faults
            if faults.token_expired():
                raise expired()
            delay(account)
            rate = current_state().count_call(account.key, "graph", graph_limit(faults),
                                              faults.rate_window_s)
            if not rate.allowed:
                raise GraphError(32, "(#32) Page request limit reached", is_transient=True)
            if faults.roll_error(rng):
                code, message = INJECTED[faults.error_status]
                raise GraphError(code, message, status=faults.error_status, is_transient=True)
            drop = request.method in ("POST", "DELETE") and faults.roll_drop(rng)
            response = jsonify(view(account, **kwargs))
        except GraphError as err:
            response, drop = jsonify(err.body()), False
            response.status_code = err.status
        response.headers["facebook-api-version"] = version
        response.headers["x-fb-trace-id"] = _trace_id()
        if rate is not None:
            response.headers.update(rate.graph_headers(clock.now()))
        if drop:
            drop_connection(request.environ)
        return response

    return run


# -- field selection and representations ------------------------------------------------------

def _split_fields(raw: str) -> list[str]:
    """Split `fields` at top-level commas: "id,comments.summary(true){id},message"."""
    parts, depth, current = [], 0, ""
    for ch in raw:
        depth += ch in "({"
        depth -= ch in ")}"
        if ch == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += ch
    return [p for p in [*parts, current.strip()] if p]


def _wanted(default: str, allowed: set[str], node: str) -> dict[str, str]:
    """{field name: its modifiers} for the `fields` asked for, or the node's defaults."""
    wanted = {}
    for spec in _split_fields(request.args.get("fields") or default):
        name = spec.split(".")[0].split("{")[0].split("(")[0]
        if name not in allowed:
            raise bad_param(f"(#100) Tried accessing nonexisting field ({name}) on node type "
                            f"({node})")
        wanted[name] = spec[len(name):]
    return wanted


def _time(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _post_number(post_id: str) -> str:
    return post_id.rsplit("_", 1)[-1]


def permalink(post: Post) -> str:
    root = current_state().post(post.conversation_id or post.id) or post
    url = f"{request.host_url}sandbox/facebook/{root.account_key}/posts/{_post_number(root.id)}"
    return url if root.id == post.id else f"{url}?comment_id={_post_number(post.id)}"


def page_json(account: Account, default: str = "id,name") -> dict[str, Any]:
    values = {"id": account.key, "name": account.name, "username": account.key,
              "link": f"{request.host_url}sandbox/facebook/{account.key}", "fan_count": 0,
              "followers_count": 0, "category": "Community", "about": "",
              "access_token": account.credentials["page_access_token"]}
    return {f: values[f] for f in _wanted(default, PAGE_FIELDS, "Page")}


def _summary_edge(items: list[dict[str, Any]], modifiers: str, **summary: Any) -> dict[str, Any]:
    """An edge with its summary; `.limit(n)` trims the data, never the total."""
    limit = re.search(r"\.limit\((\d+)\)", modifiers)
    edge: dict[str, Any] = {"data": items[:int(limit.group(1))] if limit else items}
    if "summary(true)" in modifiers:
        edge["summary"] = {"total_count": len(items), **summary}
    return edge


def post_json(post: Post, fields: dict[str, str] | None = None) -> dict[str, Any]:
    """A Post / Comment / Photo node with the fields asked for."""
    state = current_state()
    if fields is None:
        default = "created_time,from,message,id" if post.kind == "comment" else \
            "created_time,message,id"
        fields = _wanted(default, POST_FIELDS, "Post")
    author = state.account(post.account_key)
    values: dict[str, Any] = {
        "id": post.id, "created_time": _time(post.created_at),
        "updated_time": _time(post.created_at), "permalink_url": permalink(post),
        "is_published": post.visible(), "is_hidden": False, "like_count": 0,
        "from": {"name": author.name if author else "", "id": post.account_key},
        "status_type": {"photo": "added_photos"}.get(post.kind, "shared_story" if post.link
                                                     else "mobile_status_update"),
        "privacy": {"value": "EVERYONE"}, "can_comment": True,
    }
    if post.text:
        values["message"] = values["name"] = post.text
    if post.link:
        values["link"] = post.link
    if post.scheduled_at is not None:
        values["scheduled_publish_time"] = int(post.scheduled_at)
    if post.parent_id:
        values["parent_id"] = values["parent"] = post.parent_id
    if post.photo_id:
        values["page_story_id"] = post.id
    if post.media_ids:
        values["full_picture"] = values["picture"] = media_url(post.media_ids[0])
        values["attachments"] = _attachments(post)
    out: dict[str, Any] = {}
    for name, modifiers in fields.items():
        if name in ("comments", "comment_count"):
            comments, _ = state.timeline(None, ["comment"], limit=100, parent_id=post.id,
                                         newest_first=False)
            if name == "comment_count":
                out[name] = len(comments)
            else:
                out[name] = _summary_edge([post_json(c) for c in comments], modifiers,
                                          order="chronological", can_comment=True)
        elif name in ("reactions", "likes"):
            out[name] = _summary_edge([], modifiers, total_count=state.metrics(post)["likes"],
                                      viewer_reaction="NONE", can_like=True, has_liked=False)
        elif name == "shares":
            shares = state.metrics(post)["reposts"]
            if shares:  # Graph leaves `shares` out until the post has been shared
                out[name] = {"count": shares}
        elif name in values:
            out[name] = values[name]
    return out


def media_url(media_id: str) -> str:
    return f"{request.host_url}sandbox/media/{media_id}"


def _attachments(post: Post) -> dict[str, Any]:
    """A photo post's attachments edge: one photo, or an album of subattachments."""
    items = [{"media": {"image": {"height": m.height, "src": media_url(m.id), "width": m.width}},
              "target": {"id": m.id, "url": permalink(post)}, "type": "photo",
              "url": permalink(post)} for m in current_state().media(post.media_ids)]
    if len(items) <= 1:
        return {"data": items}
    return {"data": [{"media": items[0]["media"], "subattachments": {"data": items},
                      "target": {"id": post.id, "url": permalink(post)}, "type": "album",
                      "url": permalink(post)}]}


# -- objects ----------------------------------------------------------------------------------

def _owned_object(account: Account, object_id: str) -> Post:
    """A post/photo/comment the token may change: its own, or a comment on its own post."""
    post = current_state().post(object_id)
    if post is None or post.platform != "facebook" or post.deleted_at is not None:
        raise no_object(object_id)
    root = current_state().post(post.conversation_id or post.id)
    if account.key not in (post.account_key, root.account_key if root else None):
        raise GraphError(200, "(#200) Permissions error")
    return post


def _page(account: Account, page_id: str) -> Account:
    if page_id == "me":
        return account
    page = current_state().account(page_id)
    if page is None or page.platform != "facebook" or page.key != page_id:
        raise no_object(page_id)
    return page


@bp.get("/<gv:version>/<object_id>")
@graph_endpoint
def get_object(account: Account, object_id: str) -> dict[str, Any]:
    post = current_state().post(object_id)
    if post is None or post.platform != "facebook":
        return page_json(_page(account, object_id))
    if post.deleted_at is not None or not (post.visible() or post.account_key == account.key):
        raise no_object(object_id)
    node = post_json(post)
    if "id" in node and object_id == post.photo_id:
        node["id"] = object_id  # the photo node, not the post it made
    return node


@bp.delete("/<gv:version>/<object_id>")
@graph_endpoint
def delete_object(account: Account, object_id: str) -> dict[str, Any]:
    post = _owned_object(account, object_id)
    current_state().delete_post(post.id)
    return {"success": True}


def _flag(name: str, default: bool) -> bool:
    raw = request.values.get(name)
    return default if raw is None else raw.strip().lower() not in ("false", "0", "")


def _schedule() -> float | None:
    raw = request.values.get("scheduled_publish_time")
    if not raw:
        return None
    if _flag("published", True):
        raise bad_param("(#100) You cannot specify a scheduled publish time on a published post")
    try:
        when = float(raw) if raw.isdigit() else datetime.fromisoformat(
            raw.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise bad_param("(#100) The specified scheduled publish time is invalid.") from None
    if not clock.now() + 600 <= when <= clock.now() + 30 * 86400:
        raise bad_param("(#100) The specified scheduled publish time is invalid.")
    return when


@bp.post("/<gv:version>/<object_id>/<edge>")
@graph_endpoint
def post_edge(account: Account, object_id: str, edge: str) -> dict[str, Any]:
    state = current_state()
    message = request.values.get("message", "")
    if edge == "comments":
        target = state.post(object_id)
        if target is None or target.platform != "facebook" or not target.visible():
            raise no_object(object_id)
        if not message.strip() and "source" not in request.files:
            raise bad_param("(#100) Missing message or attachment")
        if len(message) > COMMENT_MAX:  # Facebook's limit for a comment
            raise bad_param(f"(#100) The comment is too long: at most {COMMENT_MAX} characters")
        # <post number>_<comment number>, a reply to a comment too: the thread's post's number
        root = state.post(target.conversation_id or target.id) or target
        comment_id = f"{_post_number(root.id)}_{state.new_id()}"
        comment = state.add_post(account, "comment", message, post_id=comment_id, parent=target)
        return {"id": comment.id}
    page = _page(account, object_id)
    if page.key != account.key:
        raise GraphError(200, "(#200) Permissions error")
    published, scheduled = _flag("published", True), _schedule()
    post_id = f"{page.key}_{state.new_id()}"
    if edge == "feed":
        link = request.values.get("link") or None
        attached = _attached_media(page)
        if not message.strip() and not link and not attached:
            raise bad_param("(#100) Missing message or attachment")
        if link and not link.startswith(("http://", "https://")):
            raise bad_param()
        try:
            post = state.add_post(account, "post", message, post_id=post_id, link=link,
                                  media_ids=attached, published=published,
                                  scheduled_at=scheduled, dedupe="latest")
        except DuplicatePost:
            raise GraphError(506, "(#506) Duplicate status message", subcode=1455006,
                             error_user_title="Duplicate Status Update",
                             error_user_msg="This status update is identical to the last one "
                             "you posted. Try posting something different, or delete your "
                             "previous update.") from None
        return {"id": post.id}
    if edge == "photos":
        url = request.values.get("url")
        upload = request.files.get("source")
        if upload is None and not url:
            raise GraphError(324, "(#324) Requires upload file")
        data = upload.read(MAX_PHOTO + 1) if upload is not None else b""
        image = sniff(data) if upload is not None else None
        if upload is not None and image is None:
            raise GraphError(324, "(#324) Missing or invalid image file")
        if len(data) > MAX_PHOTO:
            raise GraphError(100, "Invalid parameter", subcode=1366046, is_transient=False,
                             error_user_title="Can't Read Files", error_user_msg=PHOTO_REFUSED)
        caption = request.values.get("caption") or message
        photo_id = state.new_id()
        if image is not None:  # the photo's id is its media id; alt text as the Page wrote it
            state.add_media(account.key, *image, len(data), data, media_id=photo_id,
                            alt_text=request.values.get("alt_text_custom", ""))
        post = state.add_post(account, "photo", caption, post_id=post_id, link=url,
                              photo_id=photo_id, published=published, scheduled_at=scheduled,
                              media_ids=[photo_id] if image is not None else [])
        return {"id": photo_id, "post_id": post.id}
    raise no_object(object_id)


MAX_PHOTO = 4 * 1024 * 1024
COMMENT_MAX = 8000
PHOTO_REFUSED = ("Your photos couldn't be uploaded. Photos should be less than 4 MB and saved as "
                 "JPG, PNG, GIF, TIFF, HEIF or WebP files.")
ATTACHED = re.compile(r"^attached_media\[(\d+)\]$")


def _attached_media(page: Account) -> list[str]:
    """Photo ids from attached_media[i]={"media_fbid": id} (or one JSON list): the Page's own
    photos uploaded with published=false, which the feed post shows together."""
    raw: list[Any] = []
    indexed = sorted((int(m.group(1)), v) for k, v in request.values.items()
                     if (m := ATTACHED.match(k)))
    try:
        raw = [json.loads(v) for _, v in indexed]
        if request.values.get("attached_media"):
            raw += json.loads(request.values["attached_media"])
    except (ValueError, TypeError):
        raise bad_param("(#100) param attached_media must be an array of objects") from None
    photo_ids = []
    for item in raw:
        photo_id = str(item.get("media_fbid", "")) if isinstance(item, dict) else ""
        photo = current_state().post(photo_id) if photo_id else None
        if photo is None or photo.photo_id != photo_id or photo.account_key != page.key \
                or photo.published or photo.deleted_at is not None:
            raise bad_param(f"(#100) attached_media: {photo_id or item!r} is not an unpublished "
                            "photo of this Page")
        photo_ids.append(photo_id)
    return photo_ids


def _after() -> int | None:
    raw = request.args.get("after")
    if not raw:
        return None
    try:
        return int(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode())
    except ValueError:
        raise bad_param("(#100) The after cursor is invalid") from None


def _cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(str(seq).encode()).decode().rstrip("=")


@bp.get("/<gv:version>/<object_id>/<edge>")
@graph_endpoint
def get_edge(account: Account, object_id: str, edge: str) -> dict[str, Any]:
    state = current_state()
    raw_limit = request.args.get("limit", "25")
    limit = min(100, int(raw_limit)) if raw_limit.isdigit() and int(raw_limit) > 0 else 25
    summary: dict[str, Any] | None = None
    if edge == "comments":
        target = state.post(object_id)
        if target is None or target.platform != "facebook" or not target.visible():
            raise no_object(object_id)
        order = request.args.get("order", "chronological")
        stream = request.args.get("filter") == "stream"
        items, more = state.timeline(
            None, ["comment"], limit=limit, before_seq=_after(),
            parent_id=None if stream else target.id,
            conversation_id=target.id if stream else None,
            newest_first=order == "reverse_chronological")
        if _flag("summary", False):
            summary = {"order": order, "total_count": state.count_children(target.id),
                       "can_comment": True}
        default = "created_time,from,message,id"
    elif edge in ("feed", "posts", "published_posts", "scheduled_posts"):
        page = _page(account, object_id)
        if edge == "scheduled_posts":
            if page.key != account.key:
                raise GraphError(200, "(#200) Permissions error")
            items = [p for p in state.posts(page.key) if p.scheduled_at and not p.visible()]
            more = False
        else:
            items, more = state.timeline(page.key, ["post", "photo"], limit=limit,
                                         before_seq=_after())
        default = "created_time,message,id"
    else:
        raise bad_param(f"(#100) Tried accessing nonexisting field ({edge}) on node type (Page)")
    fields = _wanted(default, POST_FIELDS, "Post")
    body: dict[str, Any] = {"data": [post_json(p, fields) for p in items]}
    if items:
        paging: dict[str, Any] = {"cursors": {"before": _cursor(items[0].seq),
                                              "after": _cursor(items[-1].seq)}}
        if more:
            args = {k: v for k, v in request.args.items() if k != "after"}
            args.update(access_token=_token(), limit=str(limit), after=_cursor(items[-1].seq))
            paging["next"] = f"{request.base_url}?{urlencode(args)}"
        body["paging"] = paging
    if summary is not None:
        body["summary"] = summary
    return body


# -- token inspection ---------------------------------------------------------------------------

SANDBOX_APP_ID = "100000000000001"
APP_TOKEN = re.compile(r"^\d+\|[\w-]+$")
PAGE_SCOPES = ("pages_show_list", "pages_read_engagement", "pages_manage_posts",
               "pages_read_user_content", "public_profile")
DATA_ACCESS_DAYS = 90


def token_info(token: str, now: float | None = None) -> dict[str, Any]:
    """The `data` of /debug_token for `token`, in Graph's shape (expires_at 0 = never)."""
    now = clock.now() if now is None else now
    found = current_state().account_by_token(token)
    if not found or found[1] != "page":
        return {"error": {"code": 190, "message": "Invalid OAuth access token."},
                "is_valid": False, "scopes": []}
    account = found[0]
    faults = account.faults
    if faults.token_expires_at is not None:
        expires_at = int(faults.token_expires_at)
    elif faults.expire_token:
        expires_at = int(now) - 3600  # as expired() says: an hour ago
    else:
        expires_at = 0  # a Page token from a long-lived user token does not expire
    info: dict[str, Any] = {
        "app_id": SANDBOX_APP_ID, "type": "PAGE", "application": "Megafon sandbox",
        "data_access_expires_at": int(now) + DATA_ACCESS_DAYS * 86400,
        "expires_at": expires_at, "is_valid": not faults.token_expired(now),
    }
    if not info["is_valid"]:
        info["error"] = {"code": 190, "message": expired().error["message"], "subcode": 463}
    info.update(profile_id=account.key, scopes=list(PAGE_SCOPES), granular_scopes=[
        {"scope": s, "target_ids": [account.key]} for s in PAGE_SCOPES if s.startswith("pages_")])
    return info


@bp.get("/debug_token", defaults={"version": ""})
@bp.get("/<gv:version>/debug_token")
def debug_token(version: str) -> Response:
    """GET /debug_token?input_token=…&access_token=…: validity, expiry and scopes of a token.

    The caller's access_token is an app token (`app_id|app_secret`; any is accepted here) or a
    Page token, which must itself work: an expired one is refused with 190/463 like any call.
    """
    try:
        caller = _token()
        if not caller:
            raise GraphError(104, "An access token is required to request this resource.")
        if not APP_TOKEN.match(caller):
            found = current_state().account_by_token(caller)
            if not found or found[1] != "page":
                raise GraphError(190, "Invalid OAuth access token - Cannot parse access token",
                                 subcode=467)
            if found[0].faults.token_expired():
                raise expired()
        input_token = request.args.get("input_token", "")
        if not input_token:
            raise GraphError(100, "(#100) The parameter input_token is required")
        response = jsonify({"data": token_info(input_token)})
    except GraphError as err:
        response = jsonify(err.body())
        response.status_code = err.status
    if version:
        response.headers["facebook-api-version"] = version
    response.headers["x-fb-trace-id"] = _trace_id()
    return response

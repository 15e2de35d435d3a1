"""Read-only HTML views of the sandbox: the permalinks that posts and tweets point to."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template

from sandbox.context import current_state
from sandbox.state import Account, Media, Post, iso

bp = Blueprint("pages", __name__, url_prefix="/sandbox", template_folder="templates")

SHOWN = 200  # newest posts on a timeline page


def _account(platform: str, key: str) -> Account:
    account = current_state().account(key)
    if account is None or account.platform != platform:
        abort(404)
    return account


def _post(account: Account, post_id: str) -> Post:
    state = current_state()
    post = state.post(post_id) or state.post(f"{account.key}_{post_id}")
    if post is None or post.account_key != account.key or not post.visible():
        abort(404)
    return post


def _comments(post: Post) -> list[tuple[Post, list[Post]]]:
    """The post's comments, oldest first, each with the replies written under it (as Facebook
    shows them: one level deep, a reply to a reply under the same comment)."""
    state = current_state()
    top = state.timeline(None, ["comment"], limit=SHOWN, parent_id=post.id,
                         newest_first=False)[0]
    below = [c for c in state.timeline(None, ["comment"], limit=SHOWN, conversation_id=post.id,
                                       newest_first=False)[0] if c.parent_id != post.id]
    shown = []
    for comment in top:
        under, ids = [], {comment.id}
        for reply in below:
            if reply.parent_id in ids:
                under.append(reply)
                ids.add(reply.id)
        shown.append((comment, under))
    return shown


@bp.app_template_global("tweet_of")
def tweet_of(tweet_id: str) -> tuple[Account, Post] | None:
    """A live tweet and its author: what a reply answers, shown above it."""
    state = current_state()
    post = state.post(tweet_id)
    author = state.account(post.account_key) if post is not None else None
    if post is None or author is None or not post.visible():
        return None
    return author, post


@bp.app_template_global("author_of")
def author_of(post: Post) -> Account | None:
    return current_state().account(post.account_key)


def _with_replies(posts: list[Post]) -> list[tuple[Post, list[Post]]]:
    """Each tweet with the replies of its conversation below it (a thread reads top down);
    a reply whose first tweet is on the page is shown there, not again on its own."""
    listed = {p.id for p in posts}
    shown = []
    for post in posts:
        if post.parent_id and post.conversation_id in listed:
            continue
        replies = [] if post.parent_id else [
            r for r in current_state().timeline(None, ["tweet"], limit=SHOWN,
                                                conversation_id=post.id, newest_first=False)[0]
            if r.id != post.id]
        shown.append((post, replies))
    return shown


@bp.app_template_global("media_of")
def media_of(post: Post) -> list[Media]:
    return current_state().media(post.media_ids)


@bp.get("/media/<media_id>")
def media(media_id: str) -> Response:
    """The bytes of an uploaded image or photo, as the platform's CDN would serve them."""
    found = current_state().media_bytes(media_id)
    if found is None:
        abort(404)
    mime, data = found
    return Response(data, mimetype=mime, headers={"Cache-Control": "max-age=86400"})


@bp.app_template_filter("when")
def when(ts: float) -> str:
    return iso(ts)[:16].replace("T", " ") + " UTC"


@bp.get("/")
def index() -> str:
    return render_template("index.html", accounts=current_state().accounts())


@bp.get("/x/<username>")
def x_timeline(username: str) -> str:
    account = _account("x", username)
    posts, _ = current_state().timeline(account.key, ["tweet"], limit=SHOWN)
    return render_template("x_timeline.html", account=account, posts=_with_replies(posts))


@bp.get("/x/<username>/status/<tweet_id>")
def x_status(username: str, tweet_id: str) -> str:
    account = _account("x", username)
    return render_template("x_timeline.html", account=account,
                           posts=_with_replies([_post(account, tweet_id)]))


@bp.get("/facebook/<page_id>")
def facebook_feed(page_id: str) -> str:
    account = _account("facebook", page_id)
    posts, _ = current_state().timeline(account.key, ["post", "photo"], limit=SHOWN)
    return render_template("facebook_feed.html", account=account,
                           posts=[(p, _comments(p)) for p in posts])


@bp.get("/facebook/<page_id>/posts/<post_id>")
def facebook_post(page_id: str, post_id: str) -> str:
    account = _account("facebook", page_id)
    post = _post(account, post_id)
    return render_template("facebook_feed.html", account=account,
                           posts=[(post, _comments(post))])

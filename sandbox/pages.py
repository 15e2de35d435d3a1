"""Read-only HTML views of the sandbox: the permalinks that posts and tweets point to."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from sandbox.context import current_state
from sandbox.state import Account, Post, iso

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


def _comments(post: Post) -> list[Post]:
    return current_state().timeline(None, ["comment"], limit=SHOWN, parent_id=post.id,
                                    newest_first=False)[0]


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
    return render_template("x_timeline.html", account=account, posts=posts)


@bp.get("/x/<username>/status/<tweet_id>")
def x_status(username: str, tweet_id: str) -> str:
    account = _account("x", username)
    return render_template("x_timeline.html", account=account, posts=[_post(account, tweet_id)])


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

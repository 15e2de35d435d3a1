"""News feeds and article pages for the media monitor, served from memory on the sandbox's port.

- GET /sandbox/feeds/<name>.xml: RSS 2.0 with a weak ETag (a hash of the content) and
  Last-Modified (the newest item); 304 on a matching If-None-Match (or, without one, on an
  If-Modified-Since at or after it); gzip when the client asks for it.
- GET /sandbox/news/<slug>: an article page (title, time, paragraphs, plus site chrome around
  them, as a paper's page has), for trafilatura. GET /sandbox/news/section/<outlet>: a section
  page listing an outlet's articles (for page sources); GET /sandbox/news/: every outlet.
- Control API (loopback only, like the rest of /sandbox/api/):
  POST /sandbox/api/feeds/<name>/items {title, text, link?, published?, feed_title?} -> 201
  {guid, link}: an item on top of the feed (the feed is made if new; `published` ISO 8601,
  default now; without `link` the item gets an article page here);
  GET /sandbox/api/feeds -> [{name, title, items}];
  POST /sandbox/api/demo/social -> the X accounts, tweets, Facebook Page and comments of the
  demo (sandbox.demo_news), made once; answers the names to read them with.

The demo feeds (sandbox.demo_news) are built in: nwt-demo, vf-demo, svt-varmland-demo and
p4-varmland-demo, plus the feedless outlet an-demo. Their items are dated relative to the
start, and a few appear minutes after it. Items added through the API live until the sandbox
stops.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from html import escape
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from flask import Blueprint, Flask, Response, abort, current_app, jsonify, request

from sandbox import demo_news
from sandbox.context import current_state
from sandbox.control import loopback_only
from sandbox.state import SandboxState

bp = Blueprint("feeds", __name__, url_prefix="/sandbox")

NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
SHOWN = 50  # newest items in a feed


@dataclass(frozen=True)
class NewsItem:
    feed: str
    slug: str
    title: str
    text: str  # paragraphs separated by blank lines
    published: float  # UNIX seconds; the item shows from then on
    link: str | None = None  # elsewhere; None: the article page here

    @property
    def paragraphs(self) -> list[str]:
        return [p.strip() for p in self.text.split("\n\n") if p.strip()]


@dataclass
class Feed:
    name: str
    title: str
    items: list[NewsItem] = field(default_factory=list)

    def visible(self, now: float) -> list[NewsItem]:
        return sorted((i for i in self.items if i.published <= now),
                      key=lambda i: i.published, reverse=True)[:SHOWN]


class FeedStore:
    """All feeds and articles of one sandbox app, in memory, safe across threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._feeds: dict[str, Feed] = {}
        self._articles: dict[str, NewsItem] = {}
        self._serial = 0

    @classmethod
    def with_demo(cls, started: float) -> FeedStore:
        store = cls()
        for name, (title, _) in demo_news.OUTLETS.items():
            store._feeds[name] = Feed(name, title)
        for feed, slug, hours_ago, title, text in demo_news.ARTICLES:
            item = NewsItem(feed, slug, title, text, started - hours_ago * 3600)
            store._feeds[feed].items.append(item)
            store._articles[slug] = item
        return store

    def feed(self, name: str) -> Feed | None:
        with self._lock:
            feed = self._feeds.get(name)
            return Feed(feed.name, feed.title, list(feed.items)) if feed else None

    def feeds(self) -> list[Feed]:
        with self._lock:
            return [Feed(f.name, f.title, list(f.items)) for f in self._feeds.values()]

    def article(self, slug: str) -> NewsItem | None:
        with self._lock:
            return self._articles.get(slug)

    def add(self, name: str, title: str, text: str, link: str | None, published: float,
            feed_title: str | None = None) -> NewsItem:
        with self._lock:
            self._serial += 1
            feed = self._feeds.setdefault(name, Feed(name, feed_title or name))
            slug = f"{name}-{int(published)}-{self._serial}"
            item = NewsItem(name, slug, title, text, published, link)
            feed.items.append(item)
            if link is None:
                self._articles[slug] = item
            return item


def register(app: Flask) -> None:
    """Serve feeds from `app` (with the demo set, dated from now)."""
    app.extensions["sandbox_feeds"] = FeedStore.with_demo(time.time())
    app.register_blueprint(bp)


def _store() -> FeedStore:
    return current_app.extensions["sandbox_feeds"]


def _base() -> str:
    return request.host_url.rstrip("/")


def _item_link(item: NewsItem) -> str:
    return item.link or f"{_base()}/sandbox/news/{item.slug}"


def _http_date(ts: float) -> str:
    return format_datetime(datetime.fromtimestamp(int(ts), UTC), usegmt=True)


def render_rss(feed: Feed, items: list[NewsItem]) -> bytes:
    entries = []
    for item in items:
        lead = item.paragraphs[0] if item.paragraphs else ""
        body = "".join(f"<p>{escape(p)}</p>" for p in item.paragraphs)
        entries.append(
            "<item>"
            f"<title>{xml_escape(item.title)}</title>"
            f"<link>{xml_escape(_item_link(item))}</link>"
            f'<guid isPermaLink="false">{xml_escape(f"{feed.name}:{item.slug}")}</guid>'
            f"<pubDate>{_http_date(item.published)}</pubDate>"
            f"<description>{xml_escape(lead)}</description>"
            f"<content:encoded>{xml_escape(body)}</content:encoded>"
            "</item>")
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
        f"<title>{xml_escape(feed.title)}</title>"
        f"<link>{xml_escape(_base())}/sandbox/news/section/{feed.name}</link>"
        "<description>Påhittade nyheter för Megafons demo (sandlådan)</description>"
        "<language>sv</language>" + "".join(entries) + "</channel></rss>\n").encode()


def _not_modified(etag: str, last_modified: str) -> bool:
    """RFC 9110: If-None-Match (weak comparison) wins; else If-Modified-Since."""
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        return "*" in tags or etag.removeprefix("W/") in tags
    since = request.headers.get("If-Modified-Since")
    if not since:
        return False
    try:
        return parsedate_to_datetime(since) >= parsedate_to_datetime(last_modified)
    except (TypeError, ValueError):
        return False


@bp.get("/feeds/<name>.xml")
def feed_xml(name: str) -> Response:
    feed = _store().feed(name)
    if feed is None:
        abort(404)
    items = feed.visible(time.time())
    body = render_rss(feed, items)
    etag = f'W/"{hashlib.sha256(body).hexdigest()[:32]}"'
    last_modified = _http_date(items[0].published if items else 0)
    headers = {"ETag": etag, "Last-Modified": last_modified, "Cache-Control": "max-age=60",
               "Vary": "Accept-Encoding"}
    if _not_modified(etag, last_modified):
        return Response(status=304, headers=headers)
    response = Response(body, mimetype="application/rss+xml", headers=headers)
    response.charset = "utf-8"
    if "gzip" in request.headers.get("Accept-Encoding", "").lower():
        response.set_data(gzip.compress(body, compresslevel=5))
        response.headers["Content-Encoding"] = "gzip"
    return response


PAGE = """<!DOCTYPE html>
<html lang="sv"><head><meta charset="utf-8"><title>{title} | {outlet}</title>
<meta property="og:title" content="{title}">
<meta property="article:published_time" content="{iso}">
</head><body>
<header><nav><a href="{base}/sandbox/news/">Start</a> ·
<a href="{base}/sandbox/news/section/{feed}">{outlet}</a> ·
<a href="{base}/sandbox/news/">Sport</a> · <a href="{base}/sandbox/news/">Kultur</a></nav>
<div class="promo-banner">Prenumerera på {outlet} – första månaden gratis!</div></header>
<main><article>
<h1>{title}</h1>
<p class="byline">Av Redaktionen (demo) · <time datetime="{iso}">{when}</time></p>
{paragraphs}
</article>
<aside><h2>Mest läst</h2><ul><li>Väder: snö i norra Värmland</li><li>Färjeläge stängt</li>
</ul></aside></main>
<footer><p>© {outlet}. Påhittad nyhetssajt i Megafons sandlåda.</p></footer>
</body></html>
"""


@bp.get("/news/<slug>")
def article(slug: str) -> Response:
    item = _store().article(slug)
    if item is None or item.published > time.time():
        abort(404)
    outlet = demo_news.OUTLETS.get(item.feed, (item.feed, item.feed))[0]
    moment = datetime.fromtimestamp(int(item.published), UTC)
    html = PAGE.format(
        title=escape(item.title), outlet=escape(outlet), feed=escape(item.feed), base=_base(),
        iso=moment.isoformat(), when=moment.strftime("%Y-%m-%d %H:%M UTC"),
        paragraphs="\n".join(f"<p>{escape(p)}</p>" for p in item.paragraphs))
    return Response(html, mimetype="text/html")


def _listing(title: str, feeds: list[Feed]) -> Response:
    now = time.time()
    rows = []
    for feed in feeds:
        for item in feed.visible(now):
            rows.append(f'<li><a href="{escape(_item_link(item))}">{escape(item.title)}</a> '
                        f"<small>{escape(feed.title)}</small></li>")
    html = (f'<!DOCTYPE html><html lang="sv"><head><meta charset="utf-8"><title>{escape(title)}'
            f"</title></head><body><h1>{escape(title)}</h1><ul>{''.join(rows)}</ul>"
            f'<p><a href="{_base()}/sandbox/news/">Alla nyheter</a></p></body></html>')
    return Response(html, mimetype="text/html")


@bp.get("/news/")
def news_index() -> Response:
    return _listing("Nyheter (demo)", _store().feeds())


@bp.get("/news/section/<name>")
def section(name: str) -> Response:
    feed = _store().feed(name)
    if feed is None:
        abort(404)
    return _listing(feed.title, [feed])


# -- control API ----------------------------------------------------------------------------

def _error(status: int, message: str) -> Response:
    response = jsonify({"error": message})
    response.status_code = status
    return response


def _published(raw: Any) -> float:
    if raw in (None, ""):
        return time.time()
    if not isinstance(raw, str):
        raise ValueError("published must be an ISO 8601 date and time")
    moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


@bp.post("/api/feeds/<name>/items")
def add_item(name: str) -> Response:
    if (refused := loopback_only()) is not None:
        return refused
    if not NAME.match(name):
        return _error(400, "a feed name is lower-case letters, digits and dashes")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return _error(400, "the body must be a JSON object")
    title, text, link = body.get("title"), body.get("text", ""), body.get("link")
    if not isinstance(title, str) or not title.strip() or not isinstance(text, str):
        return _error(400, "title (non-empty) and text must be strings")
    if link is not None and (not isinstance(link, str)
                             or not link.startswith(("http://", "https://"))):
        return _error(400, "link must be an http(s) URL")
    try:
        published = _published(body.get("published"))
    except ValueError as exc:
        return _error(400, str(exc))
    item = _store().add(name, title.strip(), text, link, published,
                        body.get("feed_title") if isinstance(body.get("feed_title"), str) else None)
    response = jsonify({"guid": f"{name}:{item.slug}", "link": _item_link(item),
                        "feed": f"{_base()}/sandbox/feeds/{name}.xml"})
    response.status_code = 201
    return response


@bp.get("/api/feeds")
def list_feeds() -> Response:
    if (refused := loopback_only()) is not None:
        return refused
    return jsonify([{"name": f.name, "title": f.title, "items": len(f.items),
                     "url": f"{_base()}/sandbox/feeds/{f.name}.xml"} for f in _store().feeds()])


def seed_social(state: SandboxState) -> dict[str, str]:
    """The demo's tweets and Facebook comments (once; running it again adds nothing)."""
    state.add_account("x", demo_news.X_SEARCH_ACCOUNT)
    for name, text in demo_news.TWEETS:
        creds = state.add_account("x", name)
        account = state.account(creds["user_id"])
        if account is not None and not state.posts(account.key):
            state.add_post(account, "tweet", text)
    page_creds = state.add_account("facebook", demo_news.FACEBOOK_PAGE)
    page = state.account(page_creds["page_id"])
    if page is not None and not state.posts(page.key):
        for message, comments in demo_news.FACEBOOK_POSTS:
            post = state.add_post(page, "post", message, post_id=f"{page.key}_{state.new_id()}")
            for author, comment in comments:
                visitor = state.account(state.add_account("facebook", author)["page_id"])
                if visitor is not None:
                    state.add_post(visitor, "comment", comment, parent=post,
                                   post_id=f"{post.id.split('_')[-1]}_{state.new_id()}")
    return {"x_account": demo_news.X_SEARCH_ACCOUNT, "facebook_page": demo_news.FACEBOOK_PAGE,
            "x_query": "Värmland"}


@bp.post("/api/demo/social")
def demo_social() -> Response:
    if (refused := loopback_only()) is not None:
        return refused
    return jsonify(seed_social(current_state()))

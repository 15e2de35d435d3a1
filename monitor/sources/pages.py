"""Web pages: a section page (a paper's "Värmland" page, say) lists article links; each article
on the same site is fetched and its text, title and date extracted with trafilatura.

Settings (Source.config): "max_articles" (default PollContext.page_max_articles) and
"link_pattern", a regular expression an article link must match. The cursor keeps a hash of the
article links found: while the section page lists the same links, no article is fetched.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from copy import deepcopy
from datetime import UTC, datetime
from datetime import time as day_time
from urllib.parse import urldefrag, urljoin, urlsplit

import lxml.html
import trafilatura
from lxml.etree import ParserError
from trafilatura.settings import DEFAULT_CONFIG

from core.clock import STOCKHOLM
from core.i18n import N_
from monitor.dedupe import normalize_url
from monitor.fetch import FetchError
from monitor.items import Item, decode_html, html_to_text, item_key
from monitor.models import Source, SourceKind
from monitor.sources.base import PollContext, PollResult, config_of

NOT_ARTICLES = re.compile(r"\.(jpe?g|png|gif|webp|svg|pdf|css|js|xml|rss|ico|mp3|mp4|zip)$",
                          re.I)
# An article's address ends in a slug with a dash or in a long number (…/akuten-i-arvika,
# …/artikel/7712345); section and start pages rarely do. "link_pattern" overrides this.
ARTICLE_SLUG = re.compile(r"/[^/]*(-[^/]*|\d{5,}[^/]*)/?$")
# Local news items can be a few sentences long: below trafilatura's default of 250 characters
# it falls back to taking the whole page, menus and banners included.
EXTRACTION = deepcopy(DEFAULT_CONFIG)
EXTRACTION.set("DEFAULT", "MIN_EXTRACTED_SIZE", "80")
PUBLISHED_META = ("article:published_time", "og:article:published_time", "datePublished",
                  "pubdate", "publish-date", "date")


def _site(host: str | None) -> str:
    host = (host or "").lower()
    return host[4:] if host.startswith("www.") else host


def article_links(html: bytes, base_url: str, pattern: str | None, limit: int) -> list[str]:
    """Links on the page to other pages of the same site, in page order, without duplicates."""
    try:
        tree = lxml.html.fromstring(html, base_url=base_url)
    except (ParserError, ValueError):
        raise FetchError("not_a_page", N_("The page could not be read as HTML.")) from None
    site, here = _site(urlsplit(base_url).hostname), normalize_url(base_url)
    wanted = re.compile(pattern) if pattern else None
    found: dict[str, None] = {}
    for anchor in tree.iter("a"):
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith(("#", "mailto:", "tel:", "javascript:")):
            continue
        link = urldefrag(urljoin(base_url, href))[0]
        parts = urlsplit(link)
        if parts.scheme not in ("http", "https") or _site(parts.hostname) != site:
            continue
        if normalize_url(link) == here or NOT_ARTICLES.search(parts.path):
            continue
        if not wanted and not ARTICLE_SLUG.search(parts.path):
            continue  # a section, tag or start page rather than an article
        if wanted and not wanted.search(link):
            continue
        found.setdefault(link)
        if len(found) >= limit:
            break
    return list(found)


def _published(tree: lxml.html.HtmlElement, extracted_date: str | None) -> datetime | None:
    for name in PUBLISHED_META:
        for meta in tree.xpath(f'//meta[@property="{name}" or @name="{name}" or '
                               f'@itemprop="{name}"]'):
            when = _parse_when(meta.get("content") or "")
            if when:
                return when
    for node in tree.xpath("//time[@datetime]"):
        when = _parse_when(node.get("datetime") or "")
        if when:
            return when
    return _parse_when(extracted_date or "")


def _parse_when(raw: str) -> datetime | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:  # a bare date or local time: a Swedish paper means Swedish time
        if len(raw) <= 10:
            when = datetime.combine(when.date(), day_time(), STOCKHOLM)
        else:
            when = when.replace(tzinfo=STOCKHOLM)
    return when.astimezone(UTC)


def extract_article(body: bytes, url: str, outlet: str, key: str | None = None,
                    content_type: str = "") -> Item | None:
    """Title, text and date of an article page; None when it has no article text. `key`: the
    item's identity (default: the normalised URL). The page is read in its declared charset
    (monitor.items.decode_html), not guessed."""
    html = decode_html(body, content_type)
    extracted = trafilatura.extract(html, url=url, output_format="json", with_metadata=True,
                                    include_comments=False, include_tables=False,
                                    favor_precision=True, config=EXTRACTION)
    if not extracted:
        return None
    data = json.loads(extracted)
    text = (data.get("text") or "").strip()
    if not text:
        return None
    try:
        tree = lxml.html.fromstring(html)
        title = html_to_text(data.get("title") or tree.findtext(".//title") or "")
        published = _published(tree, data.get("date"))
    except (ParserError, ValueError):
        title, published = html_to_text(data.get("title") or ""), None
    paragraphs = [" ".join(p.split()) for p in text.split("\n")]
    if paragraphs and paragraphs[0] == " ".join(title.split()):
        paragraphs = paragraphs[1:]  # the headline, once more above the article
    return Item(item_key=key or item_key(None, url), url=url, title=title,
                text="\n\n".join(p for p in paragraphs if p), published_at=published,
                outlet=outlet, source_kind=SourceKind.PAGE)


def poll(source: Source, ctx: PollContext) -> PollResult:
    if not source.url:
        raise FetchError("config", N_("The source has no address."))
    config = config_of(source)
    limit = int(config.get("max_articles") or ctx.page_max_articles)
    section = ctx.fetcher.fetch(source.url, source.etag, source.last_modified)
    if section.not_modified:
        return PollResult([], section.etag, section.last_modified, source.cursor, True,
                          section.final_url)
    links = article_links(section.body, section.final_url, config.get("link_pattern"), limit)
    digest = "sha256:" + hashlib.sha256("\n".join(links).encode()).hexdigest()
    if digest == source.cursor:
        return PollResult([], section.etag, section.last_modified, digest, True,
                          section.final_url)
    outlet = source.outlet or source.name
    items: list[Item] = []
    errors: list[FetchError] = []
    budget_ends = time.monotonic() + max(30.0, 4 * ctx.fetcher.timeout)
    complete = True
    for link in links:
        if time.monotonic() > budget_ends:
            complete = False
            break
        try:
            page = ctx.fetcher.fetch(link)
        except FetchError as exc:
            errors.append(exc)
            continue
        item = extract_article(page.body, page.final_url, outlet, item_key(None, link),
                               page.content_type)
        if item is not None:
            items.append(item)
    if not links:
        raise FetchError("no_articles", N_("No article links were found on the page."))
    if errors and not items:
        raise errors[0]
    # Keep the old cursor when articles were missed, so the next poll tries them again.
    cursor = digest if complete and not errors else source.cursor
    return PollResult(items, section.etag, section.last_modified, cursor,
                      final_url=section.final_url)

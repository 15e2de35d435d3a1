"""RSS and Atom feeds: fetched by SafeFetcher, checked for XML attacks, parsed by feedparser.

feedparser only ever reads a stream of the fetched bytes: it never fetches or opens a file itself.
An unchanged feed costs no parse: the server answers 304 to our validators, or, for servers
without validators, the body's hash equals the one kept in the source's cursor.
"""

from __future__ import annotations

import hashlib
import io
import re
from datetime import UTC, datetime
from typing import Any
from xml.sax import SAXException

import feedparser
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from core.i18n import N_
from monitor.fetch import FetchError
from monitor.items import Item, html_to_text, item_key, web_link
from monitor.models import Source, SourceKind
from monitor.sources.base import PollContext, PollResult

HTML_START = re.compile(rb"^\s*(<!--.*?-->\s*)*(<!doctype\s+html|<html[\s>])", re.I | re.S)
ENTITY_DECL = re.compile(rb"<!ENTITY", re.I)


def body_digest(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


def poll(source: Source, ctx: PollContext) -> PollResult:
    if not source.url:
        raise FetchError("config", N_("The source has no address."))
    fetched = ctx.fetcher.fetch(source.url, source.etag, source.last_modified)
    digest = source.cursor if fetched.not_modified else body_digest(fetched.body)
    if fetched.not_modified or digest == source.cursor:
        return PollResult([], fetched.etag, fetched.last_modified, digest, not_modified=True,
                          final_url=fetched.final_url)
    items = parse_feed(fetched.body, fetched.content_type, fetched.final_url, source)
    return PollResult(items, fetched.etag, fetched.last_modified, digest,
                      final_url=fetched.final_url)


class _Root(Exception):
    def __init__(self, tag: str) -> None:
        super().__init__(tag)
        self.tag = tag


class _StopAtRoot:
    """An ElementTree target that stops the parse at the root element: the prolog (where a
    DTD and its entities live) is all the safety check needs to read."""

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        raise _Root(tag)

    def close(self) -> None:
        return None


def root_element(body: bytes) -> str | None:
    """The document's root element name (lower case, no namespace), or None if the XML cannot be
    read that far. Raises FetchError when the document declares entities (billion laughs,
    external entities): such feeds are refused, never expanded."""
    parser = DefusedXMLParser(target=_StopAtRoot(), forbid_dtd=False, forbid_entities=True,
                              forbid_external=True)
    try:
        parser.feed(body)
        parser.close()
    except _Root as root:
        return root.tag.rpartition("}")[2].rpartition(":")[2].lower()
    except DefusedXmlException:
        raise _entities_refused() from None
    except Exception:  # not well-formed: feedparser's lenient parser may still read it
        if ENTITY_DECL.search(body):
            raise _entities_refused() from None
    return None


def _entities_refused() -> FetchError:
    return FetchError("xml_attack", N_("Refused: the feed contains XML entity definitions "
                                       "(a known attack)."))


def _not_html(body: bytes, content_type: str, root: str | None) -> None:
    if root == "html" or (root is None and HTML_START.match(body[:2048])) or (
            root is None and content_type.lower().startswith("text/html")):
        raise FetchError("not_a_feed", N_("Not a feed: the server sent an HTML page."))


def parse_feed(body: bytes, content_type: str, url: str, source: Source) -> list[Item]:
    root = root_element(body)
    _not_html(body, content_type, root)
    # A stream, never bytes: feedparser tries bytes as a file name first (a body reading
    # "/etc/passwd" would be opened), and a str that looks like a URL it would fetch itself.
    parsed = feedparser.parse(io.BytesIO(body), response_headers={"content-type": content_type or
                                                      "application/xml",
                                                      "content-location": url},
                              sanitize_html=False, resolve_relative_uris=False)
    if not parsed.get("version") and not parsed.entries:
        reason = str(parsed.get("bozo_exception") or "no feed elements")[:200]
        raise FetchError("not_a_feed", N_("Not a feed: the XML could not be read as RSS or Atom "
                                          "(%(reason)s)."), reason=reason)
    problem = parsed.get("bozo_exception")
    if not parsed.entries and isinstance(problem, SAXException):
        # Broken XML that yields nothing is a broken feed, not an empty one: said in the
        # source's state instead of "ok, 0 items" (a feed with items despite a slip keeps them).
        raise FetchError("malformed", N_("The feed is malformed: %(reason)s."),
                         reason=str(problem)[:200])
    outlet = source.outlet or html_to_text(parsed.feed.get("title", "")) or source.name
    return [_item(entry, outlet) for entry in parsed.entries]


def _when(entry: Any) -> datetime | None:
    for name in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(name)
        if value:
            try:
                return datetime(*value[:6], tzinfo=UTC)
            except (TypeError, ValueError):
                continue
    return None


def _item(entry: Any, outlet: str) -> Item:
    title = html_to_text(entry.get("title", ""))
    bodies = [c.get("value", "") for c in entry.get("content", [])]
    bodies.append(entry.get("summary", ""))
    text = html_to_text(max(bodies, key=len))
    link = web_link(entry.get("link"))
    published = _when(entry)
    key = item_key(entry.get("id"), link, title, published.isoformat() if published else "")
    return Item(item_key=key, url=link, title=title, text=text, published_at=published,
                outlet=outlet, source_kind=SourceKind.FEED)

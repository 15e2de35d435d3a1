"""What every source hands on: items, each with a stable identity within its source."""

from __future__ import annotations

import codecs
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from email.message import Message
from html.parser import HTMLParser
from urllib.parse import urlsplit

from monitor.dedupe import normalize_url
from monitor.models import SourceKind

BLOCK_TAGS = {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr",
              "blockquote", "section", "article", "figcaption", "table"}
SKIP_TAGS = {"script", "style", "noscript", "template", "iframe", "svg"}


@dataclass(frozen=True)
class Author:
    """Who wrote a post or comment, as the platform names them: the platform ("x",
    "facebook"), the platform's id of the user or Page, and the handle (X username) where
    known. At ingest, an author who is one of our accounts makes the mention ours
    (monitor.own)."""

    platform: str
    id: str | None = None
    handle: str | None = None


@dataclass(frozen=True)
class Item:
    """One article, post, tweet, comment or clipping, as a source saw it."""

    item_key: str  # the GUID, else the normalised link: stable across polls of one source
    url: str | None
    title: str
    text: str
    published_at: datetime | None  # aware UTC
    outlet: str
    source_kind: SourceKind
    author: Author | None = None  # where the source knows it (X search, Facebook comments)


def item_key(guid: str | None, link: str | None, *fallback: str) -> str:
    """GUID, else the normalised link, else a hash of what is known (title, date…)."""
    if guid and guid.strip():
        return guid.strip()[:2000]
    if link and link.strip():
        return normalize_url(link)[:2000]
    digest = hashlib.sha256("\x1f".join(fallback).encode()).hexdigest()
    return f"sha256:{digest}"


class _TextOnly(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIP_TAGS:
            self.skipping += 1
        elif tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIP_TAGS:
            self.skipping = max(0, self.skipping - 1)
        elif tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Readable text of an HTML fragment (a feed summary): tags gone, entities decoded,
    paragraphs kept as blank-line breaks, other white space folded."""
    if "<" not in html and "&" not in html:
        return " ".join(html.split())
    parser = _TextOnly()
    parser.feed(html)
    parser.close()
    paragraphs = (" ".join(p.split()) for p in "".join(parser.parts).split("\n"))
    return "\n\n".join(p for p in paragraphs if p)


def web_link(url: str | None) -> str | None:
    """The link if it is an http(s) address, else None: a feed's `javascript:` or `data:`
    "link" is never stored, let alone shown as something to click."""
    link = (url or "").strip()
    return link if urlsplit(link).scheme.lower() in ("http", "https") and "//" in link else None


CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.I)


def _codec(name: str | None) -> str | None:
    try:
        return codecs.lookup(name).name if name else None
    except LookupError:
        return None


def decode_html(body: bytes, content_type: str = "") -> str:
    """An HTML page's text, read in the charset the server declared (HTTP header, else a
    byte order mark, else the page's <meta charset>), else UTF-8, else Windows-1252 (what
    "ISO-8859-1" means on the web). Guessing from the bytes garbles Swedish pages (å read as
    ċ), so the page is never handed to an extractor undecoded."""
    declared = _codec(_http_charset(content_type))
    if declared is None:
        for bom, name in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                          (codecs.BOM_UTF16_BE, "utf-16")):
            if body.startswith(bom):
                declared = name
                break
    if declared is None and (meta := CHARSET.search(body[:4096])):
        declared = _codec(meta.group(1).decode("ascii", "replace"))
    if declared in ("latin-1", "iso8859-1", "ascii"):
        declared = "cp1252"  # as browsers read them (WHATWG Encoding)
    if declared is not None:
        return body.decode(declared, "replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("cp1252", "replace")


def _http_charset(content_type: str) -> str | None:
    message = Message()
    message["content-type"] = content_type or ""
    return message.get_content_charset()

"""A mention's text with the matched words marked.

Mention.hits are offsets into `document(title, text)`, the one string the matcher read at ingest
(monitor.mentions), so the log can mark exactly the words that made it a mention without
matching again. Everything here is pure: text in, (text, marked) segments out.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from monitor.models import Mention, SourceKind

# Sources whose items are posts (the title repeats the words): see title_with_highlights.
SOCIAL_KINDS = frozenset({SourceKind.X_SEARCH, SourceKind.FB_COMMENTS})

# Mention.hits are offsets into the title and the text joined like this (monitor.mentions).
SEPARATOR = "\n\n"


def document(title: str, text: str) -> str:
    """The text a mention was matched against: what Mention.hits point into."""
    return f"{title or ''}{SEPARATOR}{text or ''}"


Segment = tuple[str, bool]


def parse_hits(raw: str | list | None) -> list[tuple[int, int]]:
    """(start, end) pairs from Mention.hits JSON (or a list of hits), sorted, overlaps merged."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw or "[]")
        except ValueError:
            return []
    spans: list[tuple[int, int]] = []
    for hit in raw or []:
        start = hit.get("start") if isinstance(hit, dict) else getattr(hit, "start", None)
        end = hit.get("end") if isinstance(hit, dict) else getattr(hit, "end", None)
        if isinstance(start, int) and isinstance(end, int) and 0 <= start < end:
            spans.append((start, end))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _segments(doc: str, spans: Sequence[tuple[int, int]], lo: int, hi: int) -> list[Segment]:
    out: list[Segment] = []
    at = lo
    for start, end in spans:
        start, end = max(start, lo), min(end, hi)
        if end <= start:
            continue
        if start > at:
            out.append((doc[at:start], False))
        out.append((doc[start:end], True))
        at = end
    if at < hi:
        out.append((doc[at:hi], False))
    return out


def highlight(doc: str, hits: str | list | None, lo: int = 0, hi: int | None = None,
              width: int | None = None) -> list[Segment]:
    """The part of ``doc`` between lo and hi as segments, the matched words marked.

    With ``width``, only about that many characters are kept: a window around the first match
    (or the start), cut at word boundaries, with "…" where text was left out.
    """
    hi = len(doc) if hi is None else min(hi, len(doc))
    spans = [s for s in parse_hits(hits) if s[1] <= len(doc)]
    if width is None or hi - lo <= width:
        return _segments(doc, spans, lo, hi)
    inside = [s for s in spans if lo <= s[0] < hi]
    start = lo
    if inside:
        start = max(lo, inside[0][0] - width // 3)
        if start > lo:  # begin at a word, not in the middle of one
            space = doc.find(" ", start, inside[0][0])
            start = space + 1 if space != -1 else start
    end = min(hi, start + width)
    if end < hi:
        space = doc.rfind(" ", start + width // 2, end)
        end = space if space != -1 else end
    segments = _segments(doc, spans, start, end)
    if start > lo:
        segments.insert(0, ("…", False))
    if end < hi:
        segments.append(("…", False))
    return segments


Hits = str | list | None


def title_with_highlights(mention: Mention, hits: Hits = None) -> list[Segment]:
    """The headline, the matched words marked (or `hits` instead: a search's words).

    A post on X or a comment on a Page has no headline of its own: its title is "author: the
    words", and the words follow in full as its text. Only the author is the headline then, so
    the words are not printed twice (found in issue 17)."""
    return highlight(document(mention.title, mention.text),
                     mention.hits if hits is None else hits, 0, headline_length(mention))


def headline_length(mention: Mention) -> int:
    """How much of the title is the headline: all of it, or a social post's author part."""
    title = mention.title or ""
    if mention.source_kind not in SOCIAL_KINDS or not mention.text:
        return len(title)
    author, found, words = title.partition(": ")
    start = " ".join(words.split()).removesuffix("…")[:40]
    if found and author and start and " ".join(mention.text.split()).startswith(start):
        return len(author)
    return len(title)


def excerpt_with_highlights(mention: Mention, width: int = 280, hits: Hits = None
                            ) -> list[Segment]:
    """A stretch of the mention's text around its first match, the matched words marked (or
    around the first of `hits`, a search's words, with those marked)."""
    doc = document(mention.title, mention.text)
    body = len(mention.title or "") + len(SEPARATOR)
    return highlight(doc, mention.hits if hits is None else hits, body, len(doc), width)


def text_with_highlights(mention: Mention) -> list[Segment]:
    doc = document(mention.title, mention.text)
    return highlight(doc, mention.hits, len(mention.title or "") + len(SEPARATOR), len(doc))


def matched_terms(mention: Mention) -> list[str]:
    """The words that matched, as written in the mention, each once."""
    doc = document(mention.title, mention.text)
    seen = dict.fromkeys(doc[s:e].strip().casefold() for s, e in parse_hits(mention.hits))
    return [term for term in seen if term]

"""What each platform accepts as post text: X counts weighted characters, URLs as 23."""

from __future__ import annotations

from twitter_text import parse_tweet

X_MAX_WEIGHTED = 280
FACEBOOK_MAX_CHARS = 63206


def x_weighted_length(text: str) -> int:
    """X's own count (twitter-text): most characters 1, CJK and emoji 2, every URL 23."""
    return parse_tweet(text).weightedLength


def as_typed(text: str) -> str:
    """Text as the person typed it: a browser sends a text area's line breaks as CR LF, which
    X (and the composer's count while typing) take as one line break each."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def x_count(text: str, link: str | None = None) -> int:
    """The X count of a post (or a thread part) as written in the composer, the same string
    the composer counts while typing (web/static/compose.js, with twitter-text's JavaScript):
    the text as typed, spaces at its ends included, as X's own composer counts them, then the
    link on its own line unless the text has it already. Megafon publishes the text without
    those spaces, so what goes out never counts more than this."""
    text = as_typed(text)
    link = (link or "").strip()
    return x_weighted_length(f"{text}\n\n{link}" if link and link not in text else text)

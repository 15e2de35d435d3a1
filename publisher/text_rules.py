"""What each platform accepts as post text: X counts weighted characters, URLs as 23."""

from __future__ import annotations

from twitter_text import parse_tweet

X_MAX_WEIGHTED = 280
FACEBOOK_MAX_CHARS = 63206


def x_weighted_length(text: str) -> int:
    """X's own count (twitter-text): most characters 1, CJK and emoji 2, every URL 23."""
    return parse_tweet(text).weightedLength

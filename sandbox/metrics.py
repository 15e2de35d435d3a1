"""Engagement that grows as a post ages, the same for the same post every time it is asked.

Each post gets its own potential (how many likes it will end up with), repost and quote shares,
impressions per like and a growth time, all drawn from a generator seeded with the post's id.
Its numbers at a given age follow 1 - exp(-age / tau): nothing at first, most of it within a day,
never going down. Replies and comments are not invented: they are the real ones stored in the
sandbox, so counts and the listed comments agree.
"""

from __future__ import annotations

import hashlib
import math
import random
from typing import Any

GROWING = ("likes", "reposts", "quotes", "impressions", "bookmarks")


def grown(post_id: str, age_s: float) -> dict[str, int]:
    """likes, reposts (retweets / shares), quotes, impressions and bookmarks at `age_s`."""
    seed = int.from_bytes(hashlib.sha256(post_id.encode()).digest()[:8], "big")
    rnd = random.Random(seed)
    potential = rnd.randint(40, 400)
    repost_share = rnd.uniform(0.05, 0.25)
    quote_share = rnd.uniform(0.02, 0.08)
    views_per_like = rnd.randint(20, 60)
    tau_h = rnd.uniform(3.0, 12.0)
    growth = 1.0 - math.exp(-max(0.0, age_s) / 3600.0 / tau_h)
    likes = potential * growth
    return {
        "likes": math.floor(likes),
        "reposts": math.floor(likes * repost_share),
        "quotes": math.floor(likes * quote_share),
        "impressions": math.floor(likes * views_per_like),
        "bookmarks": math.floor(likes * 0.05),
    }


def check_overrides(body: dict[str, Any]) -> dict[str, int | None]:
    """Fixed values from the control API; null removes one. Raises ValueError."""
    out: dict[str, int | None] = {}
    for name in GROWING:
        if name not in body:
            continue
        value = body[name]
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or value < 0):
            raise ValueError(f"{name} must be a whole number ≥ 0 or null")
        out[name] = value
    return out

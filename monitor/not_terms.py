"""Learning from "not relevant": words that keep turning up in an issue's not-relevant mentions
and never in its relevant ones, offered as candidates for a NOT in the issue's query.

Only people who may change the queries are shown them (`suggestions_for`); the counting is plain
Python over the issue's newest triaged mentions.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth import Action, can
from core.users import User
from monitor.models import Mention, MentionWatchlist, Triage, Watchlist

# Common Swedish words that say nothing about a topic; with short words ignored, this is enough.
STOPWORDS = frozenset({
    "alla", "allt", "andra", "annan", "annat", "också", "efter", "eller", "enligt", "inför",
    "innan", "inte", "kommer", "kunde", "mellan", "mycket", "många", "måste", "när", "nästa",
    "några", "något", "sade", "sedan", "sina", "sitt", "skall", "skulle", "säger", "sägs", "till",
    "under", "utan", "vara", "varit", "vilka", "vilket", "vill", "även", "över", "därför",
    "detta", "dessa", "denna", "deras", "hans", "hennes", "blir", "blev", "bara", "både", "hade",
    "hela", "helt", "inga", "ingen", "inget", "just", "kanske", "kommun", "kommunen", "samma",
    "själv", "står", "säga", "tror", "fler", "flera", "första", "senaste", "stora", "stort",
    "större", "genom", "redan", "dock", "medan",
})
WORD = re.compile(r"[^\W\d_]{4,}", re.UNICODE)


@dataclass
class Suggestion:
    word: str
    not_relevant: int  # in how many not-relevant mentions of the issue the word occurs
    examples: list[str] = field(default_factory=list)  # a few of those mentions' titles


def _words(text: str) -> set[str]:
    return {w for w in (m.group().casefold() for m in WORD.finditer(text or ""))
            if w not in STOPWORDS}


def suggested_not_terms(session: Session, watchlist_id: int, limit: int = 5,
                        min_mentions: int = 2) -> list[Suggestion]:
    """Words that keep turning up in the issue's not-relevant mentions and never in its
    relevant ones: candidates for a NOT in the query.

    A word counts once per mention, must occur in at least ``min_mentions`` not-relevant
    mentions, and is left out if any relevant mention has it or the query already names it.
    """
    watchlist = session.get(Watchlist, watchlist_id)
    if watchlist is None:
        return []
    rows = session.execute(
        select(Mention.title, Mention.text, Mention.triage)
        .join(MentionWatchlist, MentionWatchlist.mention_id == Mention.id)
        .where(MentionWatchlist.watchlist_id == watchlist_id,
               Mention.triage.in_([Triage.RELEVANT, Triage.NOT_RELEVANT]))
        .order_by(Mention.first_seen_at.desc()).limit(500)).all()
    relevant: set[str] = set()
    counts: Counter[str] = Counter()
    examples: dict[str, list[str]] = {}
    for title, text, state in rows:
        words = _words(f"{title} {text}")
        if state is Triage.RELEVANT:
            relevant |= words
            continue
        counts.update(words)
        for word in words:
            examples.setdefault(word, []).append(title)
    in_query = {w.casefold().rstrip("*") for w in re.findall(r"[^\W_]+\*?", watchlist.query)}
    found = [Suggestion(word, n, examples[word][:3]) for word, n in counts.items()
             if n >= min_mentions and word not in relevant
             and not any(word.startswith(q) for q in in_query if q)]
    found.sort(key=lambda s: (-s.not_relevant, s.word))
    return found[:limit]


def suggestions_for(session: Session, user: User, mention: Mention) -> dict[int, list[Suggestion]]:
    """After a mention is marked not relevant: per issue it belongs to, the words to suggest.
    Empty unless it is not relevant and the user may change the issues' queries."""
    if mention.triage is not Triage.NOT_RELEVANT or not can(user, Action.MANAGE_MONITORING):
        return {}
    found = {link.watchlist_id: suggested_not_terms(session, link.watchlist_id)
             for link in mention.watchlists}
    return {watchlist_id: words for watchlist_id, words in found.items() if words}

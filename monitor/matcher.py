"""Matching an article against every watchlist, party and person in one pass.

`Matcher.build` puts every term of every watchlist query, every party form (monitor.parties) and
every person's name into one Aho-Corasick automaton (pyahocorasick). `Matcher.match` then

1. folds the article (monitor.normalize: NFC, lower case, Swedish letters kept) and flattens it
   (every non-word character a space, one space at each end), in C-level passes;
2. runs the automaton once over the flat text. Keys carry their word boundaries: " buss " is the
   whole word, " buss" a word start (a prefix), so every automaton hit is a real hit;
3. checks phrases from one anchor word (the longest): the other words must follow (or precede)
   with only white space, brackets or quotation marks between, so "kollektivtrafik
   i\\nVärmland" is the phrase and "kollektivtrafik, i Värmland" is not;
4. decides only the watchlists with at least one hit (monitor.query refuses queries that could
   match without any of their words): a term that matches its query on its own (the query is
   the term, or an OR with it) decides without evaluation; the others evaluate their compiled
   query, counting words between hits for NEAR only where needed;
5. works out the parties (with the context rules for single letters, monitor.parties) and
   the people named.

Hits are reported with offsets into the original text (``text[hit.start:hit.end]`` is the word
as written), so the UI can highlight them. A matcher is immutable and safe to share between
threads; `MatcherCache` rebuilds it when the watchlists or people change.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any, NamedTuple

import ahocorasick

from monitor import parties as party_rules
from monitor.normalize import Normalized, fold_term, normalize_mapped
from monitor.query import PHRASE, Query, QueryError, Term, parse

__all__ = ["PHRASE_GAP_MARKS", "Hit", "MatchResult", "Matcher", "MatcherCache"]

log = logging.getLogger(__name__)

Span = tuple[int, int]
_TOKENS = re.compile(r"[^ ]+")
# Besides white space, what may stand between the words of a phrase: "Anna Svensson (V)".
PHRASE_GAP_MARKS = frozenset("()[]{}\"'\u00ab\u00bb\u201c\u201d\u201e\u2018\u2019\u2039\u203a")


class Hit(NamedTuple):
    """A term found: the term as the query has it (folded), and where it is in the original:
    ``original[start:end] == text``."""

    term: str
    start: int
    end: int
    text: str

    def as_dict(self) -> dict[str, Any]:
        return {"term": self.term, "start": self.start, "end": self.end, "text": self.text}


# A word of a phrase: its stem (without "*"), whether it is a prefix, how many flat parts it has.
_PhraseWord = tuple[str, bool, int]


def _phrase_word(word: str) -> _PhraseWord:
    stem = word.rstrip("*")
    return stem, word.endswith("*"), stem.count(" ") + 1


# An automaton key's payload: whether it is a word start (" buss") rather than a whole word
# (" buss "), its length, the word and prefix terms it finds, and the phrases anchored on it
# (the phrase, its words before the anchor, nearest first, and its words after the anchor).
_Anchor = tuple[Term, tuple[_PhraseWord, ...], tuple[_PhraseWord, ...]]
_Key = tuple[bool, int, tuple[Term, ...], tuple[_Anchor, ...]]


def _key(word: str) -> tuple[str, bool]:
    if word.endswith("*"):
        return " " + word[:-1], True
    return " " + word + " ", False


def _anchor(words: Sequence[str]) -> int:
    """The phrase word to look for first: the longest whole word (rarer than a short one)."""
    whole = [i for i, w in enumerate(words) if not w.endswith("*")]
    pool = whole or list(range(len(words)))
    return max(pool, key=lambda i: len(words[i]))


def _phrase_spans(before: Sequence[_PhraseWord], after: Sequence[_PhraseWord],
                  anchors: Sequence[Span], low: str, flat: str) -> list[Span]:
    """Spans (in folded text) of a phrase whose anchor word was found at ``anchors``: the words
    ``after`` must follow and the words ``before`` (nearest first) precede it.

    Only white space, brackets and quotation marks (PHRASE_GAP_MARKS) may separate the words;
    occurrences do not overlap (the leftmost wins, as a regular expression's finditer would
    have it). ``low`` is the folded text, ``flat`` its flat form (flat[i + 1] is low[i]).
    """
    n = len(low)
    marks = PHRASE_GAP_MARKS
    found: list[Span] = []
    for start, end in anchors:
        ok = True
        for stem, prefix, _ in after:
            j = end
            while j < n and (low[j].isspace() or low[j] in marks):
                j += 1
            f = j + 1  # where the next word must start in flat
            if j == end or not flat.startswith(stem, f):
                ok = False
                break
            e = f + len(stem)
            if prefix:
                e = flat.find(" ", e)
            elif flat[e] != " ":
                ok = False
                break
            end = e - 1
        if not ok:
            continue
        for stem, prefix, parts in before:
            i = start
            while i > 0 and (low[i - 1].isspace() or low[i - 1] in marks):
                i -= 1
            if i == start or i == 0:
                ok = False
                break
            pos = i + 1  # the previous word must end here in flat
            for _ in range(parts):
                pos = flat.rfind(" ", 0, pos)
            f = pos + 1
            if not flat.startswith(stem, f):
                ok = False
                break
            e = f + len(stem)
            if prefix:
                e = flat.find(" ", e)
            if e != i + 1:
                ok = False
                break
            start = pos
        if ok:
            found.append((start, end))
    if len(found) > 1:
        found.sort()
        kept = [found[0]]
        for span in found[1:]:
            if span[0] >= kept[-1][1]:
                kept.append(span)
        return kept
    return found


def _name_term(name: str) -> Term | None:
    words = [w for w in (fold_term(part) for part in name.split()) if w]
    return Term.of(words) if words else None


class MatchResult:
    """What one article matched. ``hits`` are the hits of the matched watchlists' terms."""

    __slots__ = ("watchlist_ids", "parties", "party_hits", "people", "people_hits", "_spans",
                 "_norm", "_terms", "_term_watchlists", "_hits")

    def __init__(self, watchlist_ids: list[int], parties: list[str], party_hits: list[Hit],
                 people: list[int], people_hits: dict[int, list[Hit]],
                 spans: dict[Term, list[Span]], norm: Normalized,
                 watchlist_terms: dict[int, frozenset[Term]],
                 term_watchlists: dict[Term, tuple[int, ...]]) -> None:
        self.watchlist_ids = watchlist_ids
        self.parties = parties
        self.party_hits = party_hits
        self.people = people
        self.people_hits = people_hits
        self._spans = spans
        self._norm = norm
        self._terms = watchlist_terms
        self._term_watchlists = term_watchlists
        self._hits: list[Hit] | None = None

    @property
    def matched(self) -> bool:
        return bool(self.watchlist_ids)

    @property
    def hits(self) -> list[Hit]:
        if self._hits is None:
            matched = set(self.watchlist_ids)
            term_watchlists = self._term_watchlists
            self._hits = self._hits_of(
                t for t in self._spans if not matched.isdisjoint(term_watchlists.get(t, ())))
        return self._hits

    def hits_for(self, watchlist_id: int) -> list[Hit]:
        """The hits of one watchlist's terms, whether or not the watchlist matched."""
        return self._hits_of(self._terms.get(watchlist_id, frozenset()))

    def _hits_of(self, terms: Iterable[Term]) -> list[Hit]:
        original = self._norm.original
        to_original = self._norm.to_original
        out: dict[tuple[int, int, str], Hit] = {}
        for term in terms:
            for s, e in self._spans.get(term, ()):
                start, end = to_original(s, e)
                out[(start, end, term.text)] = Hit(term.text, start, end, original[start:end])
        return [out[k] for k in sorted(out)]


class Matcher:
    """Every watchlist, party and person in one automaton. Build with `Matcher.build`."""

    def __init__(self) -> None:
        self._automaton: Any = None
        self._keys: list[_Key] = []
        self._queries: dict[int, Query] = {}
        self._watchlist_terms: dict[int, frozenset[Term]] = {}
        self._term_watchlists: dict[Term, tuple[int, ...]] = {}
        # Per term: the watchlists it matches alone, and those to evaluate when it is found.
        self._term_roles: dict[Term, tuple[tuple[int, ...], tuple[int, ...]]] = {}
        self._special: frozenset[Term] = frozenset()  # party forms and people's names
        self._party_terms: dict[Term, list[tuple[str, str]]] = {}
        self._people_terms: dict[Term, list[tuple[int, bool]]] = {}
        self.invalid: dict[int, QueryError] = {}  # from_models: watchlists left out

    @classmethod
    def build(cls, watchlists: Iterable[tuple[int, Query]],
              people: Iterable[tuple[int, Sequence[str]]] = (), parties: bool = True) -> Matcher:
        """One automaton over all terms of all queries, party forms (unless ``parties`` is
        False) and people's names (a person id and the names: the name, then aliases)."""
        self = cls()
        uses: dict[Term, list[int]] = {}
        sufficient: dict[Term, list[int]] = {}
        candidates: dict[Term, list[int]] = {}
        for wid, query in dict(watchlists).items():
            self._queries[wid] = query
            self._watchlist_terms[wid] = query.terms
            for term in query.terms:
                uses.setdefault(term, []).append(wid)
                into = sufficient if term in query.sufficient else candidates
                into.setdefault(term, []).append(wid)
        self._term_watchlists = {t: tuple(w) for t, w in uses.items()}
        self._term_roles = {t: (tuple(sufficient.get(t, ())), tuple(candidates.get(t, ())))
                            for t in uses}
        if parties:
            for code, kind, form in party_rules.forms():
                term = Term.of([fold_term(form[:-1]) + "*" if form.endswith("*")
                                else fold_term(form)])
                self._party_terms.setdefault(term, []).append((code, kind))
        for pid, names in people:
            for name in names:
                term = _name_term(name)
                if term is not None:
                    # A one-word name ("Björk", "Sten") counts only with a capital letter.
                    self._people_terms.setdefault(term, []).append((pid, term.kind != PHRASE))
        self._special = frozenset([*self._party_terms, *self._people_terms])
        self._build_automaton([*self._term_watchlists, *self._party_terms,
                               *self._people_terms])
        return self

    @classmethod
    def from_models(cls, watchlists: Iterable[Any], people: Iterable[Any] = ()) -> Matcher:
        """From Watchlist and Person rows: active watchlists whose query parses (the others are
        logged and listed in ``invalid``); a person's name and aliases (one per line)."""
        parsed: list[tuple[int, Query]] = []
        invalid: dict[int, QueryError] = {}
        for row in watchlists:
            if not getattr(row, "active", True):
                continue
            try:
                parsed.append((row.id, parse(row.query)))
            except QueryError as exc:
                invalid[row.id] = exc
                log.warning("watchlist %s has a malformed query (%s); left out", row.id, exc)
        names = [(p.id, [p.name, *(a.strip() for a in (p.aliases or "").splitlines()
                                   if a.strip())]) for p in people]
        matcher = cls.build(parsed, names)
        matcher.invalid = invalid
        return matcher

    def _build_automaton(self, terms: Iterable[Term]) -> None:
        payloads: dict[str, tuple[bool, list[Term], list[_Anchor]]] = {}
        for term in dict.fromkeys(terms):
            k = _anchor(term.words) if term.kind == PHRASE else 0
            key, prefix = _key(term.words[k])
            _, found, anchored = payloads.setdefault(key, (prefix, [], []))
            if term.kind == PHRASE:
                words = [_phrase_word(w) for w in term.words]
                anchored.append((term, tuple(words[:k][::-1]), tuple(words[k + 1:])))
            else:
                found.append(term)
        self._keys = [(prefix, len(key), tuple(found), tuple(anchored))
                      for key, (prefix, found, anchored) in payloads.items()]
        if payloads:
            automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
            for i, key in enumerate(payloads):
                automaton.add_word(key, i)
            automaton.make_automaton()
            self._automaton = automaton

    @property
    def watchlist_ids(self) -> list[int]:
        return sorted(self._queries)

    def match(self, text: str) -> MatchResult:
        norm = normalize_mapped(text)
        low = norm.text
        flat = norm.flat
        found: dict[int, list[int]] = {}
        if self._automaton is not None:
            for end, k in self._automaton.iter(flat):
                ends = found.get(k)
                if ends is None:
                    found[k] = [end]
                else:
                    ends.append(end)
        spans: dict[Term, list[Span]] = {}
        keys = self._keys
        for k, ends in found.items():
            prefix, n, terms, anchors = keys[k]
            if len(ends) == 1:
                e = ends[0]
                sp = [(e - n + 1, flat.find(" ", e + 1) - 1 if prefix else e - 1)]
            elif prefix:
                sp = [(e - n + 1, flat.find(" ", e + 1) - 1) for e in ends]
            else:
                sp = [(e - n + 1, e - 1) for e in ends]
            for term in terms:
                spans[term] = sp
            for phrase, before, after in anchors:
                if phrase_spans := _phrase_spans(before, after, sp, low, flat):
                    spans[phrase] = phrase_spans

        def words_between(a: int, b: int) -> int:
            return len(_TOKENS.findall(flat, a + 1, b + 1))

        matched: set[int] = set()
        candidates: set[int] = set()
        roles = self._term_roles
        for term in spans:
            if role := roles.get(term):
                matched.update(role[0])
                candidates.update(role[1])
        queries = self._queries
        for wid in candidates - matched:
            if queries[wid].evaluate_found(spans, words_between):
                matched.add(wid)

        party_codes: list[str] = []
        party_hits: list[Hit] = []
        people: list[int] = []
        people_hits: dict[int, list[Hit]] = {}
        if special := self._special.intersection(spans):
            party_codes, party_hits = self._parties(special, spans, norm)
            people, people_hits = self._people(special, spans, norm)
        return MatchResult(sorted(matched), party_codes, party_hits, people, people_hits, spans,
                           norm, self._watchlist_terms, self._term_watchlists)

    def _parties(self, special: Iterable[Term], spans: dict[Term, list[Span]],
                 norm: Normalized) -> tuple[list[str], list[Hit]]:
        found: list[party_rules.PartyHit] = []
        for term in special:
            if (uses := self._party_terms.get(term)) is None:
                continue
            for s, e in spans[term]:
                start, end = norm.to_original(s, e)
                found.extend(party_rules.PartyHit(code, kind, start, end)
                             for code, kind in uses)
        if not found:
            return [], []
        codes, counted = party_rules.named_parties(found, norm.original)
        original = norm.original
        return codes, [Hit(h.code, h.start, h.end, original[h.start:h.end]) for h in counted]

    def _people(self, special: Iterable[Term], spans: dict[Term, list[Span]], norm: Normalized
                ) -> tuple[list[int], dict[int, list[Hit]]]:
        original = norm.original
        out: dict[int, list[Hit]] = {}
        for term in special:
            if (uses := self._people_terms.get(term)) is None:
                continue
            for s, e in spans[term]:
                start, end = norm.to_original(s, e)
                for pid, needs_capital in uses:
                    if needs_capital and not original[start].isupper():
                        continue
                    out.setdefault(pid, []).append(
                        Hit(term.text, start, end, original[start:end]))
        for hits in out.values():
            hits.sort(key=lambda h: (h.start, h.end))
        return sorted(out), out


class MatcherCache:
    """The current matcher, rebuilt only when ``version`` changes.

    The caller passes a cheap key of what the matcher was built from, e.g. the count and the
    newest ``updated_at`` of the watchlists and the people, and a function that builds it::

        matcher = cache.get((n_watchlists, newest_change, n_people),
                            lambda: Matcher.from_models(watchlists(), people()))
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._version: Hashable = None
        self._matcher: Matcher | None = None
        self.builds = 0

    def get(self, version: Hashable, build: Callable[[], Matcher]) -> Matcher:
        with self._lock:
            if self._matcher is None or version != self._version:
                self._matcher = build()
                self._version = version
                self.builds += 1
            return self._matcher

    def clear(self) -> None:
        with self._lock:
            self._matcher = None
            self._version = None

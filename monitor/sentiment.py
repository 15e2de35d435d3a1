"""Tone of a Swedish text: a count of the sentiment words it uses, AFINN-style.

What it is: every word (and two- or three-word phrase) of the text is looked up in AFINN-sv-165,
Finn Årup Nielsen's Swedish word list (Apache-2.0; ``monitor/data/AFINN-sv-165.NOTICE.md``), in
which each entry has a score from -5 (very negative) to +5 (very positive). Their sum, divided by
the number of words of the text, is the text's score; a label follows from two thresholds.

What it is not: understanding. It cannot tell who is praised or blamed, reads irony ("Grattis,
Region Värmland: ännu en vårdcentral stängd") and quoted criticism as written, misses good or bad
news told without a sentiment word ("väntetiderna har halverats"), and its list is a translation
of an English one made for tweets: news words such as "nedläggning", "varsel" or "succé" are not
in it, a few entries are mistranslations ("dyrt" +3, from "dear"), and the inflection rule
below can misread a word ("räddas", is saved, as "rädd", afraid). Its agreement with a careful
reader is measured on a hand-labelled set of Värmland news passages
(``tests/monitor/sentiment_labels.json``) and is `MEASURED_ACCURACY`, to be shown beside every
figure; read the figures as a trend over many mentions, never as the verdict on one article.

The rules (`Rules`; tests/monitor/test_sentiment.py prints the agreement without each one):

- Words are runs of letters and digits after `monitor.normalize` folding: lower case, å ä ö kept
  as letters, é → e. The list's entries are folded the same way; an entry listed twice with
  different scores counts with their mean; function words that the translation gave a score
  (`NOT_SENTIMENT`: "som" from "like") are left out.
- The longest phrase of the list starting at a word wins over its single words ("fungerar inte"
  is -3 as a whole).
- A word not in the list is tried as an inflection of one (`_ENDINGS`: "nöjda" → "nöjd",
  "kampen" → "kamp", "förbättrade" → "förbättra"). Snowball's Swedish stemmer, tried instead,
  joins too much for this ("fatta beslut" became "fattig", "klar" "klarhet").
- Negation: after "inte", "icke", "ej", "aldrig", "ingen", "inget", "inga" or "knappast", the
  next three words' scores are multiplied by -0.5 ("inte bra" leans negative, "ingen kris"
  positive, each less strongly than the plain word: "not good" is milder than "bad"), up to a
  punctuation mark, "men" or "utan". The word just before the negation is negated too ("lyckades
  inte": Swedish puts the finite verb before "inte"). The negation words' own scores ("ingen" is
  -1 in the list) do not count: they are operators here.
- Compound words are not split: tried on suffixes of five or six letters it matched "-ningen" as
  "ingen" and "fortfarande" as "farande", right only by chance.

Score and label: ``score`` = (sum of the scores of the sentiment words, after negation) / (number
of words), so a long article with one critical word stays near 0 while a headline with the same
word does not. The label is "positive" above +0.02, "negative" below -0.02 (more than one point of
net tone per fifty words), "neutral" between, so also for a text without any sentiment word.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Literal

import snowballstemmer

from monitor.normalize import fold_term, normalize_mapped

__all__ = [
    "MEASURED_ACCURACY",
    "MEASURED_AGREED",
    "MEASURED_TOTAL",
    "RULES",
    "Label",
    "Rules",
    "Sentiment",
    "score",
]

Label = Literal["positive", "neutral", "negative"]

LEXICON_FILE = "AFINN-sv-165.txt"
NEGATORS = frozenset({"inte", "icke", "ej", "aldrig", "ingen", "inget", "inga", "knappast"})
# "inte dyrt men bra": a negation stops at punctuation and at these.
SCOPE_ENDS = frozenset({"men", "utan"})
# Function words that the translation of the English list gave a score ("som" +2, as in "like";
# "ha", "haft", "vill", "fast"): in Swedish they carry no tone, and "som" alone is in nearly
# every sentence of the news.
NOT_SENTIMENT = frozenset({"som", "ha", "haft", "vill", "fast"})


@dataclass(frozen=True, slots=True)
class Rules:
    """The choices of the scorer, each one measured by tests/monitor/test_sentiment.py, which
    prints the agreement without it."""

    negation: bool = True
    negation_scope: int = 3  # words after the negation word, within the clause
    negation_factor: float = -0.5
    look_back: bool = True  # "lyckades inte": V2 word order puts the verb before the negation
    inflections: Literal["endings", "snowball", "off"] = "endings"
    positive_from: float = 0.02  # labels: score > positive_from is positive, ...
    negative_below: float = -0.02  # ... score < negative_below negative, neutral between


RULES = Rules()

# The hand-labelled set's agreement, as tests/monitor/test_sentiment.py computes it: it fails
# when these differ from what it measures, so the report never shows a stale figure.
MEASURED_AGREED = 81
MEASURED_TOTAL = 114
MEASURED_ACCURACY = MEASURED_AGREED / MEASURED_TOTAL

_TOKEN_RE = re.compile(r"(?P<word>[^\W_]+)|(?P<stop>[.,;:!?()\[\]\"]|(?<!\S)-(?!\S))")


@dataclass(frozen=True, slots=True)
class Sentiment:
    """The tone of one text: ``score`` as defined in the module's docstring, its ``label``, how
    many words it has and how many of them counted as positive and as negative."""

    score: float
    label: Label
    words: int
    positive: int
    negative: int

    def as_dict(self) -> dict[str, object]:
        """What a mention stores and `megafon watch test` prints."""
        return {"score": round(self.score, 4), "label": self.label}


# Swedish inflectional endings, longest first, with what replaces them to give the form the word
# list has: nouns and adjectives lose theirs ("kampen" → "kamp", "nöjda" → "nöjd"), verbs get
# their infinitive's "a" back ("förbättrade" → "förbättra"). Derivational endings (-ig, -het,
# -lig) are not here: "fattig" is not "fatta".
_ENDINGS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("arnas", ("",)), ("ernas", ("",)), ("ornas", ("",)),
    ("ades", ("a",)), ("ande", ("a",)), ("ende", ("",)), ("arna", ("",)), ("erna", ("",)),
    ("orna", ("",)), ("aste", ("",)),
    ("ade", ("a",)), ("ats", ("a",)), ("are", ("",)), ("ast", ("",)), ("ens", ("",)),
    ("ets", ("",)),
    ("ar", ("", "a")), ("at", ("a",)), ("as", ("a", "")), ("ad", ("a",)), ("en", ("",)),
    ("et", ("",)), ("na", ("",)), ("er", ("",)), ("or", ("",)), ("es", ("",)), ("ts", ("",)),
    ("a", ("",)), ("e", ("",)), ("t", ("",)), ("n", ("",)), ("s", ("",)),
)
_MIN_BASE = 3


@dataclass(frozen=True, slots=True)
class _Lexicon:
    words: dict[str, float]
    phrases: dict[tuple[str, ...], float]
    longest_phrase: int


@cache
def _lexicon() -> _Lexicon:
    """The word list, read once: folded entries, duplicates averaged, phrases apart."""
    scores: dict[str, list[int]] = defaultdict(list)
    text = resources.files("monitor").joinpath("data", LEXICON_FILE).read_text("utf-8")
    for line in text.splitlines():
        entry, _, value = line.rpartition("\t")
        key = fold_term(entry)
        if key and key not in NOT_SENTIMENT:
            scores[key].append(int(value))
    mean = {key: sum(values) / len(values) for key, values in scores.items()}
    words = {key: value for key, value in mean.items() if " " not in key}
    phrases = {tuple(key.split()): value for key, value in mean.items() if " " in key}
    return _Lexicon(words, phrases, max(map(len, phrases), default=1))


@cache
def _snowball() -> tuple[snowballstemmer.stemmer, dict[str, float]]:
    """Snowball's Swedish stemmer and the word list's words by stem (for `Rules.inflections`
    "snowball", kept to compare: it joins "fatta" with "fattigare", "nytt" with "nytta")."""
    stemmer = snowballstemmer.stemmer("swedish")
    by_stem: dict[str, list[float]] = defaultdict(list)
    for word, value in _lexicon().words.items():
        by_stem[stemmer.stemWord(word)].append(value)
    return stemmer, {stem: sum(values) / len(values) for stem, values in by_stem.items()}


def _inflected(words: dict[str, float], word: str) -> float | None:
    """The score of ``word`` as an inflection of a word of the list, or None."""
    for ending, replacements in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= _MIN_BASE:
            base = word[: -len(ending)]
            for replacement in replacements:
                found = words.get(base + replacement)
                if found is not None:
                    return found
    return None


@lru_cache(maxsize=1 << 16)
def _word_score(word: str, inflections: str) -> float | None:
    """The score of one word (cached: news repeats its words, and an unknown word tries every
    ending)."""
    words = _lexicon().words
    found = words.get(word)
    if found is not None or inflections == "off":
        return found
    if inflections == "snowball":
        stemmer, by_stem = _snowball()
        return by_stem.get(stemmer.stemWord(word))
    return _inflected(words, word)


def _clauses(text: str) -> list[list[str]]:
    """The folded words of ``text``, in clauses split at punctuation (negation stops there)."""
    clauses: list[list[str]] = [[]]
    for match in _TOKEN_RE.finditer(normalize_mapped(text).text):
        if match.lastgroup == "word":
            clauses[-1].append(match.group())
        elif clauses[-1]:
            clauses.append([])
    return [clause for clause in clauses if clause]


def _clause_scores(lexicon: _Lexicon, clause: list[str], rules: Rules) -> list[float]:
    """The scores of the sentiment words of one clause, after negation."""
    found: list[tuple[int, float]] = []  # (position, score)
    negations: list[int] = []
    i = 0
    while i < len(clause):
        width = 1
        value = None
        for n in range(min(lexicon.longest_phrase, len(clause) - i), 1, -1):
            value = lexicon.phrases.get(tuple(clause[i:i + n]))
            if value is not None:
                width = n
                break
        if value is None and rules.negation and clause[i] in NEGATORS:
            negations.append(i)
        elif value is None:
            value = _word_score(clause[i], rules.inflections)
        if value:
            found.append((i, value))
        i += width
    negated: set[int] = set()
    for at in negations:
        for after in range(at + 1, min(at + 1 + rules.negation_scope, len(clause))):
            if clause[after] in SCOPE_ENDS:
                break
            negated.add(after)
        if rules.look_back:
            negated.add(at - 1)
    return [value * rules.negation_factor if at in negated else value for at, value in found]


def score(text: str, rules: Rules = RULES) -> Sentiment:
    """The tone of ``text`` (any length; empty text is neutral with score 0)."""
    lexicon = _lexicon()
    clauses = _clauses(text)
    words = sum(map(len, clauses))
    values = [value for clause in clauses for value in _clause_scores(lexicon, clause, rules)]
    mean = sum(values) / words if words else 0.0
    label: Label = (
        "positive" if mean > rules.positive_from
        else "negative" if mean < rules.negative_below
        else "neutral"
    )
    return Sentiment(
        mean, label, words, sum(value > 0 for value in values), sum(value < 0 for value in values)
    )

"""The parliamentary parties, the ways Swedish news names them, and when a letter is a party.

Every mention records which parties it names (share of voice). A party is named by

- its name and inflected forms, in any case: "Vänsterpartiet", "vänsterpartiets",
  "vänsterpartisten", "sossarna", "Sverigedemokraternas"… (`Party.forms`, "*" ends a prefix);
- a few forms counted only with a capital first letter, because in lower case they are
  ordinary words: "Centern" (but not "centern", a centre);
- MP, KD and SD written in capitals: unambiguous enough in Swedish news ("SD-kort", a memory
  card, excepted);
- a single capital letter V, S, C, L or M only in a party context (the rule below).

Deliberately not counted: "liberal", "liberala", "liberaler" (the adjective and the general
noun: the party is "Liberalerna", formerly "Folkpartiet"), "moderat", "moderata" (moderate;
the party is "Moderaterna", a member "moderaten", members "moderater"), "vänstern" (the left in
general), lower-case "mp", "kd", "sd".

The party-context rule for a single letter V, S, C, L or M. The letter must stand alone as a
word, written in capitals, and
1. be a party label in brackets that hold only party codes: "(V)", "(S/V)", "(M, KD)"; or
2. be a genitive: "V:s", "M:s"; or
3. begin a compound whose second part is a political word (`POLITICAL_WORDS`, by prefix):
   "V-politiker", "S-ledaren", "M-styrda", "C-kvinnorna" (not "C-uppsats", "S-märkt",
   "M-klass", "L-form"); or
4. stand within three words (at most two words between them) of another party mention that
   counts: a name or form above, a capital MP/KD/SD, or a letter counted by rules 1–4:
   "M och KD", "S, V och MP", "Vänsterpartiet och S", in the same sentence (no . ! ? or line
   break between them). Letters count in a chain from such an
   anchor ("KD, L, C och M": all four), but never on their own: "storlek S, M och L" names
   no party.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import NamedTuple

__all__ = ["PARTIES", "POLITICAL_WORDS", "Party", "PartyHit", "forms", "named_parties"]

# Kinds of form
NAME = "name"  # any case
CAPITALISED = "capitalised"  # first letter in capitals
ABBREVIATION = "abbreviation"  # MP, KD, SD: all capitals
LETTER = "letter"  # V, S, C, L, M: capitals and a party context

NEAR_WORDS = 3  # rule 4: at most this many words apart (NEAR/3)


@dataclass(frozen=True)
class Party:
    code: str
    name: str
    forms: tuple[str, ...]
    capitalised: tuple[str, ...] = ()


PARTIES: tuple[Party, ...] = (
    Party("V", "Vänsterpartiet",
          ("vänsterpartiet", "vänsterpartiets", "vänsterpartist*")),
    Party("S", "Socialdemokraterna",
          ("socialdemokrat*", "sossar*", "sosse*")),
    Party("MP", "Miljöpartiet",
          ("miljöpartiet", "miljöpartiets", "miljöpartist*")),
    Party("C", "Centerpartiet",
          ("centerpartiet", "centerpartiets", "centerpartist*"),
          capitalised=("Centern", "Centerns")),
    Party("L", "Liberalerna",
          ("liberalerna", "liberalernas", "folkpartiet", "folkpartiets", "folkpartist*")),
    Party("KD", "Kristdemokraterna", ("kristdemokrat*",)),
    Party("M", "Moderaterna",
          ("moderaterna", "moderaternas", "moderater", "moderaters", "moderaten",
           "moderatens")),
    Party("SD", "Sverigedemokraterna", ("sverigedemokrat*",)),
)
CODES = tuple(p.code for p in PARTIES)
LETTERS = frozenset(c for c in CODES if len(c) == 1)

# Rule 3: a letter, a hyphen or dash, then a word starting with one of these.
POLITICAL_WORDS = (
    "ledar", "ledning", "gruppledar", "politik", "topp", "regering", "riksdag", "kommun",
    "region", "råd", "oppositionsråd", "kandidat", "väljar", "företrädar", "ledamot", "ledamöt",
    "styr", "kvinn", "ungdom", "distrikt", "förening", "avdelning", "sympatis", "profil",
    "fäste", "kongress", "partistyrels", "minister", "ordförande", "talesperson", "majoritet",
    "budget", "förslag", "motion", "valsedel", "lista", "röst", "medlem", "ansluten", "anslutna",
    "håll", "block", "sida",
)
_EXCLUDED_AFTER = {"SD": ("-kort", " kort", "-minneskort")}

_CODE_RE = "(?:" + "|".join(sorted(CODES, key=len, reverse=True)) + ")"
_BRACKETS = re.compile(r"\(\s*" + _CODE_RE + r"(?:\s*(?:[/,+&]|och)\s*" + _CODE_RE + r")*\s*\)")
_WORD = re.compile(r"[^\W_]+")
_SENTENCE_END = re.compile(r"[.!?\n]")
_DASHES = "-\u2010\u2011\u2012\u2013\u2014"


def forms() -> list[tuple[str, str, str]]:
    """(code, kind, form) for every way a party is written; forms are as written in a query
    (a trailing "*" makes a prefix)."""
    out: list[tuple[str, str, str]] = []
    for party in PARTIES:
        out.extend((party.code, NAME, f) for f in party.forms)
        out.extend((party.code, CAPITALISED, f) for f in party.capitalised)
        out.append((party.code, LETTER if party.code in LETTERS else ABBREVIATION, party.code))
    return out


class PartyHit(NamedTuple):
    """A place where a party form was found: ``start``/``end`` in the original text, ``at``
    and ``until`` in the matcher's folded text (for counting words between hits)."""

    code: str
    kind: str
    start: int
    end: int
    at: int
    until: int


def _written_right(hit: PartyHit, text: str) -> bool:
    written = text[hit.start:hit.end]
    if hit.kind == NAME:
        return True
    if hit.kind == CAPITALISED:
        return written[:1].isupper()
    if written != hit.code:
        return False
    after = text[hit.end:hit.end + 16].lower()
    return not any(after.startswith(x) for x in _EXCLUDED_AFTER.get(hit.code, ()))


def _marked(hit: PartyHit, text: str, brackets: list[tuple[int, int]]) -> bool:
    """Rules 1–3 for a single letter."""
    if any(s < hit.start and hit.end < e for s, e in brackets):
        return True
    end = hit.end
    if text.startswith(":s", end) and (end + 2 == len(text) or not text[end + 2].isalnum()):
        return True
    if end < len(text) and text[end] in _DASHES:
        m = _WORD.match(text, end + 1)
        return bool(m) and m.group().lower().startswith(POLITICAL_WORDS)
    return False


def named_parties(hits: Iterable[PartyHit], text: str, words_between: Callable[[int, int], int]
                  ) -> tuple[list[str], list[PartyHit]]:
    """The parties named in ``text`` (codes in PARTIES order) and the hits that count."""
    counted: list[PartyHit] = []
    letters: list[PartyHit] = []
    for hit in hits:
        if not _written_right(hit, text):
            continue
        (letters if hit.kind == LETTER else counted).append(hit)
    if letters:
        brackets = [m.span() for m in _BRACKETS.finditer(text)]
        pending = []
        for hit in letters:
            (counted if _marked(hit, text, brackets) else pending).append(hit)
        grew = True
        while pending and counted and grew:
            grew = False
            for hit in list(pending):
                if any(_near(hit, other, text, words_between) for other in counted):
                    counted.append(hit)
                    pending.remove(hit)
                    grew = True
    codes = {h.code for h in counted}
    return [c for c in CODES if c in codes], sorted(counted, key=lambda h: (h.start, h.end))


def _near(a: PartyHit, b: PartyHit, text: str, words_between: Callable[[int, int], int]
          ) -> bool:
    if b.until <= a.at:
        a, b = b, a
    elif a.until > b.at:
        return False
    return (words_between(a.until, b.at) < NEAR_WORDS
            and not _SENTENCE_END.search(text, a.end, b.start))

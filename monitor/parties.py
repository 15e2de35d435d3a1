"""The parliamentary parties, the ways Swedish news names them, and when a letter is a party.

Every mention records which parties it names (share of voice), so a party missed here is a
mention missing from the board's report. How well these rules do is measured against a
hand-labelled set of Swedish news passages (tests/monitor/test_party_detection.py); a rule
change must not lower those figures. A party is named by

- its name and inflected forms, in any case: "Vänsterpartiet", "vänsterpartiets",
  "vänsterpartisten", "sossarna", "Sverigedemokraternas", "liberalen"… (`Party.forms`, "*"
  ends a prefix);
- a compound of "moderat", "center" or "liberal" with a political word (`POLITICAL_WORDS`):
  "moderatledaren", "Centerledaren", "centerhåll", "liberalpolitikern" (`Party.compounds`);
- a few forms counted only with a capital first letter, because in lower case they are
  ordinary words: "Centern" (but not "centern", a centre; nor "Centern Viktor Andersson", a
  hockey centre named before his name);
- MP, KD and SD written in capitals ("SD-kort", a memory card, excepted), or in lower case
  only as a label in brackets after a name: "Gunnar Olsson (mp)";
- a single capital letter V, S, C, L or M only in a party context (the rules below).

Deliberately not counted: "liberal", "liberala", "liberaler" (the adjective and the general
noun: the party is "Liberalerna", formerly "Folkpartiet", a member "liberalen"), "moderat",
"moderata" (moderate; the party is "Moderaterna", a member "moderaten", members "moderater"),
"vänstern" (the left in general), lower-case "mp", "kd", "sd" outside a name's brackets.

The party-context rules for a single letter V, S, C, L or M. The letter must stand alone as a
word, written in capitals (in lower case only in brackets after a name, rule 1), and is a party
when it

1. is a party label in brackets that hold only party codes: "(V)", "(S/V)", "(M, KD)"; in lower
   case only right after a name (two capitalised words), the older style: "Bengt Andersson (s)"
   (not "vän(s)", "(c)");
2. is a genitive: "V:s", "M:s";
3. begins a compound whose second part is a political word (`POLITICAL_WORDS`, by prefix):
   "V-politiker", "S-ledaren", "M-styrda", "C-ledda", "C-kvinnorna". A compound with any other
   word is never a party, whatever stands near it: "C-vitamin", "V-ringad", "S-märkt",
   "L-formad", "M-klass" (but "S-MP-styret" is a list, rule 5);
4. follows a name with a comma, as an apposition: "Per-Erik Nilsson, S, ordförande…",
   "…säger Anna Svensson, V." (the letter then ends the apposition: , . ; ) or the line);
5. begins a line as a headline's speaker: "M: Sälj kommunens andel";
6. stands in a list of party codes (joined by a comma, "/", "+", "&", "-", "och", "eller" or
   "samt") that is more than sizes: one with V, C, MP, KD or SD in it ("företrädare för V, S, C
   och M"); a list only of S, M and L counts by rules 7 and 9;
7. is the subject of what parties do, alone or as a list: followed by one of `PARTY_VERBS`:
   "V kräver…", "S och M överens om…", "medan L backar";
8. stands within three words (at most two words between them; numbers do not count, so a poll's
   "S 34,5 procent, M 18,2" is a list) of another party mention that counts: a name or form
   above, a capital MP/KD/SD, or a letter counted by rules 1–9: "M och KD", "Vänsterpartiet
   och S", in the same sentence (no . ! ? or line break between them);
9. stands in a list of letters (as in rule 6) in a sentence that names a party by a mention that
   counts: "M och KD vill sänka skatten, medan S och V vill…".

Letters count in a chain from such an anchor ("KD, L, C och M": all four). Otherwise a letter
is no party: "storlek S, M och L", "Kapitel V", "vrider till S", nor "Gustav V" (a V right after
a regent's name, `REGENTS`, is a number: "Gustav V:s besök").

Known limits, seen in the labelled set: a list only of S, M and L with neither a party nor a
verb after it ("S, M och L i Storfors har kommit överens"), a letter after its verb ("styr S
tillsammans med C") or far from the party its sentence names ("Folkpartiet styrde Karlstad under
1990-talet tillsammans med M") is missed; sizes in a sentence that names a party are counted
(rule 9). An initial after a name ("Lars Ek, M. Berg") reads as an apposition (rule 4).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

__all__ = ["PARTIES", "PARTY_VERBS", "POLITICAL_WORDS", "REGENTS", "Party", "PartyHit", "forms",
           "named_parties"]

# Kinds of form
NAME = "name"  # any case
CAPITALISED = "capitalised"  # first letter in capitals
ABBREVIATION = "abbreviation"  # MP, KD, SD: all capitals
LETTER = "letter"  # V, S, C, L, M: capitals and a party context

NEAR_WORDS = 3  # rule 8: at most this many words apart (NEAR/3)


@dataclass(frozen=True)
class Party:
    code: str
    name: str
    forms: tuple[str, ...]
    capitalised: tuple[str, ...] = ()
    # Stems that name the party in a compound with a political word: "moderat" + "ledaren".
    compounds: tuple[str, ...] = ()


PARTIES: tuple[Party, ...] = (
    Party("V", "Vänsterpartiet",
          ("vänsterpartiet", "vänsterpartiets", "vänsterpartist*")),
    Party("S", "Socialdemokraterna",
          ("socialdemokrat*", "sossar*", "sosse*")),
    Party("MP", "Miljöpartiet",
          ("miljöpartiet", "miljöpartiets", "miljöpartist*")),
    Party("C", "Centerpartiet",
          ("centerpartiet", "centerpartiets", "centerpartist*"),
          capitalised=("Centern", "Centerns"), compounds=("center",)),
    Party("L", "Liberalerna",
          ("liberalerna", "liberalernas", "liberalen", "liberalens", "folkpartiet",
           "folkpartiets", "folkpartist*"),
          compounds=("liberal",)),
    Party("KD", "Kristdemokraterna", ("kristdemokrat*",)),
    Party("M", "Moderaterna",
          ("moderaterna", "moderaternas", "moderater", "moderaters", "moderaten",
           "moderatens"),
          compounds=("moderat",)),
    Party("SD", "Sverigedemokraterna", ("sverigedemokrat*",)),
)
CODES = tuple(p.code for p in PARTIES)
LETTERS = frozenset(c for c in CODES if len(c) == 1)
SIZES = frozenset("SML")  # letters that are also clothing sizes (rule 6)

# Rule 3 (and `Party.compounds`): a letter, a hyphen or dash, then a word starting with one of
# these.
POLITICAL_WORDS = (
    "ledar", "ledning", "ledd", "gruppledar", "politik", "topp", "regering", "riksdag", "kommun",
    "region", "råd", "oppositionsråd", "kandidat", "väljar", "företrädar", "ledamot", "ledamöt",
    "styr", "kvinn", "ungdom", "distrikt", "förening", "avdelning", "sympatis", "profil",
    "fäste", "kongress", "partistyrels", "minister", "ordförande", "talesperson", "majoritet",
    "budget", "förslag", "motion", "valsedel", "lista", "röst", "medlem", "ansluten", "anslutna",
    "håll", "block", "sida",
)
# Rule 7: what a party does in a news sentence, right after its letter: "V kräver", "L backar".
# Only verbs that a clothing size, a vitamin or a compass point does not do ("vitamin C ökar").
PARTY_VERBS = frozenset((
    "vill", "kräver", "föreslår", "säger", "anser", "tycker", "menar", "lovar", "röstar",
    "röstade", "reserverar", "reserverade", "kritiserar", "backar", "tappar", "styr", "stöder",
    "stödjer", "välkomnar", "sågar", "yrkar", "motionerar", "överens", "eniga",
))
# A V right after one of these is a regnal number, not the party: "Gustav V:s besök".
REGENTS = frozenset((
    "Gustav", "Gustaf", "Karl", "Carl", "Oscar", "Oskar", "Fredrik", "Kristian", "Christian",
    "Henrik", "Georg", "Edvard", "Edward", "Pius", "Erik", "Johan", "Ludvig", "Haakon",
))
_EXCLUDED_AFTER = {"SD": ("-kort", " kort", "-minneskort")}
_NOT_BEFORE_A_NAME = frozenset({"centern"})  # "Centern Viktor Andersson": hockey's centre

_CODE_RE = "(?:" + "|".join(sorted(CODES, key=len, reverse=True)) + ")"
_BRACKETS = re.compile(r"\(\s*" + _CODE_RE + r"(?:\s*(?:[/,+&]|och)\s*" + _CODE_RE + r")*\s*\)",
                       re.IGNORECASE)
_CODE_WORD = re.compile(r"\b" + _CODE_RE + r"\b", re.IGNORECASE)
_WORD = re.compile(r"[^\W_]+")
_SENTENCE_END = re.compile(r"[.!?\n]")
_DASHES = "-\u2010\u2011\u2012\u2013\u2014"
# Two words before a bracket (rule 1) or before ", " (rule 4), to tell a name.
_NAME_BEFORE_BRACKET = re.compile(r"(?<![\w-])([^\W\d_][\w-]+)\s+([^\W\d_][\w-]+)\s+$")
_NAME_BEFORE_COMMA = re.compile(r"(?<![\w-])([^\W\d_][\w-]+)\s+([^\W\d_][\w-]+),[ \t\u00a0]*$")
_APPOSITION_END = frozenset(",.;)\n")
_HEADLINE_COLON = re.compile(r":[ \t\u00a0]+[^\W\d_]")
_NEXT_WORD = re.compile(r"[ \t\u00a0]+([^\W\d_][\w-]*)")
_WORD_BEFORE = re.compile(r"([^\W\d_]+)[ \t\u00a0]+$")
# What joins the codes of a list (rules 6 and 9): "S, V och MP", "S/V", "S-MP-styret".
_LIST_JOIN = re.compile(r"\s*(?:[,/+&" + _DASHES + r"]\s*(?:(?:och|eller|samt)\s+)?"
                        r"|(?:och|eller|samt)\s+)")
_LOOK_BACK = 80  # characters searched before a letter for a name


def forms() -> list[tuple[str, str, str]]:
    """(code, kind, form) for every way a party is written; forms are as written in a query
    (a trailing "*" makes a prefix)."""
    out: list[tuple[str, str, str]] = []
    for party in PARTIES:
        out.extend((party.code, NAME, f) for f in party.forms)
        out.extend((party.code, NAME, stem + word + "*")
                   for stem in party.compounds for word in POLITICAL_WORDS)
        out.extend((party.code, CAPITALISED, f) for f in party.capitalised)
        out.append((party.code, LETTER if party.code in LETTERS else ABBREVIATION, party.code))
    return out


class PartyHit(NamedTuple):
    """A place where a party form was found: ``start``/``end`` in the original text."""

    code: str
    kind: str
    start: int
    end: int


def _is_name(*words: str) -> bool:
    """Capitalised words of two letters or more, as a person's names are: "Per-Erik Nilsson"
    (not "XS", nor "I")."""
    return all(len(w) > 1 and w.istitle() for w in words)


def _name_before(pattern: re.Pattern[str], text: str, at: int) -> bool:
    m = pattern.search(text, max(0, at - _LOOK_BACK), at)
    return bool(m) and _is_name(m.group(1), m.group(2))


class _Article:
    """The text, with the bracket labels that count (rule 1) found once, when first asked."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._brackets: list[tuple[int, int]] | None = None

    def in_brackets(self, hit: PartyHit) -> bool:
        if self._brackets is None:
            self._brackets = [m.span() for m in _BRACKETS.finditer(self.text)
                              if self._label(m)]
        return any(s < hit.start and hit.end < e for s, e in self._brackets)

    def _label(self, m: re.Match[str]) -> bool:
        """Codes in capitals, or after a name: "Bengt Andersson (s)", not "vän(s)"."""
        if all(c.isupper() for c in _CODE_WORD.findall(m.group())):
            return True
        return _name_before(_NAME_BEFORE_BRACKET, self.text, m.start())


def _written_right(hit: PartyHit, article: _Article) -> bool:
    text = article.text
    written = text[hit.start:hit.end]
    if hit.kind == NAME:
        return True
    if hit.kind == CAPITALISED:
        if not written[:1].isupper():
            return False
        if written.lower() in _NOT_BEFORE_A_NAME:
            m = _NEXT_WORD.match(text, hit.end)
            return not (m and _is_name(m.group(1)))
        return True
    if written != hit.code:  # lower case: only in a bracket (most are "m/s", "V:s" and such)
        return (written.upper() == hit.code and text.rfind("(", max(0, hit.start - 24),
                                                           hit.start) >= 0
                and article.in_brackets(hit))
    after = text[hit.end:hit.end + 16].lower()
    return not any(after.startswith(x) for x in _EXCLUDED_AFTER.get(hit.code, ()))


def _letter_alone(hit: PartyHit, article: _Article) -> bool | None:
    """Rules 1–5 for a single letter: True, a party; False, never one (a compound with a word
    that is not political, a regnal number); None, the company it keeps decides (rules 6–9)."""
    text = article.text
    start, end = hit.start, hit.end
    if hit.code == "V":
        m = _WORD_BEFORE.search(text, max(0, start - 16), start)
        if m and m.group(1) in REGENTS:
            return False
    if article.in_brackets(hit):
        return True
    if text.startswith(":s", end) and (end + 2 == len(text) or not text[end + 2].isalnum()):
        return True
    if end < len(text) and text[end] in _DASHES:
        m = _WORD.match(text, end + 1)
        if m is None or m.group() in CODES:
            return None  # "S- och V-politiker", "S-MP-styret"
        return m.group().lower().startswith(POLITICAL_WORDS)
    if ((end == len(text) or text[end] in _APPOSITION_END)
            and _name_before(_NAME_BEFORE_COMMA, text, start)):
        return True
    line_start = text.rfind("\n", 0, start) + 1
    if not text[line_start:start].strip() and _HEADLINE_COLON.match(text, end):
        return True
    return None


def _lists(hits: list[PartyHit], text: str) -> list[list[PartyHit]]:
    """The codes (letters and abbreviations) in ``hits``, grouped into lists: "S, V och MP"."""
    out: list[list[PartyHit]] = []
    for hit in hits:
        if hit.kind not in (LETTER, ABBREVIATION):
            continue
        if out and _LIST_JOIN.fullmatch(text, out[-1][-1].end, hit.start):
            out[-1].append(hit)
        else:
            out.append([hit])
    return out


def _sentence(text: str, at: int) -> tuple[int, int]:
    start = max(text.rfind(c, 0, at) for c in ".!?\n") + 1
    m = _SENTENCE_END.search(text, at)
    return start, m.start() if m else len(text)


def named_parties(hits: Iterable[PartyHit], text: str) -> tuple[list[str], list[PartyHit]]:
    """The parties named in ``text`` (codes in PARTIES order) and the hits that count."""
    article = _Article(text)
    counted: list[PartyHit] = []
    pending: list[PartyHit] = []
    for hit in sorted(hits, key=lambda h: (h.start, h.end)):
        if not _written_right(hit, article):
            continue
        if hit.kind != LETTER:
            counted.append(hit)
        elif (alone := _letter_alone(hit, article)) is None:
            pending.append(hit)
        elif alone:
            counted.append(hit)
    if pending:
        _in_company(counted, pending, text)
    codes = {h.code for h in counted}
    return [c for c in CODES if c in codes], sorted(counted, key=lambda h: (h.start, h.end))


def _in_company(counted: list[PartyHit], pending: list[PartyHit], text: str) -> None:
    """Rules 6–9: move the letters from ``pending`` that count into ``counted``."""
    lists = _lists(sorted([*counted, *pending], key=lambda h: h.start), text)
    waiting = set(pending)

    def take(hits: Iterable[PartyHit]) -> bool:
        taken = [h for h in hits if h in waiting]
        counted.extend(taken)
        waiting.difference_update(taken)
        return bool(taken)

    for codes in lists:
        after = _NEXT_WORD.match(text, codes[-1].end)
        if ((len(codes) > 1 and any(h.code not in SIZES for h in codes))  # rule 6
                or (after and after.group(1) in PARTY_VERBS)):  # rule 7
            take(codes)
    grew = True
    while waiting and counted and grew:
        grew = take([h for h in sorted(waiting, key=lambda h: h.start)
                     if any(_near(h, other, text) for other in counted)])  # rule 8
        for codes in lists:  # rule 9
            if len(codes) > 1 and not waiting.isdisjoint(codes):
                start, end = _sentence(text, codes[0].start)
                if any(start <= h.start < end for h in counted if h not in codes):
                    grew = take(codes) or grew


def _near(a: PartyHit, b: PartyHit, text: str) -> bool:
    """At most NEAR_WORDS - 1 words (numbers not counted) between them, in one sentence."""
    if b.start < a.start:
        a, b = b, a
    if a.end > b.start:
        return False
    if _SENTENCE_END.search(text, a.end, b.start):
        return False
    words = 0
    for m in _WORD.finditer(text, a.end, b.start):
        if not m.group().isdigit():
            words += 1
            if words >= NEAR_WORDS:
                return False
    return True

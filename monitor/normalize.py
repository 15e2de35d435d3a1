"""Text normalisation for matching Swedish text, with offsets back to the original.

What counts as the same letter, the Swedish way:

- Unicode NFC first, so "å" written as a + combining ring is the letter å.
- Lower case (``str.lower``; not ``casefold``, which would turn ß into ss and move offsets).
- å, ä, ö and ü are letters of their own: "får" is not "far", "Åmål" is not "Amal".
- Other Latin diacritics are folded to the base letter: é→e ("idé" = "ide", "Linnéa" =
  "Linnea"), ç→c, ñ→n, ł→l …; æ and ø are folded to ä and ö, as Swedish collation treats them.
- Soft hyphens and invisible joiners (U+00AD, U+200C, U+200D, U+2060, U+FEFF) are removed, so
  "kollektiv\\u00adtrafik" is "kollektivtrafik".

Words are runs of letters and digits (``str.isalnum``: å ä ö are word characters, ``_`` is not).
Everything else separates words.

Two entry points:

- `normalize(text)` for comparing and storing: the folding above, every kind of white space
  (NBSP, thin space, line breaks …) as one space, curly quotes as straight ones, dashes as "-".
- `normalize_mapped(text)` for matching: the same folding, one character for every kept
  character of the original (white space and punctuation may be replaced by others of their
  kind: they only separate words), with `Normalized.to_original` to turn a span back into the
  original text's offsets, so a hit can be highlighted where it was written. ``flat`` (see
  `flatten`) has every non-word character as a space and one space at each end, which lets the
  Aho-Corasick automaton find whole words (" buss ") and word starts (" buss") directly.

Cost: text that fits Latin-1 after replacing typographic punctuation (” – … ’ NBSP) and the
Latin letters folded anyway (č, ł …) — nearly all Swedish news — is folded and flattened with
two ``bytes.translate`` tables: a few microseconds for 3 KB. Other text (Greek, Cyrillic,
decomposed letters, soft hyphens) takes the general path: NFC check, ``lower``, regular
expressions, and for non-NFC text a loop over the characters.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from bisect import bisect_right

__all__ = ["Normalized", "flatten", "fold_term", "normalize", "normalize_mapped"]

KEPT_LETTERS = frozenset("åäöü")
_EXTRA_FOLDS = {"æ": "ä", "ø": "ö", "ł": "l", "đ": "d", "ð": "d", "ı": "i", "ħ": "h"}
_DELETED = "\u00ad\u200c\u200d\u2060\ufeff"


def _build_fold_table() -> dict[str, str]:
    table = dict(_EXTRA_FOLDS)
    ranges = (range(0x00C0, 0x0250), range(0x1E00, 0x1F00))  # Latin-1, Extended A/B, Additional
    for cp in (cp for r in ranges for cp in r):
        ch = chr(cp)
        if ch != ch.lower() or ch in KEPT_LETTERS or ch in table:
            continue  # upper case never survives lower(); kept letters stay
        base = unicodedata.normalize("NFD", ch)[0]
        if base != ch and base.isascii() and base.isalpha():
            table[ch] = base
    return table


_FOLD = _build_fold_table()
_FOLD_RE = re.compile("[" + "".join(re.escape(c) for c in sorted(_FOLD)) + "]")
_DELETED_RE = re.compile("[" + _DELETED + "]")


def _nonword_class(ranges: tuple[tuple[int, int], ...]) -> str:
    """A regex character class of the non-word characters (except the space) in ``ranges``."""
    parts: list[str] = []
    for lo, hi in ranges:
        run_start = None
        for cp in range(lo, hi + 2):
            nonword = cp <= hi and cp != 0x20 and not chr(cp).isalnum()
            if nonword and run_start is None:
                run_start = cp
            elif not nonword and run_start is not None:
                a, b = re.escape(chr(run_start)), re.escape(chr(cp - 1))
                parts.append(a if run_start == cp - 1 else f"{a}-{b}")
                run_start = None
    return "[" + "".join(parts) + "]"


# Text made only of characters in these ranges (Latin scripts and general punctuation: nearly all
# Swedish news) is flattened with an explicit class, several times faster than [^\w ].
_FAST_RANGES = ((0x0000, 0x024F), (0x2000, 0x206F))
_OUTSIDE_FAST = re.compile("[^" + "".join(f"{re.escape(chr(lo))}-{re.escape(chr(hi))}"
                                          for lo, hi in _FAST_RANGES) + "]")
_NONWORD_FAST = re.compile(_nonword_class(_FAST_RANGES))
_NONWORD_ANY = re.compile(r"[^\w ]|_")
_WHITE = re.compile(r"\s+")
_PUNCT = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2033": '"', "\u2039": "'", "\u203a": "'",
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-",
    "\u2212": "-", "\u200b": " ", "\u2026": ".",
})


class _NotLatin(Exception):
    """Raised by the encoding error handler: the text needs the careful path."""


def _latin1_replacements() -> dict[str, str]:
    """For the fast path: characters outside Latin-1 that fold to one Latin-1 letter, or that
    are white space or punctuation (kept as such: only word characters matter for matching, and
    whether a separator is white space, for phrases)."""
    table: dict[str, str] = {}
    ranges = (range(0x0100, 0x0250), range(0x1E00, 0x1F00), range(0x2000, 0x2070),
              range(0x20A0, 0x20C0), range(0x2100, 0x2200), range(0x2200, 0x2300))
    for cp in (cp for r in ranges for cp in r):
        ch = chr(cp)
        low = ch.lower()
        if ch in _DELETED or len(low) != 1 or unicodedata.combining(ch):
            continue
        if low.isalnum():
            folded = _FOLD.get(low)
            if folded is not None and ord(folded) < 256:
                table[ch] = folded
        elif ch.isspace():
            table[ch] = " "
        else:  # punctuation stays punctuation (not white space: that matters for phrases)
            folded = ch.translate(_PUNCT)
            ok = folded.isascii() and not folded.isalnum() and not folded.isspace()
            table[ch] = folded if ok else "\u00a6"
    return table


_LATIN1 = _latin1_replacements()


def _latin1_handler(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    try:
        return "".join(_LATIN1[c] for c in exc.object[exc.start:exc.end]), exc.end
    except KeyError:
        raise _NotLatin from None


codecs.register_error("megafon-latin1", _latin1_handler)
# The most common typographic characters in Swedish news, replaced before encoding (str.replace
# is much cheaper than a call of the error handler).
_COMMON = tuple((c, _LATIN1[c]) for c in "\u2013\u201d\u2019\u201c\u2014\u2026\u2018\u201e")


def _latin1(text: str) -> bytes | None:
    """``text`` as Latin-1 bytes with `_LATIN1` replacements, or None if it does not fit."""
    if not text.isascii():
        for c, r in _COMMON:
            if c in text:
                text = text.replace(c, r)
    try:
        return text.encode("latin-1", "megafon-latin1")
    except _NotLatin:
        return None
# Latin-1 bytes: lower case and folded; then word characters kept and the rest as spaces.
_LOW_BYTES = bytes(ord(_FOLD.get(chr(b).lower(), chr(b).lower())) for b in range(256))
_FLAT_BYTES = bytes(b if chr(b).isalnum() else 0x20 for b in range(256))


class Normalized:
    """Folded text (``text``), the flat text for the automaton (``flat``), and the way back to
    the original's offsets (`to_original`)."""

    __slots__ = ("text", "original", "_flat", "_deleted_keys", "_starts", "_ends")

    def __init__(self, text: str, original: str, flat: str | None = None,
                 deleted_keys: list[int] | None = None, starts: list[int] | None = None,
                 ends: list[int] | None = None) -> None:
        self.text = text
        self.original = original
        self._flat = flat
        # Fast path: None (one character each). Deletions only: sorted "kept characters before
        # deletion k" keys. General (NFC composition, lower() expansion): per-character arrays.
        self._deleted_keys = deleted_keys
        self._starts = starts
        self._ends = ends

    @property
    def flat(self) -> str:
        """`flatten` (text): ``flat[i + 1]`` is ``text[i]`` or a space."""
        if self._flat is None:
            self._flat = flatten(self.text)
        return self._flat

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original text that produced ``text[start:end]`` (end > start)."""
        if self._starts is not None and self._ends is not None:
            return self._starts[start], self._ends[end - 1]
        keys = self._deleted_keys
        if keys is None:
            return start, end
        return start + bisect_right(keys, start), end + bisect_right(keys, end - 1)


def _fold_lowered(low: str) -> str:
    if _FOLD_RE.search(low):
        low = _FOLD_RE.sub(lambda m: _FOLD[m.group()], low)
    return low


def normalize_mapped(text: str) -> Normalized:
    """Fold ``text`` for matching, keeping the way back to its offsets (see the module doc)."""
    raw = _latin1(text)
    if raw is not None and 0xAD not in raw:  # Latin-1 text is NFC; a soft hyphen is deleted
        low = raw.translate(_LOW_BYTES)
        return Normalized(low.decode("latin-1"), text,
                          " " + low.translate(_FLAT_BYTES).decode("latin-1") + " ")
    return _normalize_general(text)


def _normalize_general(text: str) -> Normalized:
    if unicodedata.is_normalized("NFC", text):
        deleted = [m.start() for m in _DELETED_RE.finditer(text)]
        kept = _DELETED_RE.sub("", text) if deleted else text
        low = kept.lower()
        if len(low) == len(kept):
            keys = [d - k for k, d in enumerate(deleted)] if deleted else None
            return Normalized(_fold_lowered(low), text, None, keys)
    return _normalize_slow(text)


def _normalize_slow(text: str) -> Normalized:
    """Character by character: NFC per cluster (a base and its combining marks), lower case,
    combining marks that did not compose removed, each output character mapped to its cluster."""
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    n = len(text)
    i = 0
    while i < n:
        j = i + 1
        while j < n and unicodedata.combining(text[j]):
            j += 1
        piece = unicodedata.normalize("NFC", text[i:j]).lower()
        for ch in piece:
            if ch in _DELETED or unicodedata.combining(ch):
                continue
            out.append(_FOLD.get(ch, ch))
            starts.append(i)
            ends.append(j)
        i = j
    return Normalized("".join(out), text, None, None, starts, ends)


def flatten(low: str) -> str:
    """Every non-word character of folded text as a space, and one space at each end.

    ``flatten(t)[i + 1]`` corresponds to ``t[i]``: the same length plus two.
    """
    raw = _latin1(low)
    if raw is not None:
        return " " + raw.translate(_FLAT_BYTES).decode("latin-1") + " "
    pattern = _NONWORD_ANY if _OUTSIDE_FAST.search(low) else _NONWORD_FAST
    return " " + pattern.sub(" ", low) + " "


def fold_term(raw: str) -> str:
    """A word as the automaton sees it: folded, non-word characters as single spaces, trimmed.

    "E-hälsa" → "e hälsa" (it then matches "e-hälsa", "e/hälsa" and "e hälsa").
    """
    return flatten(normalize_mapped(raw).text).strip(" ")


def normalize(text: str) -> str:
    """Folded text for comparing and storing: white space runs as one space, trimmed; curly
    quotes straight, dashes as "-", other punctuation as written."""
    folded = _normalize_general(text).text.translate(_PUNCT)
    return _WHITE.sub(" ", folded).strip()


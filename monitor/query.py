"""The watchlist query language: what the comms team writes to find an issue in the news.

    kollektivtrafik* AND (Värmland OR Karlstad) NOT "Region Örebro"
    "vården i Arvika" OR (vårdcentral* NEAR/5 Arvika)
    vänsterparti* -skolval

- ``buss`` a bare word matches that whole word only ("buss", not "bussar" or "busskort");
  case and accents do not matter, but å, ä and ö are letters of their own (monitor.normalize).
- ``buss*`` a prefix: "buss", "bussar", "busskortet"… At least 3 letters before the ``*``.
- ``"kollektivtrafik i Värmland"`` a phrase: its words in this order with only white space
  (any amount: spaces, line breaks), brackets or quotation marks between them, so
  ``"Anna Svensson (V)"`` finds "Anna Svensson (V)" and "Anna Svensson V", but a comma, full
  stop or dash breaks a phrase. Words in a phrase may be prefixes too.
- Punctuation inside a word is kept as one separator: ``e-hälsa`` finds "e-hälsa", "e/hälsa"
  and "e hälsa".
- ``a b`` or ``a AND b`` both; ``a OR b`` either; ``NOT a`` or ``-a`` the article must not
  contain a. ``a NOT b`` is a AND NOT b.
- ``a NEAR/n b`` a and b at most n words apart, in either order: NEAR/1 means next to each
  other, NEAR/5 allows up to four words between. Each side is a word, a prefix, a phrase or a
  bracketed OR of those: ``(buss* OR tåg*) NEAR/5 Karlstad``.
- Brackets group. Without them, NEAR binds tightest, then NOT, then AND, then OR:
  ``a OR b c`` is ``a OR (b AND c)``.
- Operators are written in capitals (AND OR NOT NEAR), so the Swedish "och", "eller", "inte"
  and an English "and" are just words.

A query must look for something: one that would match an article containing none of its words
(``NOT buss``, ``buss OR NOT tåg``) is refused. The matcher relies on this: it evaluates a
query only for articles in which at least one of its words was found.

`parse` raises `QueryError` with the 0-based character offset of the problem (``position``)
and a reason in words; ``str(error)`` reads "position 5: NEAR needs a number, e.g. NEAR/5".
"""

from __future__ import annotations

import re
import threading
import weakref
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.i18n import N_, UserError
from monitor.normalize import fold_term

__all__ = ["Query", "QueryError", "Term", "parse", "WORD", "PREFIX", "PHRASE"]

WORD = "word"
PREFIX = "prefix"
PHRASE = "phrase"
MIN_PREFIX_LETTERS = 3
MAX_NEAR = 1000
MAX_DEPTH = 50
MAX_LENGTH = 10_000

Span = tuple[int, int]
Hits = Mapping["Term", Sequence[Span]]
WordsBetween = Callable[[int, int], int]

_QUOTES = "\"\u201c\u201d\u201e"
_SPECIAL = "()" + _QUOTES
_NEAR = re.compile(r"NEAR/(\d+)")
_NEARISH = re.compile(r"(?i)near(/.*)?")


class QueryError(UserError):
    """A malformed query: where (0-based character offset) and why."""

    def __init__(self, position: int, reason: str, **params: object) -> None:
        super().__init__(reason, field="query", **params)
        self.position = position
        self.reason = reason % params if params else reason

    def __str__(self) -> str:
        return f"position {self.position}: {self.reason}"


class Term:
    """A word, a prefix or a phrase, folded (monitor.normalize.fold_term).

    ``words`` holds one entry for a word or prefix, several for a phrase; an entry ending in
    "*" is a prefix. An entry may hold single spaces where the written word had punctuation
    ("e-hälsa" → "e hälsa"). ``text`` is the term as shown: buss, buss*, "i värmland".

    Terms are interned: ``Term(kind, words)`` returns the one object for that kind and words, so
    equality is identity and hashing is the C-level object hash (terms are dictionary keys on
    the matcher's hot path).
    """

    __slots__ = ("kind", "words", "text", "__weakref__")
    _interned: weakref.WeakValueDictionary[tuple[str, tuple[str, ...]], Term] = (
        weakref.WeakValueDictionary())
    _lock = threading.Lock()

    kind: str
    words: tuple[str, ...]
    text: str

    def __new__(cls, kind: str, words: Sequence[str]) -> Term:
        key = (kind, tuple(words))
        with cls._lock:
            term = cls._interned.get(key)
            if term is None:
                term = object.__new__(cls)
                object.__setattr__(term, "kind", kind)
                object.__setattr__(term, "words", key[1])
                object.__setattr__(term, "text", '"' + " ".join(key[1]) + '"'
                                   if kind == PHRASE else key[1][0])
                cls._interned[key] = term
        return term

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("a Term is immutable")

    def __reduce__(self) -> tuple[type[Term], tuple[str, tuple[str, ...]]]:
        return Term, (self.kind, self.words)

    def __repr__(self) -> str:
        return f"Term({self.kind!r}, {self.words!r})"

    @classmethod
    def of(cls, words: Sequence[str]) -> Term:
        """The term for written words: a phrase if several, a prefix if one ending in "*"."""
        words = tuple(words)
        if len(words) > 1:
            return cls(PHRASE, words)
        return cls(PREFIX if words[0].endswith("*") else WORD, words)


# --- Syntax tree --------------------------------------------------------------------------------


class Node:
    """A node of the parsed query. ``evaluate`` takes ``found``: a mapping whose keys are exactly
    the terms found (each with a non-empty list of spans).

    ``source`` writes the same test as a Python expression over ``f`` (found) and ``wb`` (words
    between), with the constants it needs appended to ``consts`` and named ``c0``, ``c1``…:
    `Query` compiles it into one function, which the matcher calls for every candidate
    watchlist of every article (several times faster than walking the tree).
    """

    def evaluate(self, found: Hits, words_between: WordsBetween | None) -> bool:
        raise NotImplementedError

    def source(self, consts: list[object]) -> str:
        raise NotImplementedError

    def describe(self, parent: int) -> str:
        raise NotImplementedError

    def collect(self, into: set[Term]) -> None:
        raise NotImplementedError


@dataclass
class TermNode(Node):
    term: Term

    def evaluate(self, found: Hits, words_between: WordsBetween | None) -> bool:
        return self.term in found

    def source(self, consts: list[object]) -> str:
        return f"({_const(consts, self.term)} in f)"

    def describe(self, parent: int) -> str:
        return self.term.text

    def collect(self, into: set[Term]) -> None:
        into.add(self.term)


def _const(consts: list[object], value: object) -> str:
    consts.append(value)
    return f"c{len(consts) - 1}"


def _split(children: list[Node]) -> tuple[frozenset[Term], tuple[Node, ...]]:
    terms = frozenset(c.term for c in children if isinstance(c, TermNode))
    return terms, tuple(c for c in children if not isinstance(c, TermNode))


@dataclass
class Or(Node):
    children: list[Node]

    def __post_init__(self) -> None:
        self._terms, self._others = _split(self.children)

    def evaluate(self, found: Hits, words_between: WordsBetween | None) -> bool:
        if not found.keys().isdisjoint(self._terms):  # C-level, over the smaller side
            return True
        return any(c.evaluate(found, words_between) for c in self._others)

    def source(self, consts: list[object]) -> str:
        parts = [f"(not f.keys().isdisjoint({_const(consts, self._terms)}))"] if self._terms else []
        parts.extend(c.source(consts) for c in self._others)
        return "(" + " or ".join(parts) + ")"

    def describe(self, parent: int) -> str:
        text = " OR ".join(c.describe(1) for c in self.children)
        return f"({text})" if parent > 0 else text

    def collect(self, into: set[Term]) -> None:
        for c in self.children:
            c.collect(into)


@dataclass
class And(Node):
    children: list[Node]

    def __post_init__(self) -> None:
        self._terms, self._others = _split(self.children)

    def evaluate(self, found: Hits, words_between: WordsBetween | None) -> bool:
        if not found.keys() >= self._terms:
            return False
        return all(c.evaluate(found, words_between) for c in self._others)

    def source(self, consts: list[object]) -> str:
        parts = [f"(f.keys() >= {_const(consts, self._terms)})"] if self._terms else []
        parts.extend(c.source(consts) for c in self._others)
        return "(" + " and ".join(parts) + ")"

    def describe(self, parent: int) -> str:
        text = " AND ".join(c.describe(2) for c in self.children)
        return f"({text})" if parent > 0 else text

    def collect(self, into: set[Term]) -> None:
        for c in self.children:
            c.collect(into)


@dataclass
class Not(Node):
    child: Node

    def evaluate(self, found: Hits, words_between: WordsBetween | None) -> bool:
        return not self.child.evaluate(found, words_between)

    def source(self, consts: list[object]) -> str:
        return f"(not {self.child.source(consts)})"

    def describe(self, parent: int) -> str:
        return "NOT " + self.child.describe(3)

    def collect(self, into: set[Term]) -> None:
        self.child.collect(into)


def _gap(a: Span, b: Span, words_between: WordsBetween | None) -> int:
    """Words strictly between two spans, a before b."""
    return words_between(a[1], b[0]) if words_between else b[0] - a[1]


@dataclass
class Near(Node):
    left: Node
    right: Node
    distance: int
    left_terms: tuple[Term, ...] = ()
    right_terms: tuple[Term, ...] = ()

    def __post_init__(self) -> None:
        left: set[Term] = set()
        right: set[Term] = set()
        self.left.collect(left)
        self.right.collect(right)
        self.left_terms = tuple(sorted(left, key=lambda t: t.text))
        self.right_terms = tuple(sorted(right, key=lambda t: t.text))

    def evaluate(self, found: Hits, words_between: WordsBetween | None) -> bool:
        lefts = [s for t in self.left_terms if t in found for s in found[t]]
        if not lefts:
            return False
        rights = [s for t in self.right_terms if t in found for s in found[t]]
        if not rights:
            return False
        # For each left span only the nearest right span on either side can be nearest in words.
        by_start = sorted(rights)
        starts = [s for s, _ in by_start]
        by_end = sorted(rights, key=lambda s: s[1])
        ends = [e for _, e in by_end]
        most_between = self.distance - 1
        for a in lefts:
            i = bisect_left(starts, a[1])
            if i < len(by_start) and _gap(a, by_start[i], words_between) <= most_between:
                return True
            j = bisect_right(ends, a[0]) - 1
            if j >= 0 and _gap(by_end[j], a, words_between) <= most_between:
                return True
        return False

    def source(self, consts: list[object]) -> str:
        return f"{_const(consts, self.evaluate)}(f, wb)"

    def describe(self, parent: int) -> str:
        return f"{self.left.describe(4)} NEAR/{self.distance} {self.right.describe(4)}"

    def collect(self, into: set[Term]) -> None:
        self.left.collect(into)
        self.right.collect(into)


# --- The query ----------------------------------------------------------------------------------


@dataclass
class Query:
    """A parsed query: its terms, and whether a set of hits satisfies it."""

    source: str
    root: Node
    terms: frozenset[Term]
    positional: bool  # uses NEAR: evaluate needs word distances
    # Terms that match the query on their own (the root is the term, or an OR of it and more).
    sufficient: frozenset[Term] = frozenset()
    _compiled: Callable[[Hits, WordsBetween | None], bool] | None = field(
        default=None, init=False, repr=False, compare=False)

    def evaluate(self, hits: Hits, words_between: WordsBetween | None = None) -> bool:
        """True if the article with these hits matches.

        ``hits`` maps each term found to its spans (start, end), in any order; a term not found
        is absent or maps to an empty list. ``words_between(end, start)`` counts the words between
        two spans (NEAR); without it spans are taken to be word positions, so (3, 4) is the fourth
        word and (3, 4), (6, 7) have two words between them.
        """
        if not all(hits.values()):
            hits = {t: s for t, s in hits.items() if s}
        return self.evaluate_found(hits, words_between)

    def evaluate_found(self, found: Hits, words_between: WordsBetween | None = None) -> bool:
        """`evaluate` for a mapping that holds only terms found (no empty span lists)."""
        if self._compiled is None:
            object.__setattr__(self, "_compiled", _compile(self.root))
        return self._compiled(found, words_between)

    def describe(self) -> str:
        """The query as it is read, with every implicit AND and bracket written out."""
        return self.root.describe(0)


def _compile(root: Node) -> Callable[[Hits, WordsBetween | None], bool]:
    """The node's `Node.source` as a function of (found, words_between). The generated code
    holds only operators and the names c0, c1…: no text from the query."""
    consts: list[object] = []
    expression = root.source(consts)
    names = [f"c{i}" for i in range(len(consts))]
    code = f"def bind({', '.join(names)}):\n    return lambda f, wb: bool({expression})\n"
    namespace: dict[str, Any] = {}
    exec(code, namespace)  # generated from the syntax tree only, see above
    return namespace["bind"](*consts)


# --- Parsing ------------------------------------------------------------------------------------


@dataclass
class _Token:
    kind: str  # ( ) TERM AND OR NOT NEAR
    pos: int
    term: Term | None = None
    distance: int = 0


def _term(raw: str, pos: int) -> Term:
    return Term.of([_word(raw, pos)])


def _word(raw: str, pos: int) -> str:
    """One written word as a folded term word (prefixes keep their trailing "*")."""
    star = raw.find("*")
    if star != -1:
        if star != len(raw) - 1:
            raise QueryError(pos + star, N_("a * can only end a word, e.g. vänsterparti*"))
        folded = fold_term(raw[:-1])
        if sum(c.isalnum() for c in folded) < MIN_PREFIX_LETTERS:
            raise QueryError(pos, N_("a * needs at least %(count)d letters before it"),
                             count=MIN_PREFIX_LETTERS)
        return folded + "*"
    folded = fold_term(raw)
    if not folded:
        raise QueryError(pos, N_("“%(word)s” has no letters or digits to look for"), word=raw)
    return folded


def _phrase(content: str, pos: int) -> Term:
    words: list[str] = []
    for m in re.finditer(r"\S+", content):
        words.append(_word(m.group(), pos + 1 + m.start()))
    if not words:
        raise QueryError(pos, N_("the quotes hold no words"))
    return Term.of(words)


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    n = len(text)
    i = 0
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c in "()":
            tokens.append(_Token(c, i))
            i += 1
        elif c in _QUOTES:
            close = min((k for k in (text.find(q, i + 1) for q in _QUOTES) if k != -1),
                        default=-1)
            if close == -1:
                raise QueryError(i, N_("this quote is never closed"))
            tokens.append(_Token("TERM", i, term=_phrase(text[i + 1:close], i)))
            i = close + 1
        elif c == "-" and i + 1 < n and not text[i + 1].isspace() and text[i + 1] not in ")-":
            tokens.append(_Token("NOT", i))
            i += 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in _SPECIAL:
                j += 1
            tokens.append(_classify(text[i:j], i))
            i = j
    return tokens


def _classify(word: str, pos: int) -> _Token:
    if word in ("AND", "OR", "NOT"):
        return _Token(word, pos)
    if m := _NEAR.fullmatch(word):
        distance = int(m.group(1))
        if not 1 <= distance <= MAX_NEAR:
            raise QueryError(pos, N_("NEAR needs a number from 1 to %(most)d, e.g. NEAR/5"),
                             most=MAX_NEAR)
        return _Token("NEAR", pos, distance=distance)
    if word == "NEAR" or word.startswith("NEAR/"):
        raise QueryError(pos, N_("NEAR needs a number, e.g. NEAR/5"))
    if _NEARISH.fullmatch(word) and "/" in word:
        raise QueryError(pos, N_("write NEAR in capitals, e.g. NEAR/5"))
    return _Token("TERM", pos, term=_term(word, pos))


_STOPS = (")", "AND", "OR", "NEAR")  # tokens that cannot begin an operand
_NEAR_STOPS = (*_STOPS, "NOT")  # NEAR takes words, phrases and OR-groups only


class _Parser:
    def __init__(self, text: str, tokens: list[_Token]) -> None:
        self.text = text
        self.tokens = tokens
        self.i = 0
        self.depth = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def _needs_operand_after(self, op: _Token) -> None:
        nxt = self.peek()
        stops = _NEAR_STOPS if op.kind == "NEAR" else _STOPS
        if nxt is None or nxt.kind in stops:
            raise QueryError(op.pos, N_("%(op)s needs a word or phrase after it"),
                             op=_op_name(op))

    def parse(self) -> Node:
        if not self.tokens:
            raise QueryError(0, N_("the query is empty"))
        node = self.parse_or()
        if (extra := self.peek()) is not None:  # only a ")" can stop parse_or early
            raise QueryError(extra.pos, N_("this bracket closes nothing"))
        return node

    def parse_or(self) -> Node:
        children = [self.parse_and()]
        while (tok := self.peek()) is not None and tok.kind == "OR":
            self.take()
            self._needs_operand_after(tok)
            children.append(self.parse_and())
        return children[0] if len(children) == 1 else Or(children)

    def parse_and(self) -> Node:
        children = [self.parse_not()]
        while (tok := self.peek()) is not None and tok.kind not in ("OR", ")"):
            if tok.kind == "AND":
                self.take()
                self._needs_operand_after(tok)
            children.append(self.parse_not())
        return children[0] if len(children) == 1 else And(children)

    def parse_not(self) -> Node:
        tok = self.peek()
        if tok is not None and tok.kind == "NOT":
            self.take()
            self._needs_operand_after(tok)
            self._enter(tok)
            child = self.parse_not()
            self.depth -= 1
            return Not(child)
        return self.parse_near()

    def parse_near(self) -> Node:
        left_tok = self.peek()
        left = self.parse_primary()
        tok = self.peek()
        if tok is None or tok.kind != "NEAR":
            return left
        self.take()
        self._needs_operand_after(tok)
        right_tok = self.peek()
        right = self.parse_primary()
        for side, where in ((left, left_tok), (right, right_tok)):
            if not _positional(side):
                raise QueryError(where.pos if where else tok.pos, N_(
                    "NEAR works on words, phrases and bracketed OR-groups of them"))
        if (again := self.peek()) is not None and again.kind == "NEAR":
            raise QueryError(again.pos, N_("one NEAR at a time: join NEARs with AND"))
        return Near(left, right, tok.distance)

    def parse_primary(self) -> Node:
        tok = self.peek()
        if tok is None:
            raise QueryError(len(self.text), N_("the query ends too early"))
        self.take()
        if tok.kind == "TERM":
            assert tok.term is not None
            return TermNode(tok.term)
        if tok.kind == "(":
            nxt = self.peek()
            if nxt is not None and nxt.kind == ")":
                raise QueryError(tok.pos, N_("the brackets are empty"))
            self._enter(tok)
            node = self.parse_or()
            self.depth -= 1
            close = self.peek()
            if close is None or close.kind != ")":
                raise QueryError(tok.pos, N_("this bracket is never closed"))
            self.take()
            return node
        if tok.kind == ")":
            raise QueryError(tok.pos, N_("this bracket closes nothing"))
        raise QueryError(tok.pos, N_("%(op)s needs a word or phrase before it"),
                         op=_op_name(tok))

    def _enter(self, tok: _Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise QueryError(tok.pos, N_("too deeply nested"))


def _op_name(tok: _Token) -> str:
    return f"NEAR/{tok.distance}" if tok.kind == "NEAR" else tok.kind


def _positional(node: Node) -> bool:
    if isinstance(node, TermNode):
        return True
    return isinstance(node, Or) and all(_positional(c) for c in node.children)


def parse(text: str) -> Query:
    """Parse a query (see the module doc); raises QueryError."""
    if len(text) > MAX_LENGTH:
        raise QueryError(MAX_LENGTH, N_("the query is longer than %(most)d characters"),
                         most=MAX_LENGTH)
    root = _Parser(text, _tokenize(text)).parse()
    terms: set[Term] = set()
    root.collect(terms)
    if root.evaluate({}, None):  # the tree and the compiled form agree (tests/monitor)
        raise QueryError(0, N_("the query only excludes words; add a word to look for, "
                               "e.g. buss NOT tåg"))
    if isinstance(root, TermNode):
        sufficient = frozenset((root.term,))
    elif isinstance(root, Or):
        sufficient = root._terms
    else:
        sufficient = frozenset()
    return Query(text, root, frozenset(terms), _has_near(root), sufficient)


def _has_near(node: Node) -> bool:
    if isinstance(node, Near):
        return True
    if isinstance(node, And | Or):
        return any(_has_near(c) for c in node.children)
    if isinstance(node, Not):
        return _has_near(node.child)
    return False

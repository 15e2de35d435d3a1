"""Full-text search of mentions in Swedish: "vårdcentralen" finds "vårdcentral".

The search box takes the watchlists' query language (monitor.query): words, ``prefix*``,
``"a phrase"``, AND, OR, NOT / ``-word`` and brackets; NEAR is for watchlists only. A bare word
matches every inflection of it (Snowball's Swedish stemmer, the one PostgreSQL's ``swedish``
configuration uses), a prefix matches every word that begins so, a phrase its words in order.

Each database does the matching with its own full-text index, so a search never reads the
mentions it does not return:

- **PostgreSQL**: ``mentions.search_vector``, a stored generated column
  ``to_tsvector('swedish', …)`` of the title and text with accents folded as `fold_term` folds
  them (é → e, ø → ö; å, ä, ö kept), under a GIN index; the query becomes a ``tsquery``.
- **SQLite**: the FTS5 table ``mention_text`` (rowid = the mention's id) holds two columns
  written here at ingest: ``stems`` (each word folded and stemmed, for words and phrases) and
  ``words`` (folded, not stemmed, for prefixes); the query becomes an FTS5 MATCH expression.
  A trigger drops a mention's row when the mention is deleted.

Ranking ("most relevant first") is ts_rank_cd on PostgreSQL and bm25 on SQLite.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import snowballstemmer
from sqlalchemy import ColumnElement, Select, column, func, literal_column, select, table, text
from sqlalchemy.engine import Connection
from sqlalchemy.types import Float

from core.i18n import N_
from monitor.normalize import fold_term
from monitor.query import (
    PHRASE,
    PREFIX,
    And,
    Node,
    Not,
    Or,
    Query,
    QueryError,
    Term,
    TermNode,
    parse,
)

__all__ = ["Search", "QueryError", "parse_search", "stems", "write_row", "spans"]

CONFIG = "swedish"
FTS_TABLE = "mention_text"
MAX_QUERY_LENGTH = 200


@lru_cache(maxsize=1)
def _stemmer() -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer(CONFIG)


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """One folded word's stem (Snowball Swedish)."""
    return _stemmer().stemWord(word)


def folded_words(raw: str) -> list[str]:
    """The words of `raw` as the search sees them: folded (monitor.normalize.fold_term)."""
    return fold_term(raw).split()


def folded_text(raw: str) -> str:
    """`raw` folded, punctuation as spaces: what the FTS5 ``words`` column holds."""
    return fold_term(raw)


def stems(raw: str) -> str:
    """The stemmed words of `raw`, space-separated: what the FTS5 ``stems`` column holds."""
    return " ".join(stem(word) for word in folded_words(raw))


@dataclass(frozen=True)
class Search:
    """A parsed search: the query, and what to highlight (stems of words and phrases, prefixes).
    Build it with `parse_search`."""

    query: Query
    stems: frozenset[str]
    prefixes: tuple[str, ...]

    def postgres_tsquery(self) -> str:
        """The query as ``to_tsquery('swedish', …)`` text (lexemes quoted, stemmed by it)."""
        return _tsquery(self.query.root)

    def fts5_match(self) -> str:
        """The query as an FTS5 MATCH expression over ``stems`` and ``words``."""
        return _fts5(self.query.root)


def parse_search(raw: str) -> Search:
    """Parse what was typed in the search box; `QueryError` (position and reason) if it cannot
    be a search: malformed, looking only for what must not be there, or using NEAR."""
    raw = raw.replace("\x00", " ")
    if len(raw) > MAX_QUERY_LENGTH:
        raise QueryError(MAX_QUERY_LENGTH, N_("a search can be at most %(most)d characters"),
                         most=MAX_QUERY_LENGTH)
    query = parse(raw)
    if query.positional:
        raise QueryError(max(raw.find("NEAR"), 0),
                         N_("NEAR works in watchlists; in the search use a phrase in quotes "
                            "or AND"))
    _check_positive(query.root)
    word_stems: set[str] = set()
    prefixes: set[str] = set()
    for term in _wanted_terms(query.root):
        for word in term.words:
            if word.endswith("*"):
                prefixes.add(word[:-1])
                continue
            parts = word.split()
            # Inside a phrase, little words ("i", "på") would light up every line: marked only
            # when searched for on their own.
            word_stems.update(stem(part) for part in parts
                              if term.kind != PHRASE or len(part) > 2)
    return Search(query, frozenset(word_stems), tuple(sorted(prefixes)))


def _wanted_terms(node: Node) -> list[Term]:
    """The terms looked for (not those left out with NOT): what the reader sees marked."""
    if isinstance(node, TermNode):
        return [node.term]
    if isinstance(node, Not):
        return []
    children = node.children if isinstance(node, (And, Or)) else []
    return [term for child in children for term in _wanted_terms(child)]


def _check_positive(node: Node) -> None:
    """FTS5's NOT is binary (a NOT b): every AND needs a part that is looked for, and an OR
    cannot hold a NOT. The parser already refuses a query that would match an article holding
    none of its words; this refuses the few nested shapes that slip through."""
    if isinstance(node, And):
        if all(isinstance(child, Not) for child in node.children):
            raise QueryError(0, N_("a search must look for at least one word, not only "
                                   "leave words out"))
        for child in node.children:
            _check_positive(child.child if isinstance(child, Not) else child)
    elif isinstance(node, Or):
        for child in node.children:
            if isinstance(child, Not):
                raise QueryError(0, N_("OR cannot join a NOT in the search; leave words out "
                                       "with NOT after what you look for"))
            _check_positive(child)
    elif isinstance(node, Not):
        raise QueryError(0, N_("a search must look for at least one word, not only "
                               "leave words out"))


# --- PostgreSQL: to_tsquery text -------------------------------------------------------------


def _lexeme(word: str) -> str:
    """One folded word as a quoted tsquery lexeme ('…', or '…':* for a prefix)."""
    prefix = word.endswith("*")
    word = word.rstrip("*").replace("\\", "\\\\").replace("'", "''")
    return f"'{word}'" + (":*" if prefix else "")


def _tsquery(node: Node) -> str:
    if isinstance(node, TermNode):
        parts = [_lexeme(part + ("*" if word.endswith("*") and i == len(word.split()) - 1
                                 else ""))
                 for word in node.term.words
                 for i, part in enumerate(word.rstrip("*").split())]
        return "(" + " <-> ".join(parts) + ")"
    if isinstance(node, And):
        return "(" + " & ".join(_tsquery(child) for child in node.children) + ")"
    if isinstance(node, Or):
        return "(" + " | ".join(_tsquery(child) for child in node.children) + ")"
    if isinstance(node, Not):
        return "!" + _tsquery(node.child)
    raise QueryError(0, N_("NEAR works in watchlists; in the search use a phrase in quotes "
                           "or AND"))


# --- SQLite: FTS5 MATCH ----------------------------------------------------------------------


def _fts5_term(node: TermNode) -> str:
    """A word or phrase on the ``stems`` column; with a prefix in it, on ``words``."""
    words = node.term.words
    if node.term.kind == PREFIX or (node.term.kind == PHRASE
                                    and any(w.endswith("*") for w in words)):
        pieces = []
        for word in words:
            parts = word.rstrip("*").split()
            star = " *" if word.endswith("*") else ""
            pieces.append('"' + " ".join(parts) + '"' + star)
        return "(words : " + " + ".join(pieces) + ")"
    parts = [stem(part) for word in words for part in word.split()]
    return '(stems : "' + " ".join(parts) + '")'


def _fts5(node: Node) -> str:
    if isinstance(node, TermNode):
        return _fts5_term(node)
    if isinstance(node, And):
        wanted = [_fts5(c) for c in node.children if not isinstance(c, Not)]
        unwanted = [_fts5(c.child) for c in node.children if isinstance(c, Not)]
        expression = "(" + " AND ".join(wanted) + ")"
        if unwanted:
            expression = "(" + expression + " NOT (" + " OR ".join(unwanted) + "))"
        return expression
    if isinstance(node, Or):
        return "(" + " OR ".join(_fts5(child) for child in node.children) + ")"
    raise QueryError(0, N_("a search must look for at least one word, not only leave "
                           "words out"))


# --- The condition and the rank, per database ------------------------------------------------

# mentions.search_vector: PostgreSQL only, kept by the database, never read into Python (so it
# is not mapped on the model).
SEARCH_VECTOR = literal_column("mentions.search_vector")


def _tsquery_of(search: Search) -> ColumnElement[object]:
    return func.to_tsquery(literal_column(f"'{CONFIG}'"), search.postgres_tsquery())


def _fts5_matches(search: Search) -> Select[tuple[int, float]]:
    """SQLite: the ids of the matching mentions and their score (-bm25, higher is better)."""
    fts = table(FTS_TABLE, column("rowid"))
    return (select(fts.c.rowid.label("mention_id"),
                   (-func.bm25(literal_column(FTS_TABLE))).label("score"))
            .select_from(fts).where(literal_column(FTS_TABLE).op("MATCH")(search.fts5_match())))


def condition(search: Search, mention_id: ColumnElement[int], *, postgres: bool
              ) -> ColumnElement[bool]:
    """A WHERE clause: the mention with this id matches the search, read from the index
    (PostgreSQL: the GIN index on mentions.search_vector; SQLite: the FTS5 table)."""
    if postgres:
        return SEARCH_VECTOR.op("@@")(_tsquery_of(search))
    return mention_id.in_(_fts5_matches(search).with_only_columns(column("rowid")))


def ranked(query: Select[Any], search: Search, mention_id: ColumnElement[int], *,
           postgres: bool) -> tuple[Select[Any], ColumnElement[float]]:
    """`query` narrowed to the matching mentions, and the column to order by, best first."""
    if postgres:
        return (query.where(condition(search, mention_id, postgres=True)),
                func.ts_rank_cd(SEARCH_VECTOR, _tsquery_of(search), type_=Float))
    matches = _fts5_matches(search).subquery("fts")
    return query.join(matches, matches.c.mention_id == mention_id), matches.c.score


# --- Keeping the SQLite index in step --------------------------------------------------------


def write_row(connection: Connection, mention_id: int, title: str | None,
              body: str | None) -> None:
    """Write (or rewrite) a mention's row in the SQLite FTS5 table; PostgreSQL's generated
    column needs nothing. monitor.models calls this after every insert or change of a
    mention's title or text, in the same transaction, whoever wrote it."""
    if connection.dialect.name != "sqlite":
        return
    raw = f"{title or ''}\n{body or ''}"
    connection.execute(text(f"DELETE FROM {FTS_TABLE} WHERE rowid = :id"), {"id": mention_id})
    connection.execute(text(f"INSERT INTO {FTS_TABLE} (rowid, stems, words) "
                            "VALUES (:id, :stems, :words)"),
                       {"id": mention_id, "stems": stems(raw), "words": folded_text(raw)})


# --- Highlighting ----------------------------------------------------------------------------

_WORD = re.compile(r"\w+")


def spans(doc: str, search: Search) -> list[dict[str, int]]:
    """Where the search's words are in `doc`, as Mention.hits-like spans for monitor.highlight:
    each written word whose stem is one searched for, or that begins with a searched prefix."""
    found: list[dict[str, int]] = []
    if not search.stems and not search.prefixes:
        return found
    for match in _WORD.finditer(doc):
        folded, stemmed = _word_forms(match.group())
        if not folded:
            continue
        if not search.stems.isdisjoint(stemmed) or (
                search.prefixes and folded.startswith(search.prefixes)):
            found.append({"start": match.start(), "end": match.end()})
    return found


@lru_cache(maxsize=65536)
def _word_forms(word: str) -> tuple[str, tuple[str, ...]]:
    """A written word folded, and the stems of its parts (a page repeats its words)."""
    folded = fold_term(word)
    return folded, tuple(stem(part) for part in folded.split())


def searched_words(search: Search) -> Iterable[str]:
    """The stems and prefixes, for a reader's "you searched for" line."""
    return sorted(search.stems) + [p + "*" for p in search.prefixes]

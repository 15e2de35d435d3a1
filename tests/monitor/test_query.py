"""The watchlist query language on Swedish text: a table of query × text × expected match, the
parser's readings and its errors (with the position of the problem)."""

from __future__ import annotations

import random

import pytest

from monitor.matcher import Matcher
from monitor.normalize import (
    _FAST_RANGES,
    _NONWORD_ANY,
    _NONWORD_FAST,
    flatten,
    normalize,
    normalize_mapped,
)
from monitor.query import PHRASE, PREFIX, WORD, QueryError, Term, parse


def matches(query: str, text: str) -> bool:
    result = Matcher.build([(1, parse(query))], parties=False).match(text)
    return result.watchlist_ids == [1]


LINE = "Bussarna går inte till Karlstad"  # 3 words between "Bussarna" and "Karlstad"

TABLE = [
    # A bare word is a whole word, in any case; "*" makes a prefix (Swedish inflection).
    ("buss", "Bussen är sen i dag.", False),
    ("bussen", "BUSSEN är sen i dag.", True),
    ("buss", "En ny buss-linje i Karlstad", True),
    ("buss", "Busskortet och bussarna", False),
    ("buss*", "Bussarna i Karlstad", True),
    ("buss*", "Busskortet blir dyrare", True),
    ("buss*", "En omnibuss", False),
    ("vänsterparti*", "Vänsterpartiets förslag", True),
    ("vänsterparti*", "VÄNSTERPARTIET KRÄVER SVAR", True),
    ("vänsterparti*", "Vansterpartiet utan prickar", False),
    ("sjukhus*", "Centralsjukhuset i Karlstad", False),
    # å, ä and ö are letters of their own; other accents fold.
    ("får", "Hon far till Arvika.", False),
    ("far", "Hon får bidrag.", False),
    ("får", "Hon FÅR bidrag.", True),
    ("Åmål", "Kommunen Amal", False),
    ("Åmål", "I ÅMÅL i dag", True),
    ("Åmål", "I A\u030amål (skrivet med kombinerande ring)", True),
    ("Åmål*", "Åmåls kommun", True),
    ("Säffle", "Saffle", False),
    ("öl", "Ol och ÖL", True),
    ("idé", "En bra ide", True),
    ("Linnéa", "Linnea Ek talade", True),
    ("Müller", "Muller", False),
    # Phrases: words in sequence across any white space; brackets and quotes are fine too.
    ('"kollektivtrafik i Värmland"', "Kollektivtrafik i\nVärmland blir dyrare", True),
    ('"kollektivtrafik i Värmland"', "kollektivtrafik\u00a0i  \r\n Värmland", True),
    ('"kollektivtrafik i Värmland"', "kollektivtrafik, i Värmland", False),
    ('"kollektivtrafik i Värmland"', "kollektivtrafiken i Värmland", False),
    ('"kollektivtrafik* i Värmland"', "Kollektivtrafiken i Värmland", True),
    ('"kollektivtrafik i Värmland"', "Värmland i kollektivtrafik", False),
    ('"vården i Arvika"', "Vår\u00adden i Arvika", True),
    ('"vården i Arvika"', "Hon kritiserar vården. I Arvika väntar man", False),
    ('"i Värmland"', "Hon bor i\n\nVärmland", True),
    ('"Anna Svensson V"', "sa Anna Svensson (V) i fullmäktige", True),
    ('"Anna Svensson (V)"', "sa Anna Svensson V i fullmäktige", True),
    ("“vården i Arvika”", "vården i Arvika", True),
    ("e-hälsa", "Satsning på e-hälsa", True),
    ("e-hälsa", "Satsning på ehälsa", False),
    # AND (written or implicit), OR, NOT / -, brackets; OR binds loosest.
    ("buss Karlstad", "Bussen i Karlstad", False),
    ("buss* Karlstad", "Bussen i Karlstad", True),
    ("buss* Karlstad", "Bussen i Arvika", False),
    ("buss* AND Karlstad", "Karlstad: bussen är sen", True),
    ("buss* OR tåg*", "Tågen är sena", True),
    ("buss* NOT Arvika", "Bussar i Arvika", False),
    ("buss* NOT Arvika", "Bussar i Karlstad", True),
    ("buss* -Arvika", "Bussar i Arvika", False),
    ("buss* AND NOT (Arvika OR Kil)", "Bussar i Kil", False),
    ("(buss* OR tåg*) AND (Karlstad OR Arvika)", "Tåget till Arvika", True),
    ("(buss* OR tåg*) AND (Karlstad OR Arvika)", "Tåget till Säffle", False),
    ("buss* OR tåg* Arvika", "Bussar i Säffle", True),
    ("(buss* OR tåg*) Arvika", "Bussar i Säffle", False),
    ("vård och omsorg", "omsorg och vård", True),
    ("vård or omsorg", "vård", False),  # lower-case "or" is a word, not the operator
    # NEAR/n: at most n words apart (n - 1 words between), either order.
    ("buss* NEAR/3 Karlstad", LINE, False),
    ("buss* NEAR/4 Karlstad", LINE, True),
    ("Karlstad NEAR/4 buss*", LINE, True),
    ("buss* NEAR/4 Karlstad", "Karlstad har inga nya bussar", True),
    ("buss* NEAR/3 Karlstad", "Karlstad har inga nya bussar", False),
    ("Karlstad NEAR/1 buss*", "Karlstad bussar", True),
    ("Karlstad NEAR/1 buss*", "Karlstads nya bussar", False),
    ("buss* NEAR/2 Karlstad", "bussarna –\n\ni Karlstad", True),
    ('"kollektivtrafik i Värmland" NEAR/2 kris*', "Krisen för kollektivtrafik i Värmland", True),
    ("(buss* OR tåg*) NEAR/2 Arvika", "Tåget mot Arvika", True),
    ("(buss* OR tåg*) NEAR/2 Arvika", "Tåget går sedan mot Arvika", False),
    ("buss* NEAR/5 Karlstad NOT Arvika", "Bussar i Karlstad och Arvika", False),
    # A single letter in a query is just a word: the party-context rule is for Mention.parties.
    ("V", "Gustav V och Vänsterpartiet", True),
    ("V", "V-politikern talade", True),
    ("Vänsterpartiet OR V-politiker*", "V-politikern talade", True),
    ('"Vänsterpartiet V"', "Vänsterpartiet (V) vill", True),
    ("SD", "Sd och sd", True),  # queries ignore case; only the party detection does not
]


@pytest.mark.parametrize(("query", "text", "expected"), TABLE)
def test_query_table(query: str, text: str, expected: bool) -> None:
    assert matches(query, text) is expected


def test_the_table_is_large_enough() -> None:
    assert len(TABLE) >= 40


@pytest.mark.parametrize(("query", "reading"), [
    ("buss", "buss"),
    ("a b OR c", "(a AND b) OR c"),
    ("a OR b c", "a OR (b AND c)"),
    ("a NOT b", "a AND NOT b"),
    ("-a b", "NOT a AND b"),
    ("(a OR b) NEAR/5 c d", "(a OR b) NEAR/5 c AND d"),
    ("Vänsterparti* \"Region  Värmland\"", 'vänsterparti* AND "region värmland"'),
    ("NOT (a OR b) c", "NOT (a OR b) AND c"),
    ("vård och omsorg", "vård AND och AND omsorg"),
])
def test_how_a_query_is_read(query: str, reading: str) -> None:
    assert parse(query).describe() == reading


def test_terms_are_words_prefixes_and_phrases() -> None:
    query = parse('Buss* "Kollektivtrafik i Värmland" Karlstad -tåg')
    assert {(t.kind, t.words) for t in query.terms} == {
        (PREFIX, ("buss*",)), (PHRASE, ("kollektivtrafik", "i", "värmland")),
        (WORD, ("karlstad",)), (WORD, ("tåg",))}
    assert Term(WORD, ["karlstad"]) in query.terms  # terms are interned: equal is identical
    assert Term.of(["karlstad"]) is Term(WORD, ("karlstad",))


def test_evaluate_takes_hits_as_word_positions_without_a_text() -> None:
    query = parse("a NEAR/2 b NOT c")
    a, b, c = Term.of(["a"]), Term.of(["b"]), Term.of(["c"])
    assert query.evaluate({a: [(0, 1)], b: [(2, 3)]})  # one word between
    assert not query.evaluate({a: [(0, 1)], b: [(3, 4)]})
    assert query.evaluate({a: [(5, 6)], b: [(3, 4)], c: []})  # either order; empty = absent
    assert not query.evaluate({a: [(0, 1)], b: [(1, 2)], c: [(9, 10)]})


def test_the_compiled_query_agrees_with_the_syntax_tree() -> None:
    rng = random.Random(6)
    for query in dict.fromkeys(q for q, _, _ in TABLE):
        parsed = parse(query)
        terms = sorted(parsed.terms, key=lambda t: t.text)
        for _ in range(50):
            found = {t: [(p, p + 1) for p in rng.sample(range(12), rng.randint(1, 2))]
                     for t in terms if rng.random() < 0.6}
            assert parsed.evaluate(found) is parsed.root.evaluate(found, None), (query, found)


@pytest.mark.parametrize(("query", "position", "reason"), [
    ("", 0, "the query is empty"),
    ("buss NEAR tåg", 5, "NEAR needs a number, e.g. NEAR/5"),
    ("Kollektivtrafik NEAR/ tåg", 16, "NEAR needs a number, e.g. NEAR/5"),
    ("buss NEAR/0 tåg", 5, "NEAR needs a number from 1 to 1000, e.g. NEAR/5"),
    ("buss near/3 tåg", 5, "write NEAR in capitals, e.g. NEAR/5"),
    ("bu*", 0, "a * needs at least 3 letters before it"),
    ("tåg OR V*", 7, "a * needs at least 3 letters before it"),
    ("b*ss", 1, "a * can only end a word, e.g. vänsterparti*"),
    ("*buss", 0, "a * can only end a word, e.g. vänsterparti*"),
    ("(buss OR tåg", 0, "this bracket is never closed"),
    ("buss) tåg", 4, "this bracket closes nothing"),
    ("buss ()", 5, "the brackets are empty"),
    ('buss "kollektiv trafik', 5, "this quote is never closed"),
    ('buss ""', 5, "the quotes hold no words"),
    ("buss AND", 5, "AND needs a word or phrase after it"),
    ("buss AND OR tåg", 5, "AND needs a word or phrase after it"),
    ("OR buss", 0, "OR needs a word or phrase before it"),
    ("buss NOT", 5, "NOT needs a word or phrase after it"),
    ("NEAR/3 buss", 0, "NEAR/3 needs a word or phrase before it"),
    ("a NEAR/2 b NEAR/2 c", 11, "one NEAR at a time: join NEARs with AND"),
    ("(a b) NEAR/3 c", 0, "NEAR works on words, phrases and bracketed OR-groups of them"),
    ("a NEAR/3 NOT c", 2, "NEAR/3 needs a word or phrase after it"),
    ("NOT buss", 0, "the query only excludes words; add a word to look for, e.g. buss NOT tåg"),
    ("buss OR -tåg", 0,
     "the query only excludes words; add a word to look for, e.g. buss NOT tåg"),
    ("buss & tåg", 5, "“&” has no letters or digits to look for"),
    ("(" * 60 + "buss" + ")" * 60, 50, "too deeply nested"),
])
def test_malformed_queries_say_where_and_why(query: str, position: int, reason: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse(query)
    assert (caught.value.position, caught.value.reason) == (position, reason)
    assert str(caught.value) == f"position {position}: {reason}"
    assert caught.value.field == "query"


# --- Normalisation ------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("Åmål FÅR", "åmål får"),
    ("A\u030amål", "åmål"),  # NFC: a + combining ring is å
    ("kollektiv\u00adtrafik", "kollektivtrafik"),  # soft hyphen removed
    ("idé, Linnéa, Ærø, Łódź", "ide, linnea, ärö, lodz"),
    ("Müller och Öberg", "müller och öberg"),
    ("”Ja” – sa hon\u00a0i\n\nKarlstad…", '"ja" - sa hon i karlstad.'),
    ("  många   mellanslag  ", "många mellanslag"),
])
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


@pytest.mark.parametrize("text", [
    "Kollektivtrafiken i Värmland",  # Latin-1: the bytes path
    "”Kollektivtrafiken” – i Värmland…",  # typographic punctuation replaced, still bytes
    "Čapek och Kollektivtrafiken",  # a folded letter outside Latin-1
    "Αθήνα och Kollektivtrafiken",  # Greek: the general path
    "Kollektiv\u00adtrafiken och A\u030amål",  # deletions and composition: mapped offsets
    "İstanbul och Kollektivtrafiken",  # lower() would lengthen İ
])
def test_offsets_map_back_to_the_original(text: str) -> None:
    norm = normalize_mapped(text)
    at = norm.text.index("kollektivtrafiken")
    start, end = norm.to_original(at, at + len("kollektivtrafiken"))
    assert text[start:end].replace("\u00ad", "") == "Kollektivtrafiken"
    assert len(norm.flat) == len(norm.text) + 2
    assert norm.flat == flatten(norm.text)


def test_the_fast_word_class_agrees_with_the_general_one() -> None:
    sample = "".join(chr(c) for lo, hi in _FAST_RANGES for c in range(lo, hi + 1))
    assert _NONWORD_FAST.sub(" ", sample) == _NONWORD_ANY.sub(" ", sample)

"""The matcher: one pass over many watchlists, hits that point into the original text, the
parties named (with the context rules for single letters) and the people named."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from monitor.matcher import Matcher, MatcherCache
from monitor.parties import PARTIES, forms
from monitor.query import parse
from tests.monitor.test_query import TABLE


def build(queries: dict[int, str], people=(), parties: bool = True) -> Matcher:
    return Matcher.build([(wid, parse(q)) for wid, q in queries.items()], people, parties)


# --- Hits ---------------------------------------------------------------------------------------


def test_hits_point_into_the_original_text() -> None:
    text = ("Rubrik\r\n\r\nKollektiv\u00adtrafiken i\u00a0Värmland – ”A\u030amål” "
            "och BUSSARNA i Karlstad")
    result = build({1: 'kollektivtrafik* Åmål "bussarna i Karlstad"'}).match(text)
    assert result.watchlist_ids == [1]
    got = [(h.term, h.text, text[h.start:h.end]) for h in result.hits]
    assert got == [
        ("kollektivtrafik*", "Kollektiv\u00adtrafiken", "Kollektiv\u00adtrafiken"),
        ("åmål", "A\u030amål", "A\u030amål"),
        ('"bussarna i karlstad"', "BUSSARNA i Karlstad", "BUSSARNA i Karlstad"),
    ]
    assert result.hits[0].as_dict() == {"term": "kollektivtrafik*", "start": 10, "end": 28,
                                        "text": "Kollektiv\u00adtrafiken"}


def test_every_occurrence_is_a_hit_and_phrase_hits_do_not_overlap() -> None:
    text = "Buss, buss och bussar. Nej nej nej nej."
    result = build({1: 'buss* "nej nej"'}).match(text)
    assert [(h.term, h.start) for h in result.hits] == [
        ("buss*", 0), ("buss*", 6), ("buss*", 15), ('"nej nej"', 23), ('"nej nej"', 31)]


def test_many_watchlists_in_one_pass() -> None:
    matcher = build({
        1: "buss*",
        2: '"kollektivtrafik i Värmland"',
        3: "tåg* NOT Arvika",
        4: "skola",
        5: "(buss* OR tåg*) NEAR/2 Arvika",
    })
    text = "Bussar och tåg i Arvika.\nKollektivtrafik i\nVärmland."
    result = matcher.match(text)
    assert result.watchlist_ids == [1, 2, 5]
    assert result.matched
    assert {h.term for h in result.hits} == {"buss*", "tåg*", "arvika",
                                             '"kollektivtrafik i värmland"'}
    # A watchlist that did not match still shows what of it was found (for "test this query").
    assert [h.text for h in result.hits_for(3)] == ["tåg", "Arvika"]
    assert result.hits_for(4) == []
    assert matcher.match("Inget här.").watchlist_ids == []


def test_one_matcher_over_all_queries_agrees_with_one_matcher_per_query() -> None:
    queries = dict(enumerate(dict.fromkeys(q for q, _, _ in TABLE), start=1))
    texts = list(dict.fromkeys(t for _, t, _ in TABLE))
    together = build(queries, parties=False)
    alone = {wid: build({wid: q}, parties=False) for wid, q in queries.items()}
    for text in texts:
        expected = [wid for wid, m in alone.items() if m.match(text).watchlist_ids]
        assert together.match(text).watchlist_ids == expected, text


def test_a_matcher_without_watchlists_or_parties() -> None:
    result = Matcher.build([], parties=False).match("Vänsterpartiet")
    assert (result.watchlist_ids, result.hits, result.parties) == ([], [], [])


@pytest.mark.parametrize("text", ["", " ", "\n\n", "–", "\u00ad", "Αθήνα", "a\u0301"])
def test_texts_without_words(text: str) -> None:
    result = build({1: "buss*"}).match(text)
    assert (result.watchlist_ids, result.hits, result.parties, result.people) == ([], [], [], [])


# --- Parties ------------------------------------------------------------------------------------

PARTY_TABLE = [
    ("Vänsterpartiet vill sänka taxan.", ["V"]),
    ("Vänsterpartiets och vänsterpartisternas förslag", ["V"]),
    ("Anna Svensson (V) och Per Holm (S) debatterade.", ["V", "S"]),
    ("Ett rödgrönt styre (S/V) i Karlstad", ["V", "S"]),
    ("V-politikern och S-ledaren möttes.", ["V", "S"]),
    ("V\u2013politikern talade", ["V"]),
    ("V:s förslag röstades ned.", ["V"]),
    ("M och KD vill sänka skatten.", ["KD", "M"]),
    ("S, V och MP har majoritet.", ["V", "S", "MP"]),
    ("Tidöpartierna M, KD och L med stöd av SD", ["L", "KD", "M", "SD"]),
    ("Vänsterpartiet och S vill höja taxan", ["V", "S"]),
    ("Kommunalrådet Lena Ek (C) i Karlstad", ["C"]),
    ("Sossarna och sverigedemokraterna", ["S", "SD"]),
    ("Moderaterna och Liberalerna", ["L", "M"]),
    ("Centern vill satsa på landsbygden.", ["C"]),
    ("Miljöpartiets språkrör och Folkpartiet", ["MP", "L"]),
    ("SD:s gruppledare", ["SD"]),
    ("Bengt Andersson (s) och Gunnar Olsson (mp)", ["S", "MP"]),  # the older lower case
    ("Per-Erik Nilsson, S, ordförande", ["S"]),
    ("– Det är rimligt, säger Anna Svensson, V.", ["V"]),
    ("M: Sälj kommunens andel", ["M"]),
    ("Av kommunerna styrs tre av C-ledda koalitioner", ["C"]),
    ("Vid debatten deltog företrädare för V, S, C och M.", ["V", "S", "C", "M"]),
    ("S och V vill", ["V", "S"]),  # a list with V: more than sizes
    ("S och M överens om skolan", ["S", "M"]),
    ("Novus: S 34,5 procent, M 18,2, SD 20,1 och V 7,8", ["V", "S", "M", "SD"]),
    ("M och KD vill sänka skatten med 20 öre, medan S och V vill höja den", ["V", "S", "KD", "M"]),
    ("S- och V-politiker, S-MP-styret", ["V", "S", "MP"]),
    ("Liberalen Sofia Ström och moderatledaren", ["L", "M"]),
    # Not a party:
    ("Storlek S, M och L finns i lager.", []),
    ("Gustav V var kung.", []),
    ("En C-uppsats om S-märkta kablar och M-klassen.", []),
    ("Köp ett SD-kort till kameran.", []),
    ("sd och mp i gemener", []),
    ("Hon är moderat och liberal, men inte vänster.", []),
    ("Mitt i centern av stan", []),
    ("Centern Viktor Andersson gjorde 2–1.", []),  # hockey's centre
    ("S och M finns i lager", []),  # sizes alone, no anchor
    ("Vänsterpartiet kräver svar. Vinden vrider till S", ["V"]),  # a full stop ends the context
    ("V. Andersson skriver", []),
    ("Gustav V:s besök. Pius V vill", []),  # regnal numbers
    ("KD vill ha C-vitamin och V-ringade tröjor", ["KD"]),  # compounds that are no party
    ("vän(s) och Höjd (m)", []),  # lower case in brackets only after a name
]


@pytest.mark.parametrize(("text", "expected"), PARTY_TABLE)
def test_parties_named(text: str, expected: list[str]) -> None:
    assert build({}).match(text).parties == expected


def test_party_hits_point_at_what_counted() -> None:
    text = "Storlek S. Anna Ek (V) och S-ledaren"
    result = build({}).match(text)
    assert [(h.term, text[h.start:h.end]) for h in result.party_hits] == [("V", "V"),
                                                                          ("S", "S")]
    assert result.party_hits[1].start == text.index("S-ledaren")


def test_every_party_has_forms() -> None:
    assert [p.code for p in PARTIES] == ["V", "S", "MP", "C", "L", "KD", "M", "SD"]
    assert {code for code, _, _ in forms()} == {p.code for p in PARTIES}


def test_parties_can_be_left_out() -> None:
    assert build({1: "taxan"}, parties=False).match("Vänsterpartiet och taxan").parties == []


# --- People -------------------------------------------------------------------------------------


def test_people_named() -> None:
    people = [(7, ["Anna Lindqvist", "Lindqvist"]), (8, ["Erik Håkansson"]), (9, ["Sten"])]
    matcher = build({1: "taxan"}, people)
    result = matcher.match("ANNA\u00a0LINDQVIST (V) och erik\nhåkansson om taxan")
    assert (result.watchlist_ids, result.people) == ([1], [7, 8])
    assert [h.text for h in result.people_hits[8]] == ["erik\nhåkansson"]
    # A one-word name counts only with a capital letter: "sten" is a stone.
    assert matcher.match("en lindqvist och en sten").people == []
    assert matcher.match("Lindqvist och Sten svarade").people == [7, 9]


# --- Building and caching -----------------------------------------------------------------------


def test_from_models_leaves_out_inactive_and_malformed_watchlists(caplog) -> None:
    watchlists = [SimpleNamespace(id=1, query="buss*", active=True),
                  SimpleNamespace(id=2, query="tåg*", active=False),
                  SimpleNamespace(id=3, query="buss NEAR tåg", active=True)]
    people = [SimpleNamespace(id=5, name="Anna Lindqvist", aliases="Lindqvist\n\n  A. Lindqvist ")]
    matcher = Matcher.from_models(watchlists, people)
    assert matcher.watchlist_ids == [1]
    assert list(matcher.invalid) == [3]
    assert "malformed" in caplog.text
    result = matcher.match("Bussar och tåg. A. Lindqvist svarar.")
    assert (result.watchlist_ids, result.people) == ([1], [5])


def test_the_cache_rebuilds_only_when_the_version_changes() -> None:
    cache = MatcherCache()
    built = []

    def make(query: str):
        def build_it() -> Matcher:
            built.append(query)
            return build({1: query})
        return build_it

    first = cache.get((1, "2024-05-01T10:00"), make("buss*"))
    assert cache.get((1, "2024-05-01T10:00"), make("tåg*")) is first
    second = cache.get((1, "2024-05-02T08:00"), make("tåg*"))
    assert second is not first and built == ["buss*", "tåg*"]
    assert second.match("Tågen").watchlist_ids == [1]
    cache.clear()
    cache.get((1, "2024-05-02T08:00"), make("tåg*"))
    assert cache.builds == 3

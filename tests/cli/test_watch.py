"""`megafon watch test 'QUERY' < article.txt`: JSON on stdout (the query's hits, and the parties
and people ingest would record, by the real matcher), exit 2 for a malformed query."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cli.main import main
from monitor.sentiment import score

ARTICLE = ("Kollektivtrafiken i Värmland\n\nBussarna i Karlstad blir färre, säger "
           "Anna Ek (V). Region\u00a0Värmland svarar.")


def run(*args: str, text: str = ARTICLE):
    return CliRunner().invoke(main, ["watch", "test", *args], input=text)


def test_a_match_prints_the_hits_with_offsets() -> None:
    result = run('buss* AND "Region Värmland"')
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["matched"] is True
    assert [(h["term"], h["text"]) for h in out["hits"]] == [
        ("buss*", "Bussarna"), ('"region värmland"', "Region\u00a0Värmland")]
    for hit in out["hits"]:
        assert ARTICLE[hit["start"]:hit["end"]] == hit["text"]
    assert (out["parties"], out["people"]) == (["V"], [])
    assert "party_hits" not in out


def test_no_match_exits_0_and_still_shows_what_was_found() -> None:
    result = run("buss* NOT Karlstad")
    assert result.exit_code == 0
    out = json.loads(result.stdout)
    assert out["matched"] is False
    assert [h["text"] for h in out["hits"]] == ["Bussarna", "Karlstad"]


def test_nothing_found() -> None:
    result = run("tåg*")
    assert (result.exit_code, json.loads(result.stdout)) == (0, {
        "matched": False, "hits": [], "parties": ["V"], "people": [],
        "sentiment": {"score": 0.0, "label": "neutral"}})


def test_parties_on_request() -> None:
    out = json.loads(run("Karlstad", "--parties").stdout)
    assert out["parties"] == ["V"]
    assert [h["text"] for h in out["party_hits"]] == ["V"]


BOARD = ("Budgetdebatten i regionfullmäktige blev lång. M och KD vill sänka skatten med 20 öre, "
         "medan S och V vill använda pengarna till vårdcentralerna, säger Lena Dalström (V).\n"
         "Dalström fick medhåll av Per Holm, S. En ek planterades i Sunne.")


def test_the_parties_and_people_that_would_be_recorded() -> None:
    result = run("vårdcentral*", "--person", "Lena Dalström|Dalström",
                 "--person", " Per Holm | ", "--person", "Ek", text=BOARD)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["matched"] is True
    # The board's report: all four, in the parliament's order.
    assert out["parties"] == ["V", "S", "KD", "M"]
    # In the order given; "ek" in lower case is a tree, not the one-word name "Ek".
    assert out["people"] == ["Lena Dalström", "Per Holm"]


def test_parties_and_people_are_shown_when_the_query_does_not_match() -> None:
    out = json.loads(run("tåg*", "--person", "Per Holm", text=BOARD).stdout)
    assert out == {"matched": False, "hits": [], "parties": ["V", "S", "KD", "M"],
                   "people": ["Per Holm"], "sentiment": score(BOARD).as_dict()}


def test_no_false_parties_from_sizes_and_vitamins() -> None:
    text = "Jackan finns i storlek S, M och L. Ta C-vitamin och köp ett SD-kort."
    out = json.loads(run("jackan", "--parties", text=text).stdout)
    assert (out["parties"], out["party_hits"]) == ([], [])


def test_a_person_needs_a_name() -> None:
    result = run("buss*", "--person", "|Dalström")
    assert result.exit_code == 2
    assert result.stderr == ("error: --person '|Dalström': the name comes first, "
                             "e.g. 'Lena Dalström|Dalström'\n")
    assert result.stdout == ""


def test_stdin_is_read_as_text_with_swedish_letters() -> None:
    out = json.loads(run("får", text="Hon FÅR inte, sa far.").stdout)
    assert out == {"matched": True, "hits": [{"term": "får", "start": 4, "end": 7,
                                              "text": "FÅR"}], "parties": [], "people": [],
                   "sentiment": {"score": 0.0, "label": "neutral"}}


@pytest.mark.parametrize(("text", "label"), [
    ("Bussen i Karlstad är försenad igen, och resenärerna är arga.", "negative"),
    ("Det är ingen kris för bussarna i Karlstad.", "positive"),
    ("Bussarna i Karlstad går var tionde minut.", "neutral"),
])
def test_the_tone_a_mention_would_be_given(text: str, label: str) -> None:
    out = json.loads(run("buss*", text=text).stdout)
    assert out["sentiment"] == score(text).as_dict()
    assert out["sentiment"]["label"] == label


def test_the_article_may_be_a_file(tmp_path) -> None:
    article = tmp_path / "artikel.txt"
    article.write_text("Hon FÅR inte.", encoding="utf-8")
    out = json.loads(run("får", str(article), text="").stdout)
    assert [h["text"] for h in out["hits"]] == ["FÅR"]


def test_a_missing_file_or_one_that_is_not_utf8_is_a_clear_error(tmp_path) -> None:
    missing = run("får", str(tmp_path / "saknas.txt"))
    assert missing.exit_code == 2 and "saknas.txt" in missing.stderr
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("Hon FÅR inte.".encode("latin-1"))
    result = run("får", str(latin1))
    assert result.exit_code == 2
    assert result.stderr == "error: the article is not UTF-8 text (byte 5)\n"
    assert result.stdout == ""


@pytest.mark.parametrize(("query", "message"), [
    ("buss NEAR tåg", "error: position 5: NEAR needs a number, e.g. NEAR/5"),
    ("(buss OR tåg", "error: position 0: this bracket is never closed"),
    ("bu*", "error: position 0: a * needs at least 3 letters before it"),
    ("NOT buss", "error: position 0: the query only excludes words; add a word to look for, "
                 "e.g. buss NOT tåg"),
])
def test_a_malformed_query_exits_2_with_position_and_reason(query: str, message: str) -> None:
    result = run(query)
    assert result.exit_code == 2
    assert result.stderr.strip() == message
    assert result.stdout == ""

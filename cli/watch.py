"""`megafon watch`: try a watchlist query on a text before saving it.

    megafon watch test 'kollektivtrafik* AND Värmland' < artikel.txt
    megafon watch test 'kollektivtrafik* AND Värmland' artikel.txt
    megafon watch test 'vård*' artikel.txt --person 'Lena Dalström|Dalström' --parties

prints one line of JSON and exits 0::

    {"matched": true|false, "hits": [{"term", "start", "end", "text"}…],
     "parties": ["V", "S", …], "people": ["Lena Dalström", …]}

``hits`` are the query's words (offsets are characters into the text as read), also when the
query as a whole did not match. ``parties`` and ``people`` are what ingest would record with
the mention when the query matches (an article that matches no watchlist is not stored): the
parties by their codes in the parliament's order (monitor.parties, the same matcher as ingest),
and the people given with ``--person "Name|alias|alias"`` (repeatable; there is no database
here, so the people are named on the command line: the name, then the other ways it is
written), by their name, in the order given. A one-word name or alias counts only with a
capital letter, as in ingest. ``--parties`` (from before parties were always printed) adds
``party_hits``: where each party that counts was found, with offsets like ``hits``.

The JSON also has "sentiment": {"score": …, "label": "positive"|"neutral"|"negative"}, the
text's tone as monitor.sentiment scores it: what a mention of this text would be given.

A malformed query ends with "error: position N: reason" on stderr (N counts characters from 0)
and exit code 2; so does a ``--person`` without a name.
"""

from __future__ import annotations

import json
from typing import NoReturn, TextIO

import click

from monitor.matcher import Matcher
from monitor.query import QueryError, parse
from monitor.sentiment import score


def fail(message: str, code: int = 2) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    raise SystemExit(code)


def person_names(spec: str) -> list[str]:
    """"Lena Dalström|Dalström" → ["Lena Dalström", "Dalström"]: the name, then its aliases
    (a person row's name and aliases; empty parts are dropped, as blank alias lines are)."""
    names = [part.strip() for part in spec.split("|")]
    if not names[0]:
        fail(f"--person {spec!r}: the name comes first, e.g. 'Lena Dalström|Dalström'")
    return [n for n in names if n]


@click.group()
def watch() -> None:
    """Watchlists: the queries that find current issues in the news."""


@watch.command("test")
@click.argument("query")
@click.argument("article", type=click.File("r", encoding="utf-8"), default="-")
@click.option("--person", "people", multiple=True, metavar="'NAME|ALIAS…'",
              help="A person to look for: the name, then aliases, separated by |. Repeatable.")
@click.option("--parties", is_flag=True,
              help="Also show where each party was found (party_hits).")
def watch_test(query: str, article: TextIO, people: tuple[str, ...], parties: bool) -> None:
    """Match QUERY against ARTICLE (a file, or standard input); print the result as JSON:
    the query's hits, and the parties and people that would be recorded."""
    try:
        parsed = parse(query)
    except QueryError as exc:
        fail(str(exc))
    named = [person_names(spec) for spec in people]
    try:
        text = article.read()
    except UnicodeDecodeError as exc:
        fail(f"the article is not UTF-8 text (byte {exc.start})")
    result = Matcher.build([(0, parsed)], list(enumerate(named))).match(text)
    out: dict[str, object] = {
        "matched": 0 in result.watchlist_ids,
        "hits": [hit.as_dict() for hit in result.hits_for(0)],
        "parties": result.parties,
        "people": [named[i][0] for i in result.people],
        "sentiment": score(text).as_dict(),
    }
    if parties:
        out["party_hits"] = [hit.as_dict() for hit in result.party_hits]
    click.echo(json.dumps(out, ensure_ascii=False))

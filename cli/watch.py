"""`megafon watch`: try a watchlist query on a text before saving it.

    megafon watch test 'kollektivtrafik* AND Värmland' < artikel.txt
    megafon watch test 'kollektivtrafik* AND Värmland' artikel.txt

prints one line of JSON, {"matched": true|false, "hits": [{"term", "start", "end", "text"}…]}
(offsets are characters into the text as read; the hits are those of the query's words, also
when the query as a whole did not match) and exits 0. A malformed query ends with
"error: position N: reason" on stderr (N counts characters from 0) and exit code 2.

The JSON also has "sentiment": {"score": …, "label": "positive"|"neutral"|"negative"}, the
text's tone as monitor.sentiment scores it: what a mention of this text would be given.
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


@click.group()
def watch() -> None:
    """Watchlists: the queries that find current issues in the news."""


@watch.command("test")
@click.argument("query")
@click.argument("article", type=click.File("r", encoding="utf-8"), default="-")
@click.option("--parties", is_flag=True, help="Also list the parties the text names.")
def watch_test(query: str, article: TextIO, parties: bool) -> None:
    """Match QUERY against ARTICLE (a file, or standard input); print the result as JSON."""
    try:
        parsed = parse(query)
    except QueryError as exc:
        fail(str(exc))
    try:
        text = article.read()
    except UnicodeDecodeError as exc:
        fail(f"the article is not UTF-8 text (byte {exc.start})")
    result = Matcher.build([(0, parsed)], parties=parties).match(text)
    out: dict[str, object] = {
        "matched": 0 in result.watchlist_ids,
        "hits": [hit.as_dict() for hit in result.hits_for(0)],
        "sentiment": score(text).as_dict(),
    }
    if parties:
        out["parties"] = result.parties
        out["party_hits"] = [hit.as_dict() for hit in result.party_hits]
    click.echo(json.dumps(out, ensure_ascii=False))

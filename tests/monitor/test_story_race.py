"""Two workers that see one new story at the same instant store one mention, on SQLite and on
PostgreSQL. Each worker here has its own engine (so its own story index), as a process would."""

from __future__ import annotations

import threading

import pytest

from core.db import Database
from monitor.mentions import ingest
from monitor.models import Mention, Sighting
from tests.monitor.stories import (
    count,
    make_source,
    make_watchlist,
    matcher_for,
    story,
)

ROUNDS = 12


def article(n: int) -> str:
    """A story of its own for round `n` (no two rounds' texts look alike)."""
    return f"Arvika {n}: " + " ".join(f"ord{n}-{i}" for i in range(40)) + "."


@pytest.fixture
def two_workers(services_on_any_db):
    first = services_on_any_db.db
    second = Database(first.url)
    yield first, second
    second.dispose()


def _at_once(workers, sources, items) -> None:
    """Each worker ingests its item in its own transaction, all starting together."""
    start = threading.Barrier(len(workers))
    errors: list[BaseException] = []

    def work(db: Database, source, item) -> None:
        matcher = matcher_for(db)
        start.wait()
        try:
            with db.session() as session:
                ingest(session, session.get(type(source), source.id), [item], matcher)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=args)
               for args in zip(workers, sources, items, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []


def test_one_article_seen_by_two_workers_at_once_is_one_mention(two_workers):
    """Known by its address only: the second copy is a teaser too short to compare by text."""
    make_watchlist(two_workers[0], "Arvika")
    nwt, vf = make_source(two_workers[0], "NWT"), make_source(two_workers[0], "VF")
    for n in range(ROUNDS):
        url = f"https://www.nwt.se/2025/akuten-{n}"
        _at_once(two_workers, [nwt, vf], [
            story(f"nwt-{n}", "Akuten", article(n), url),
            story(f"vf-{n}", "Akuten", f"Arvika {n}: läs mer.", url + "?utm_source=vf")])
    assert count(two_workers[0], Mention) == ROUNDS
    assert count(two_workers[0], Sighting) == 2 * ROUNDS


def test_a_sister_paper_copy_seen_at_the_same_instant_joins_the_story(two_workers):
    make_watchlist(two_workers[0], "Arvika")
    nwt, an = make_source(two_workers[0], "NWT"), make_source(two_workers[0], "Arvika Nyheter")
    for n in range(ROUNDS):
        _at_once(two_workers, [nwt, an], [
            story(f"nwt-{n}", "Akuten", article(n), f"https://nwt.se/a/{n}"),
            story(f"an-{n}", "Akuten", article(n).replace("-7 ", "-7b "),
                  f"https://an.se/b/{n}", "Arvika Nyheter")])
    assert count(two_workers[0], Mention) == ROUNDS

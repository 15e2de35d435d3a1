"""Feeds and pages as the open web serves them (issue 14, finding 8): a `javascript:` link is
never something to click, a broken feed says so in its source's state, a page in ISO-8859-1 is
stored as written. Real HTTP over loopback, the real poller and ingest, the real pages."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from core.db import Database
from core.users import Role
from monitor.fetch import SafeFetcher
from monitor.models import Mention, Source, SourceKind, SourceState, Watchlist
from monitor.polling import LiveIngest, poll_source
from monitor.sources import PollContext
from tests.monitor.feedserver import FeedServer, rss
from tests.web.conftest import login

EVIL = "javascript:alert(document.cookie)"


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as running:
        yield running


@pytest.fixture
def ctx() -> Iterator[PollContext]:
    fetcher = SafeFetcher(allow=["127.0.0.1"], timeout=5)
    yield PollContext(fetcher=fetcher)
    fetcher.close()


def watch(db: Database, word: str) -> None:
    with db.session() as session:
        session.add(Watchlist(name=f"Fråga {word}", query=word))


def add_source(db: Database, url: str, kind: SourceKind = SourceKind.FEED) -> int:
    with db.session() as session:
        source = Source(name="Källa", kind=kind, outlet="NWT", url=url, state=SourceState.OK)
        session.add(source)
        session.flush()
        return source.id


def source_row(db: Database, source_id: int) -> Source:
    with db.session() as session:
        found = session.get(Source, source_id)
        session.expunge(found)
        return found


def test_a_javascript_link_in_a_feed_is_never_a_link(db, server, ctx, logged_in):
    word = f"busskaos{uuid.uuid4().hex[:6]}"
    watch(db, word)
    url = server.add("/evil.xml", body=rss("Ond", [(f"Om {word}", EVIL, f"Text om {word}")]))
    assert poll_source(db, add_source(db, url), ctx, LiveIngest()).outcome == "ok"
    with db.session() as session:
        mention = session.scalar(select(Mention))
        assert mention is not None and mention.url is None
        older = Mention(title=f"Äldre {word}", url=EVIL, outlet="NWT",
                        source_kind=SourceKind.FEED, text=f"Stod i loggen innan, {word}.")
        session.add(older)
        session.flush()
        ids = [mention.id, older.id]
    client: FlaskClient = logged_in(Role.COMMS)[0]
    pages = [client.get("/mentions").text] + [client.get(f"/mentions/{i}").text for i in ids]
    assert f"Äldre {word}" in pages[0]
    for page in pages:
        assert 'href="javascript:' not in page.lower()


@pytest.mark.parametrize("body", [
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><descrip',
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>T &nbsp;</title></channel></rss>',
], ids=["truncated", "undefined-entity"])
def test_a_malformed_feed_shows_an_error_not_ok_with_nothing(body, db, server, ctx):
    source_id = add_source(db, server.add("/broken.xml", body=body))
    outcome = poll_source(db, source_id, ctx, LiveIngest())
    assert outcome.outcome == "error"
    found = source_row(db, source_id)
    assert found.state is SourceState.FAILING
    assert found.last_error.startswith("The feed is malformed")


def test_a_page_in_iso_8859_1_is_stored_as_written(db, server, ctx):
    word = f"räksmörgås{uuid.uuid4().hex[:4]}"
    watch(db, word)
    story = f"Kaféet i Åmål säljer {word} till pendlarna i Växjö. " * 20
    server.add("/nyheter/kafeet-i-amal", content_type="text/html; charset=ISO-8859-1",
               body=(f"<html><head><title>Kaféet i Åmål</title></head><body><article>"
                     f"<h1>Kaféet i Åmål</h1><p>{story}</p><p>{story}</p></article></body>"
                     "</html>").encode("latin-1"))
    section = server.add("/nyheter", content_type="text/html; charset=ISO-8859-1",
                         body=b'<html><body><a href="/nyheter/kafeet-i-amal">Kaf\xe9et</a>'
                              b"</body></html>")
    outcome = poll_source(db, add_source(db, section, SourceKind.PAGE), ctx, LiveIngest())
    assert outcome.outcome == "ok", outcome.error
    with db.session() as session:
        mention = session.scalar(select(Mention))
        assert mention is not None
        assert mention.title == "Kaféet i Åmål"
        assert f"Kaféet i Åmål säljer {word} till pendlarna i Växjö." in mention.text


def test_a_failing_source_says_why_in_the_readers_language(db, server, make_user, app):
    """Found in issue 17: the reason was stored filled in, in English, and shown so to Swedish
    readers. It is kept as a message and translated where it is read (page and poll history)."""
    url = server.add("/feed.xml", body=rss("Lokalt", []))
    blocked = SafeFetcher(allow=[], timeout=5)  # loopback is a private address
    try:
        outcome = poll_source(db, add_source(db, url), PollContext(fetcher=blocked), LiveIngest())
    finally:
        blocked.close()
    assert outcome.outcome == "error"
    source = source_row(db, outcome.source_id)
    assert source.last_error.startswith("Blocked: 127.0.0.1 is a private address")
    pages = {}
    for locale in ("sv", "en"):
        user = make_user(Role.ADMIN)
        with db.session() as session:
            session.get(type(user), user.id).locale = locale
        client = app.test_client()
        login(client, user)
        pages[locale] = (client.get("/sources").text, client.get(f"/sources/{source.id}").text)
    for page in pages["sv"]:
        assert "Blockerad: 127.0.0.1 är en privat adress" in page
        assert "is a private address" not in page
    for page in pages["en"]:
        assert "Blocked: 127.0.0.1 is a private address" in page

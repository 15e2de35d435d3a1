"""Polling sources over real loopback HTTP: every kind of failure gets its own clear state, the
good feeds still flow, 304s cost no parse, backoff grows and resets, and any number of workers
poll each source once."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import feedparser
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core import migrate
from core.clock import utcnow
from core.db import Database
from core.users import Role, User
from monitor.fetch import SafeFetcher
from monitor.items import Item
from monitor.models import Source, SourceKind, SourcePoll, SourceState
from monitor.polling import backoff, claim_due_sources, poll_source, run_polls
from monitor.sources import PollContext
from monitor.sources.manual import add_clipping
from publisher.adapters.redirect import RewriteSession
from sandbox.server import SandboxServer
from tests.monitor.feedserver import BILLION_LAUGHS, HTML_PAGE, FeedServer, atom, rss


class Recorder:
    """Stands in for monitor.mentions.ingest: remembers what each source delivered."""

    def __init__(self, fail_for: int | None = None) -> None:
        self.calls: list[tuple[int, list[Item]]] = []
        self.fail_for = fail_for
        self._lock = threading.Lock()

    def __call__(self, session: Session, source: Source, items: list[Item]) -> list[int]:
        if source.id == self.fail_for:
            raise RuntimeError("the database said no")
        with self._lock:
            self.calls.append((source.id, items))
        return list(range(len(items)))

    def items(self, source_id: int) -> list[Item]:
        return [i for sid, items in self.calls if sid == source_id for i in items]


def migrated(url: str) -> Database:
    migrate.upgrade(url)
    return Database(url)


@pytest.fixture
def database(sqlite_url: str) -> Iterator[Database]:
    db = migrated(sqlite_url)
    yield db
    db.dispose()


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as running:
        yield running


@pytest.fixture
def ctx() -> Iterator[PollContext]:
    # Long enough for a good feed on a busy CI machine; the slow route waits longer still.
    fetcher = SafeFetcher(allow=["127.0.0.1"], timeout=3, max_bytes=200_000)
    yield PollContext(fetcher=fetcher)
    fetcher.close()


def add_source(db: Database, url: str | None, kind: SourceKind = SourceKind.FEED,
               **values: Any) -> int:
    with db.session() as session:
        source = Source(name=values.pop("name", f"Källa {uuid.uuid4().hex[:6]}"), kind=kind,
                        url=url, outlet=values.pop("outlet", "Testposten"), **values)
        session.add(source)
        session.flush()
        return source.id


def source(db: Database, source_id: int) -> Source:
    with db.session() as session:
        found = session.get(Source, source_id)
        assert found is not None
        return found


def polls(db: Database, source_id: int) -> list[SourcePoll]:
    with db.session() as session:
        return list(session.scalars(select(SourcePoll).where(SourcePoll.source_id == source_id)
                                    .order_by(SourcePoll.id)))


def articles(n: int, prefix: str = "Nyhet") -> list[tuple[str, str, str]]:
    return [(f"{prefix} {i}", f"http://example.org/{prefix.lower()}/{i}",
             f"<p>Om <b>kollektivtrafik</b> &amp; vård, del {i}.</p>") for i in range(n)]


def test_one_cycle_every_failure_has_its_own_state_and_the_good_feeds_flow(
        database: Database, server: FeedServer, ctx: PollContext):
    good = server.add("/good.xml", body=rss("Bra", articles(3)), etag='"g1"')
    urls = {
        "good": good,
        "atom_gzip": server.add("/atom.xml", body=atom("Atom", articles(2, "Atom")),
                                content_type="application/atom+xml"),
        "redirected": server.add("/old.xml", status=301, location="/good.xml"),
        "slow": server.add("/slow.xml", body=rss("Seg", articles(1)), delay=4),
        "error": server.add("/500.xml", body=b"Internal Server Error", status=500,
                            content_type="text/plain"),
        "html": server.add("/page", body=HTML_PAGE, content_type="text/html; charset=utf-8"),
        "laughs": server.add("/lol.xml", body=BILLION_LAUGHS),
        "big": server.add("/big.xml", body=rss("Stor", articles(1)) + b" " * 300_000,
                          gzip=False),
        "private": server.add("/evil.xml", status=302,
                              location="http://169.254.169.254/latest/meta-data/"),
        "not_allowed": server.url("/good.xml", host="127.0.0.2"),
        "junk": server.add("/junk", body=b'{"not": "a feed"}', content_type="application/json"),
    }
    ids = {name: add_source(database, url) for name, url in urls.items()}
    recorder = Recorder()

    outcomes = run_polls(database, ctx, recorder, "worker-1", concurrency=4)

    assert sorted(o.source_id for o in outcomes) == sorted(ids.values())
    expected_errors = {
        "slow": "Timed out after 3 s.",
        "error": "The server answered 500 (server error).",
        "html": "Not a feed: the server sent an HTML page.",
        "laughs": "Refused: the feed contains XML entity definitions (a known attack).",
        "big": "Larger than 0.2 MB.",
        "private": "Blocked: redirects to a private address (169.254.169.254).",
        "not_allowed": ("Blocked: 127.0.0.2 is a private address; an administrator can allow "
                        "it with MEGAFON_FETCH_ALLOW."),
    }
    for name, message in expected_errors.items():
        found = source(database, ids[name])
        assert (found.state, found.last_error) == (SourceState.FAILING, message), name
        assert found.consecutive_failures == 1 and found.failing_since is not None
        assert polls(database, ids[name])[-1].outcome == "error"
    junk = source(database, ids["junk"])
    assert junk.state is SourceState.FAILING
    assert junk.last_error.startswith("Not a feed: the XML could not be read as RSS or Atom")
    for name in ("good", "atom_gzip", "redirected"):
        found = source(database, ids[name])
        assert (found.state, found.last_error, found.consecutive_failures) == \
            (SourceState.OK, None, 0), name
        assert found.claimed_by is None and found.lease_expires_at is None
    assert [i.title for i in recorder.items(ids["good"])] == ["Nyhet 0", "Nyhet 1", "Nyhet 2"]
    assert recorder.items(ids["good"])[0].text == "Om kollektivtrafik & vård, del 0."
    assert recorder.items(ids["good"])[0].outlet == "Testposten"
    assert recorder.items(ids["good"])[0].published_at == datetime(2025, 1, 6, 10, tzinfo=UTC)
    assert len(recorder.items(ids["atom_gzip"])) == 2
    assert "gzip" in server.seen("/atom.xml")[0].headers["Accept-Encoding"]
    assert len(recorder.items(ids["redirected"])) == 3
    assert polls(database, ids["redirected"])[-1].detail == f"redirected to {good}"
    assert server.hits()["/evil.xml"] == 1  # the first hop only; 169.254… never contacted


class Parses:
    """How many times feedparser was asked to parse each URL's body (the library's entry point,
    wrapped for the test: monitor.sources.feeds parses only through it)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.counts: dict[str, int] = {}
        self._lock = threading.Lock()
        real = feedparser.parse

        def parse(*args: Any, **kwargs: Any) -> Any:
            url = (kwargs.get("response_headers") or {}).get("content-location", "")
            with self._lock:
                self.counts[url] = self.counts.get(url, 0) + 1
            return real(*args, **kwargs)

        monkeypatch.setattr(feedparser, "parse", parse)

    def of(self, url: str) -> int:
        with self._lock:
            return self.counts.get(url, 0)


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> Parses:
    return Parses(monkeypatch)


def test_a_304_costs_no_parse(database: Database, server: FeedServer, ctx: PollContext,
                              parses: Parses):
    url = server.add("/feed.xml", body=rss("Feed", articles(2)), etag='"v1"')
    source_id = add_source(database, url)
    recorder = Recorder()

    first = poll_source(database, source_id, ctx, recorder)
    second = poll_source(database, source_id, ctx, recorder)

    assert (first.outcome, first.items_seen, first.items_new) == ("ok", 2, 2)
    assert (second.outcome, second.items_seen) == ("not_modified", 0)
    assert parses.of(url) == 1 and len(recorder.calls) == 1
    assert server.seen("/feed.xml")[1].headers["If-None-Match"] == '"v1"'
    assert [p.outcome for p in polls(database, source_id)] == ["ok", "not_modified"]
    assert source(database, source_id).etag == '"v1"'

    server.add("/feed.xml", body=rss("Feed", articles(3)), etag='"v2"')  # the feed changes
    third = poll_source(database, source_id, ctx, recorder)
    assert (third.outcome, third.items_seen) == ("ok", 3)
    assert parses.of(url) == 2
    assert source(database, source_id).etag == '"v2"'


def test_a_server_without_validators_is_not_parsed_when_the_body_is_the_same(
        database: Database, server: FeedServer, ctx: PollContext, parses: Parses):
    url = server.add("/plain.xml", body=rss("Feed", articles(2)))
    source_id = add_source(database, url)
    recorder = Recorder()
    assert poll_source(database, source_id, ctx, recorder).outcome == "ok"
    assert poll_source(database, source_id, ctx, recorder).outcome == "not_modified"
    assert parses.of(url) == 1


def test_backoff_grows_and_resets(database: Database, server: FeedServer, ctx: PollContext):
    url = server.add("/flaky.xml", body=b"down", status=503, content_type="text/plain")
    source_id = add_source(database, url, interval_seconds=300)
    waits, since = [], []
    for _ in range(3):
        poll_source(database, source_id, ctx, Recorder())
        found = source(database, source_id)
        waits.append(found.next_poll_at - found.last_polled_at)
        since.append(found.failing_since)
    assert waits == [timedelta(seconds=300), timedelta(seconds=600), timedelta(seconds=1200)]
    assert since[0] == since[1] == since[2]  # failing since the first failure
    assert source(database, source_id).consecutive_failures == 3
    assert backoff(300, 30) == timedelta(days=1)  # capped, never parked

    server.add("/flaky.xml", body=rss("Feed", articles(1)))
    assert poll_source(database, source_id, ctx, Recorder()).outcome == "ok"
    found = source(database, source_id)
    assert (found.state, found.consecutive_failures, found.last_error, found.failing_since) == \
        (SourceState.OK, 0, None, None)
    assert found.next_poll_at - found.last_polled_at == timedelta(seconds=300)


def test_retry_after_is_honoured(database: Database, server: FeedServer, ctx: PollContext):
    url = server.add("/busy.xml", body=b"slow down", status=429, headers={"Retry-After": "7200"})
    source_id = add_source(database, url, interval_seconds=300)
    poll_source(database, source_id, ctx, Recorder())
    found = source(database, source_id)
    assert found.next_poll_at - found.last_polled_at == timedelta(seconds=7200)


def test_items_that_cannot_be_stored_leave_the_validators_unsaved(
        database: Database, server: FeedServer, ctx: PollContext):
    source_id = add_source(database, server.add("/f.xml", body=rss("F", articles(1)),
                                                etag='"e"'))
    outcome = poll_source(database, source_id, ctx, Recorder(fail_for=source_id))
    found = source(database, source_id)
    assert outcome.outcome == "error" and found.state is SourceState.FAILING
    assert found.last_error == "The items could not be stored: RuntimeError: the database said no"
    assert found.etag is None  # so the next poll fetches and stores everything again
    assert poll_source(database, source_id, ctx, Recorder()).outcome == "ok"
    assert "If-None-Match" not in server.seen("/f.xml")[1].headers


def test_paused_and_manual_sources_are_never_claimed(database: Database):
    now = utcnow()
    paused = add_source(database, "http://127.0.0.1/p", state=SourceState.PAUSED,
                        next_poll_at=now - timedelta(hours=1))
    add_source(database, None, kind=SourceKind.MANUAL, next_poll_at=now - timedelta(hours=1))
    due = add_source(database, "http://127.0.0.1/d", next_poll_at=now - timedelta(minutes=1))
    later = add_source(database, "http://127.0.0.1/l", next_poll_at=now + timedelta(minutes=1))
    failing = add_source(database, "http://127.0.0.1/f", state=SourceState.FAILING,
                         next_poll_at=now - timedelta(minutes=2))
    assert claim_due_sources(database, "w", limit=10, now=now) == sorted([due, failing])
    # two hours on: the first claims have run out, `later` is due, the paused one still is not
    assert claim_due_sources(database, "w2", limit=10, now=now + timedelta(hours=2)) == \
        sorted([due, failing, later])
    assert paused not in claim_due_sources(database, "w3", limit=10, now=now + timedelta(days=9))


def test_a_source_paused_while_it_was_polled_stays_paused(database: Database,
                                                          server: FeedServer, ctx: PollContext):
    source_id = add_source(database, server.add("/f.xml", body=rss("F", articles(1))))
    assert claim_due_sources(database, "w", limit=5) == [source_id]
    with database.session() as session:  # an admin pauses it meanwhile
        session.execute(update(Source).where(Source.id == source_id)
                        .values(state=SourceState.PAUSED))
    assert poll_source(database, source_id, ctx, Recorder(), worker_id="w").outcome == "ok"
    assert source(database, source_id).state is SourceState.PAUSED


def test_an_expired_lease_is_taken_over_and_the_late_worker_records_nothing(
        database: Database, server: FeedServer, ctx: PollContext):
    source_id = add_source(database, server.add("/f.xml", body=rss("F", articles(1))))
    now = utcnow()
    assert claim_due_sources(database, "a", lease_seconds=60, now=now) == [source_id]
    assert claim_due_sources(database, "b", lease_seconds=60, now=now + timedelta(seconds=30)) \
        == []
    assert claim_due_sources(database, "b", lease_seconds=60, now=now + timedelta(seconds=61)) \
        == [source_id]
    assert poll_source(database, source_id, ctx, Recorder(), worker_id="a").outcome == "lost"
    assert polls(database, source_id) == []
    assert poll_source(database, source_id, ctx, Recorder(), worker_id="b").outcome == "ok"


@pytest.mark.postgres
def test_on_postgresql_a_lease_is_judged_on_the_database_servers_clock(postgres_url: str):
    """A worker whose clock runs minutes slow or fast neither writes a lease that others
    already see as run out nor takes a lease that has not run out."""
    db = migrated(postgres_url)
    source_id = add_source(db, "http://127.0.0.1/f.xml",
                           next_poll_at=utcnow() - timedelta(hours=1))
    slow, fast = utcnow() - timedelta(minutes=5), utcnow() + timedelta(minutes=5)
    assert claim_due_sources(db, "slow", lease_seconds=60, now=slow) == [source_id]
    assert claim_due_sources(db, "fast", lease_seconds=60, now=fast) == []
    with db.session() as session:  # the slow worker's lease runs out (on the server's clock)
        session.execute(update(Source).where(Source.id == source_id)
                        .values(lease_expires_at=func.statement_timestamp()
                                - timedelta(seconds=1)))
    assert claim_due_sources(db, "fast", lease_seconds=60, now=fast) == [source_id]
    assert source(db, source_id).claimed_by == "fast"
    db.dispose()


def test_two_workers_poll_each_source_once(any_db_url: str, server: FeedServer):
    dbs = [migrated(any_db_url), Database(any_db_url)]
    paths = [f"/feed{n}.xml" for n in range(40)]
    for path in paths:
        add_source(dbs[0], server.add(path, body=rss(path, articles(2, path[1:7])), delay=0.05))
    fetchers = [SafeFetcher(allow=["127.0.0.1"], timeout=5) for _ in dbs]
    recorders = [Recorder(), Recorder()]
    results: list[Any] = [None, None]
    start = threading.Barrier(2)

    def work(n: int) -> None:
        start.wait()
        results[n] = run_polls(dbs[n], PollContext(fetcher=fetchers[n]), recorders[n],
                               f"worker-{n}", concurrency=4)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert all(server.hits()[path] == 1 for path in paths)
    assert sorted(o.source_id for r in results for o in r) == list(range(1, 41))
    assert all(o.outcome == "ok" for r in results for o in r)
    assert results[0] and results[1]  # both took part
    with dbs[0].session() as session:
        assert session.scalar(select(SourcePoll.id).order_by(SourcePoll.id.desc())) == 40
    for db in dbs:
        db.dispose()


SECTION = """<!DOCTYPE html><html><head><title>Värmland</title></head><body>
<nav><a href="/">Start</a> <a href="/varmland">Värmland</a></nav>
<ul><li><a href="/nyheter/akuten-i-arvika">Akuten i Arvika</a></li>
<li><a href="http://{host}/nyheter/tolv-busslinjer#kommentarer">Bussarna</a></li>
<li><a href="https://elsewhere.example/nyheter/annat">Annan sajt</a></li>
<li><a href="/bilder/karta.jpg">Karta</a></li><li><a href="mailto:tips@example.org">Tipsa</a></li>
</ul></body></html>"""

ARTICLE = """<!DOCTYPE html><html lang="sv"><head><meta charset="utf-8"><title>{title}</title>
<meta property="article:published_time" content="2025-01-06T08:30:00+01:00"></head><body>
<header><nav><a href="/">Start</a></nav><p>Prenumerera nu!</p></header><main><article>
<h1>{title}</h1><p>{text}</p><p>Regionen ska fatta beslut i juni, enligt förslaget som
presenterades på tisdagen. Flera partier har redan sagt att de är emot neddragningarna.</p>
</article></main><footer>© Testposten</footer></body></html>"""


def test_a_page_source_extracts_the_articles_of_its_section(database: Database,
                                                            server: FeedServer, ctx: PollContext):
    host = f"127.0.0.1:{server.port}"
    url = server.add("/varmland", body=SECTION.format(host=host).encode(),
                     content_type="text/html")
    for slug, title in (("akuten-i-arvika", "Akuten i Arvika kan stänga nattetid"),
                        ("tolv-busslinjer", "Tolv busslinjer kan försvinna")):
        server.add(f"/nyheter/{slug}", content_type="text/html; charset=utf-8",
                   body=ARTICLE.format(title=title, text=f"{title}, skriver Testposten. "
                                       "Vänsterpartiet protesterar mot förslaget.").encode())
    source_id = add_source(database, url, kind=SourceKind.PAGE)
    recorder = Recorder()

    assert poll_source(database, source_id, ctx, recorder).outcome == "ok"
    found = recorder.items(source_id)
    assert [i.title for i in found] == ["Akuten i Arvika kan stänga nattetid",
                                        "Tolv busslinjer kan försvinna"]
    assert found[0].text.startswith("Akuten i Arvika kan stänga nattetid, skriver Testposten.")
    assert "Prenumerera" not in found[0].text and "©" not in found[0].text
    assert found[0].published_at == datetime(2025, 1, 6, 7, 30, tzinfo=UTC)
    assert found[1].url == server.url("/nyheter/tolv-busslinjer")
    assert found[0].source_kind is SourceKind.PAGE

    again = poll_source(database, source_id, ctx, recorder)  # same links: no article fetched
    assert again.outcome == "not_modified"
    assert server.hits()["/nyheter/tolv-busslinjer"] == 1


@pytest.fixture(scope="module")
def news_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    with SandboxServer(str(tmp_path_factory.mktemp("sandbox") / "state.db")) as running:
        yield running


def test_x_search_reads_new_tweets_since_the_cursor(database: Database,
                                                    news_sandbox: SandboxServer):
    state, word = news_sandbox.state, f"busstrafik{uuid.uuid4().hex[:6]}"
    author_creds = state.add_account("x", f"Pendlare {word}")
    author = state.account(author_creds["user_id"])
    assert author is not None
    first = state.add_post(author, "tweet", f"Ingen buss i dag igen, {word} i Värmland")
    state.add_post(author, "tweet", "Om något helt annat")
    ctx = PollContext(
        fetcher=SafeFetcher(),
        credentials_for=lambda account: state.add_account("x", str(account)),
        session_factory=lambda: RewriteSession(news_sandbox.url),
        x_status_url=news_sandbox.url + "/sandbox/x/{username}/status/{id}")
    source_id = add_source(database, None, kind=SourceKind.X_SEARCH, outlet="X",
                           config=f'{{"query": "{word}", "account": "Bevakning"}}')
    recorder = Recorder()

    assert poll_source(database, source_id, ctx, recorder).outcome == "ok"
    [item] = recorder.items(source_id)
    assert item.item_key == f"x:{first.id}" and item.text.startswith("Ingen buss i dag")
    assert item.title.startswith(f"@{author_creds['username']}: Ingen buss")
    assert item.url == f"{news_sandbox.url}/sandbox/x/{author_creds['username']}/status/{first.id}"
    assert item.published_at is not None and source(database, source_id).cursor == first.id

    newer = state.add_post(author, "tweet", f"Nu går bussen, {word}!")
    poll_source(database, source_id, ctx, recorder)
    assert [i.item_key for i in recorder.items(source_id)] == [f"x:{first.id}", f"x:{newer.id}"]


def test_x_search_with_refused_credentials_fails_clearly(database: Database,
                                                         news_sandbox: SandboxServer):
    ctx = PollContext(fetcher=SafeFetcher(),
                      credentials_for=lambda account: {"bearer_token": "not-a-token"},
                      session_factory=lambda: RewriteSession(news_sandbox.url))
    source_id = add_source(database, None, kind=SourceKind.X_SEARCH,
                           config='{"query": "Värmland", "account": 1}')
    poll_source(database, source_id, ctx, Recorder())
    assert source(database, source_id).last_error == "X refused the credentials (401)."


def test_facebook_comments_since_the_cursor(database: Database, news_sandbox: SandboxServer):
    state = news_sandbox.state
    page_creds = state.add_account("facebook", f"Sida {uuid.uuid4().hex[:6]}")
    page = state.account(page_creds["page_id"])
    visitor = state.account(state.add_account("facebook", "Besökare Berg")["page_id"])
    assert page is not None and visitor is not None
    post = state.add_post(page, "post", "Akuten i Arvika ska vara öppen!",
                          post_id=f"{page.key}_{state.new_id()}")

    def comment(text: str) -> str:
        made = state.add_post(visitor, "comment", text, parent=post,
                              post_id=f"{post.id.split('_')[-1]}_{state.new_id()}")
        return made.id

    first = comment("Håller med, vården ska finnas nära.")
    ctx = PollContext(fetcher=SafeFetcher(), credentials_for=lambda account: page_creds,
                      session_factory=lambda: RewriteSession(news_sandbox.url))
    source_id = add_source(database, None, kind=SourceKind.FB_COMMENTS, outlet="Facebook",
                           config='{"account": "facebook:sida"}')
    recorder = Recorder()

    assert poll_source(database, source_id, ctx, recorder).outcome == "ok"
    [item] = recorder.items(source_id)
    assert item.item_key == f"fb:{first}"
    assert item.title == "Besökare Berg: Håller med, vården ska finnas nära."
    assert item.url.startswith(news_sandbox.url + "/sandbox/facebook/")
    assert source(database, source_id).cursor is not None

    later = comment("Skrev just under!")
    recorder.calls.clear()
    poll_source(database, source_id, ctx, recorder)
    assert f"fb:{later}" in [i.item_key for i in recorder.items(source_id)]


def test_a_clipping_goes_through_ingest_under_the_manual_source(database: Database):
    from core.auth import create_user

    with database.session() as session:
        user = create_user(session, email="klipp@example.org", name="Klippare",
                           password="correct horse battery", role=Role.COMMS)
    recorder = Recorder()
    with database.session() as session:
        editor = session.get(User, user.id)
        assert editor is not None
        add_clipping(session, "Nya Wermlands-Tidningen (papper)",
                     date(2025, 1, 6), "Debatt: rädda akuten",
                     "Insändare om akuten i Arvika.", None, editor, ingest=recorder)
    [(source_id, [item])] = recorder.calls
    assert item.source_kind is SourceKind.MANUAL and item.outlet.startswith("Nya Wermlands")
    assert item.published_at == datetime(2025, 1, 5, 23, tzinfo=UTC)  # midnight in Stockholm
    assert source(database, source_id).kind is SourceKind.MANUAL
    assert "added by klipp@example.org" in (polls(database, source_id)[0].detail or "")


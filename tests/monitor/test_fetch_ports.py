"""The sandbox's host and port only (issue 14, finding 6): with the sandbox on, the fetcher may
reach the sandbox's own port on loopback (its demo feeds), never another port of the host — the
app itself, a database — however the address is spelt, and on no redirect hop. Real HTTP
servers on loopback ports."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from monitor.fetch import FetchError, SafeFetcher
from schedules.monitoring import build_fetcher
from tests.monitor.feedserver import FeedServer, rss

# Every spelling of 127.0.0.1 a URL may carry (getaddrinfo reads all but the last the same way).
SPELLINGS = ["127.0.0.1", "127.1", "2130706433", "0x7f.0.0.1", "[::ffff:127.0.0.1]",
             "[::ffff:7f00:1]", "0177.0.0.1"]


@pytest.fixture
def sandbox_like() -> Iterator[FeedServer]:
    with FeedServer() as running:
        running.add("/feed.xml", body=rss("Sandlådan", []))
        yield running


@pytest.fixture
def elsewhere() -> Iterator[FeedServer]:
    """Another service on the same host: the app itself, say."""
    with FeedServer() as running:
        running.add("/healthz", body=b"ok", content_type="text/plain")
        yield running


@pytest.fixture
def fetcher(sandbox_like: FeedServer) -> Iterator[SafeFetcher]:
    made = SafeFetcher(endpoints=[("127.0.0.1", sandbox_like.port)], timeout=3)
    yield made
    made.close()


def test_the_sandbox_port_is_fetched(fetcher: SafeFetcher, sandbox_like: FeedServer):
    assert fetcher.fetch(sandbox_like.url("/feed.xml")).status == 200
    assert fetcher.fetch(f"http://127.1:{sandbox_like.port}/feed.xml").status == 200


@pytest.mark.parametrize("host", SPELLINGS)
def test_another_port_of_the_sandbox_host_is_refused(host: str, fetcher: SafeFetcher,
                                                      elsewhere: FeedServer):
    with pytest.raises(FetchError) as refused:
        fetcher.fetch(f"http://{host}:{elsewhere.port}/healthz")
    assert refused.value.kind in ("blocked", "url"), refused.value.message
    assert elsewhere.hits()["/healthz"] == 0


@pytest.mark.parametrize("host", SPELLINGS)
def test_a_redirect_from_the_sandbox_to_another_port_is_refused(
        host: str, fetcher: SafeFetcher, sandbox_like: FeedServer, elsewhere: FeedServer):
    start = sandbox_like.add("/away", status=302,
                             location=f"http://{host}:{elsewhere.port}/healthz")
    with pytest.raises(FetchError):
        fetcher.fetch(start)
    assert elsewhere.hits()["/healthz"] == 0


def test_an_octal_host_is_a_clear_error(fetcher: SafeFetcher):
    with pytest.raises(FetchError) as refused:
        fetcher.fetch("http://0177.0.0.1/feed.xml")
    assert refused.value.message.startswith("The web address cannot be read")


def test_the_pollers_fetcher_reaches_the_sandbox_and_nothing_else_on_its_host(
        services, sandbox, elsewhere: FeedServer):
    fetcher = build_fetcher(services)
    try:
        assert fetcher.fetch(f"{sandbox.url}/sandbox/feeds/nwt-demo.xml").status == 200
        port = sandbox.url.rsplit(":", 1)[1].split("/")[0]
        assert fetcher.fetch(f"http://2130706433:{port}/sandbox/feeds/nwt-demo.xml").status == 200
        for host in SPELLINGS:
            with pytest.raises(FetchError):
                fetcher.fetch(f"http://{host}:{elsewhere.port}/healthz")
        assert elsewhere.hits()["/healthz"] == 0
    finally:
        fetcher.close()

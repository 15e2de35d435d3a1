"""SafeFetcher over real loopback HTTP: validators, gzip, redirects, limits and the SSRF guard."""

from __future__ import annotations

import gzip
import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

import httpcore
import pytest

from monitor.fetch import AddressPolicy, FetchError, SafeFetcher, is_public
from tests.monitor.feedserver import FeedServer, http_date, rss

FEED = rss("Testfeed", [("Bussar i Värmland", "http://example.org/a", "Text om bussar")])


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as running:
        yield running


@pytest.fixture
def fetcher() -> Iterator[SafeFetcher]:
    made = SafeFetcher(allow=["127.0.0.1"], timeout=2, max_bytes=1_000_000)
    yield made
    made.close()


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every address a TCP connection was really opened to."""
    opened: list[str] = []
    real = httpcore.SyncBackend.connect_tcp

    def spy(self: Any, host: str, port: int, *args: Any, **kwargs: Any) -> Any:
        opened.append(host)
        return real(self, host, port, *args, **kwargs)

    monkeypatch.setattr(httpcore.SyncBackend, "connect_tcp", spy)
    return opened


def fails(fetcher: SafeFetcher, url: str, **kwargs: Any) -> FetchError:
    with pytest.raises(FetchError) as caught:
        fetcher.fetch(url, **kwargs)
    return caught.value


def test_etag_then_304(server: FeedServer, fetcher: SafeFetcher):
    url = server.add("/feed.xml", body=FEED, etag='"v1"')
    first = fetcher.fetch(url)
    assert (first.status, first.etag, first.not_modified, first.body) == (200, '"v1"', False, FEED)
    again = fetcher.fetch(url, etag=first.etag)
    assert again.not_modified and again.status == 304 and again.body == b""
    assert again.etag == '"v1"'
    assert server.seen("/feed.xml")[1].headers["If-None-Match"] == '"v1"'


def test_last_modified_then_304(server: FeedServer, fetcher: SafeFetcher):
    from datetime import UTC, datetime

    stamp = http_date(datetime(2025, 1, 6, 10, tzinfo=UTC))
    url = server.add("/lm.xml", body=FEED, last_modified=stamp)
    first = fetcher.fetch(url)
    assert first.last_modified == stamp
    assert fetcher.fetch(url, last_modified=stamp).not_modified


def test_gzip_is_asked_for_and_decoded(server: FeedServer, fetcher: SafeFetcher):
    url = server.add("/gz.xml", body=FEED * 20)
    result = fetcher.fetch(url)
    assert result.body == FEED * 20
    assert "gzip" in server.seen("/gz.xml")[0].headers["Accept-Encoding"]


def test_redirects_are_followed_and_the_final_url_kept(server: FeedServer, fetcher: SafeFetcher):
    server.add("/new.xml", body=FEED)
    server.add("/moved.xml", status=301, location="/new.xml")  # relative, as many servers send
    url = server.add("/old.xml", status=302, location=server.url("/moved.xml"))
    result = fetcher.fetch(url)
    assert result.body == FEED and result.final_url == server.url("/new.xml")


def test_redirect_loop_stops(server: FeedServer, fetcher: SafeFetcher):
    url = server.add("/loop", status=302, location="/loop")
    assert fails(fetcher, url).message == "Too many redirects (more than 5)."
    assert server.hits()["/loop"] == 6


def test_slow_server_times_out(server: FeedServer):
    url = server.add("/slow.xml", body=FEED, delay=1.5)
    fetcher = SafeFetcher(allow=["127.0.0.1"], timeout=0.3)
    error = fails(fetcher, url)
    assert (error.kind, error.message) == ("timeout", "Timed out after 0.3 s.")


@pytest.mark.parametrize(("status", "message"), [
    (500, "The server answered 500 (server error)."),
    (503, "The server answered 503 (server error)."),
    (404, "Not found (404): nothing is at this address any more."),
    (410, "Gone (410): the server says this was removed for good."),
    (403, "The server refused access (403)."),
    (429, "Too many requests (429): the server asks us to slow down."),
])
def test_error_statuses_have_their_own_sentence(server: FeedServer, fetcher: SafeFetcher,
                                                status: int, message: str):
    url = server.add("/err", body=b"oops", status=status, headers={"Retry-After": "120"})
    error = fails(fetcher, url)
    assert error.message == message
    if status in (429, 503):
        assert error.retry_after == 120


def test_oversized_bodies_are_refused(server: FeedServer, fetcher: SafeFetcher):
    big = b"<rss>" + b"x" * 1_200_000 + b"</rss>"
    declared = server.add("/big.xml", body=big, gzip=False)
    undeclared = server.add("/stream.xml", body=big, gzip=False, content_length=False)
    assert fails(fetcher, declared).message == "Larger than 1 MB."
    assert fails(fetcher, undeclared).message == "Larger than 1 MB."


def test_a_gzip_bomb_stops_at_the_cap(server: FeedServer, fetcher: SafeFetcher):
    bomb = gzip.compress(b"\0" * 50_000_000, compresslevel=9)  # ~50 kB on the wire
    url = server.add("/bomb.xml", body=bomb, gzip=False, headers={"Content-Encoding": "gzip"})
    assert len(bomb) < 1_000_000
    assert fails(fetcher, url).message == "Larger than 1 MB."


def test_empty_answer(server: FeedServer, fetcher: SafeFetcher):
    assert fails(fetcher, server.add("/empty", body=b"  ")).message == \
        "The server sent an empty answer."


def test_redirect_to_a_private_address_is_blocked_without_connecting(
        server: FeedServer, fetcher: SafeFetcher, connections: list[str]):
    for n, target in enumerate(("http://10.0.0.1/feed.xml",
                                "http://169.254.169.254/latest/meta-data/",
                                "http://[::ffff:10.0.0.1]/", "http://100.64.1.1/")):
        url = server.add(f"/evil{n}", status=302, location=target)
        error = fails(fetcher, url)
        assert error.kind == "blocked"
        address = target.split("/")[2].strip("[]")
        assert error.message == f"Blocked: redirects to a private address ({address})."
    assert set(connections) == {"127.0.0.1"}  # the allowed first hop only


def test_a_loopback_feed_not_on_the_allow_list_is_blocked(server: FeedServer,
                                                          connections: list[str]):
    url = server.add("/feed.xml", body=FEED)
    strict = SafeFetcher()
    error = fails(strict, url)
    assert error.message == ("Blocked: 127.0.0.1 is a private address; an administrator can "
                             "allow it with MEGAFON_FETCH_ALLOW.")
    other_loopback = fails(SafeFetcher(allow=["127.0.0.1"]), server.url("/feed.xml", "127.0.0.2"))
    assert other_loopback.kind == "blocked"
    assert server.hits()["/feed.xml"] == 0 and connections == []


def _resolving(monkeypatch: pytest.MonkeyPatch, name: str, address: str) -> list[str]:
    """Make `name` resolve to `address`; returns the lookups made."""
    real = socket.getaddrinfo
    lookups: list[str] = []

    def fake(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == name:
            lookups.append(host)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return lookups


def test_the_checked_address_is_the_one_connected_to(server: FeedServer, fetcher: SafeFetcher,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     connections: list[str]):
    lookups = _resolving(monkeypatch, "feeds.example", "127.0.0.1")
    server.add("/feed.xml", body=FEED)
    result = fetcher.fetch(server.url("/feed.xml", "feeds.example"))
    assert result.body == FEED
    assert lookups == ["feeds.example"] and connections == ["127.0.0.1"]  # resolved once, pinned
    assert server.seen("/feed.xml")[0].headers["Host"] == f"feeds.example:{server.port}"


def test_a_name_resolving_to_a_private_address_is_blocked(fetcher: SafeFetcher,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          connections: list[str]):
    _resolving(monkeypatch, "rebind.example", "10.0.0.7")
    error = fails(fetcher, "http://rebind.example/feed.xml")
    assert error.message == ("Blocked: rebind.example resolves to a private address (10.0.0.7); "
                             "an administrator can allow it with MEGAFON_FETCH_ALLOW.")
    assert connections == []


def test_an_allowed_host_name_or_network(monkeypatch: pytest.MonkeyPatch, server: FeedServer):
    _resolving(monkeypatch, "intern.example", "127.0.0.1")
    server.add("/feed.xml", body=FEED)
    by_name = SafeFetcher(allow=["intern.example"])
    by_network = SafeFetcher(allow=["127.0.0.0/8"])
    assert by_name.fetch(server.url("/feed.xml", "intern.example")).body == FEED
    assert by_network.fetch(server.url("/feed.xml")).body == FEED


def test_only_http_and_https(fetcher: SafeFetcher, server: FeedServer):
    assert fails(fetcher, "file:///etc/passwd").message == \
        "Only http and https addresses can be fetched."
    url = server.add("/to-file", status=302, location="file:///etc/passwd")
    assert fails(fetcher, url).message.startswith("Blocked: redirects to an address that is not")


def test_unknown_host(fetcher: SafeFetcher):
    error = fails(fetcher, "http://nowhere.invalid/feed.xml")
    assert error.message == "The host name could not be found (nowhere.invalid)."


@pytest.mark.parametrize(("address", "public"), [
    ("93.184.216.34", True), ("2606:4700::1", True),
    ("127.0.0.1", False), ("10.1.2.3", False), ("172.16.0.1", False), ("192.168.1.1", False),
    ("169.254.169.254", False), ("100.64.0.1", False), ("0.0.0.0", False), ("224.0.0.1", False),
    ("240.0.0.1", False), ("255.255.255.255", False), ("::1", False), ("fe80::1", False),
    ("fc00::1", False), ("::ffff:10.0.0.1", False), ("::ffff:8.8.8.8", False),
    ("64:ff9b::a00:1", False), ("2002:a00:1::", False), ("2001:0:a00:1::", False),
    ("ff02::1", False),
])
def test_public_addresses(address: str, public: bool):
    assert is_public(ipaddress.ip_address(address)) is public


def test_allow_list_entries():
    policy = AddressPolicy(["10.0.0.0/8", "Intern.Example.", "::1", " "])
    assert policy.permits("x", ipaddress.ip_address("10.20.30.40"))
    assert policy.permits("intern.example", ipaddress.ip_address("192.168.0.1"))
    assert policy.permits("x", ipaddress.ip_address("::1"))
    assert not policy.permits("x", ipaddress.ip_address("192.168.0.1"))
    assert not policy.permits("x", ipaddress.ip_address("127.0.0.1"))

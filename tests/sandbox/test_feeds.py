"""The sandbox's news feeds: RSS with validators and gzip, article pages, the control API, and
the demo set read by the real monitor code (feedparser, trafilatura, tweepy, facebook-sdk)."""

from __future__ import annotations

import gzip
import uuid
from email.utils import parsedate_to_datetime

import feedparser
import requests

from monitor.fetch import SafeFetcher
from monitor.models import Source, SourceKind
from monitor.sources import PollContext, feeds
from monitor.sources.pages import article_links, extract_article
from sandbox import demo_news
from sandbox.server import SandboxServer
from tests.sandbox.conftest import graph_for, x_client_for


def feed_url(sandbox: SandboxServer, name: str) -> str:
    return f"{sandbox.url}/sandbox/feeds/{name}.xml"


def add_item(sandbox: SandboxServer, name: str, **body: object) -> dict[str, str]:
    response = requests.post(f"{sandbox.url}/sandbox/api/feeds/{name}/items", json=body,
                             timeout=5)
    assert response.status_code == 201, response.text
    return response.json()


def test_demo_feeds_are_swedish_rss(sandbox: SandboxServer):
    for name in ("nwt-demo", "vf-demo", "svt-varmland-demo", "p4-varmland-demo"):
        response = requests.get(feed_url(sandbox, name), timeout=5)
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("application/rss+xml")
        parsed = feedparser.parse(response.content)
        assert parsed.version == "rss20" and parsed.feed.title.endswith("(demo)")
        assert len(parsed.entries) >= 5
        assert all(e.link.startswith(f"{sandbox.url}/sandbox/news/") for e in parsed.entries)
    text = requests.get(feed_url(sandbox, "nwt-demo"), timeout=5).text
    assert "Värmlandstrafik" in text and "(V)" in text  # the whole text, in content:encoded


def test_etag_last_modified_and_304(sandbox: SandboxServer):
    first = requests.get(feed_url(sandbox, "vf-demo"), timeout=5)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert etag.startswith('W/"') and parsedate_to_datetime(modified)
    again = requests.get(feed_url(sandbox, "vf-demo"), headers={"If-None-Match": etag}, timeout=5)
    assert again.status_code == 304 and again.content == b""
    by_date = requests.get(feed_url(sandbox, "vf-demo"), headers={"If-Modified-Since": modified},
                           timeout=5)
    assert by_date.status_code == 304
    stale = requests.get(feed_url(sandbox, "vf-demo"), headers={"If-None-Match": 'W/"old"'},
                         timeout=5)
    assert stale.status_code == 200


def test_gzip_only_when_asked(sandbox: SandboxServer):
    raw = requests.get(feed_url(sandbox, "svt-varmland-demo"), stream=True, timeout=5,
                       headers={"Accept-Encoding": "gzip"})
    body = raw.raw.read()
    assert raw.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body).startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    plain = requests.get(feed_url(sandbox, "svt-varmland-demo"), timeout=5,
                         headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers


def test_an_added_item_changes_the_feed_and_gets_an_article_page(sandbox: SandboxServer):
    name = f"test-{uuid.uuid4().hex[:8]}"
    added = add_item(sandbox, name, title="Ny busslinje i Kil",
                     text="Värmlandstrafik startar en ny linje.\n\nVänsterpartiet är nöjt.",
                     published="2025-01-06T10:00:00Z")
    first = requests.get(feed_url(sandbox, name), timeout=5)
    [entry] = feedparser.parse(first.content).entries
    assert (entry.title, entry.id, entry.link) == ("Ny busslinje i Kil", added["guid"],
                                                   added["link"])
    assert first.headers["Last-Modified"] == "Mon, 06 Jan 2025 10:00:00 GMT"

    add_item(sandbox, name, title="Extern länk", text="", link="https://example.org/a")
    second = requests.get(feed_url(sandbox, name), headers={"If-None-Match":
                                                            first.headers["ETag"]}, timeout=5)
    assert second.status_code == 200 and second.headers["ETag"] != first.headers["ETag"]
    assert [e.link for e in feedparser.parse(second.content).entries][0] == \
        "https://example.org/a"

    page = requests.get(added["link"], timeout=5)
    assert page.status_code == 200
    item = extract_article(page.content, added["link"], "Testposten")
    assert item is not None and item.title == "Ny busslinje i Kil"
    assert item.text == "Värmlandstrafik startar en ny linje.\n\nVänsterpartiet är nöjt."
    assert item.published_at is not None and item.published_at.isoformat().startswith(
        "2025-01-06T10:00")


def test_bad_items_are_refused(sandbox: SandboxServer):
    url = f"{sandbox.url}/sandbox/api/feeds/x/items"
    assert requests.post(url, json={"text": "no title"}, timeout=5).status_code == 400
    assert requests.post(url, json={"title": "t", "link": "ftp://x"}, timeout=5).status_code == 400
    assert requests.post(url, json={"title": "t", "published": "igår"},
                         timeout=5).status_code == 400
    assert requests.post(f"{sandbox.url}/sandbox/api/feeds/Bad_Name/items",
                         json={"title": "t"}, timeout=5).status_code == 400
    assert requests.get(feed_url(sandbox, "no-such-feed"), timeout=5).status_code == 404


def test_section_page_lists_article_links_for_a_page_source(sandbox: SandboxServer):
    url = f"{sandbox.url}/sandbox/news/section/an-demo"
    page = requests.get(url, timeout=5)
    links = article_links(page.content, url, None, 10)
    slugs = {slug for outlet, slug, hours, *_ in demo_news.ARTICLES
             if outlet == "an-demo" and hours >= 0}
    assert {link.rsplit("/", 1)[-1] for link in links} == slugs
    assert requests.get(f"{sandbox.url}/sandbox/feeds/an-demo.xml",
                        timeout=5).status_code == 200  # a feed exists, but the demo uses the page


def test_articles_still_to_come_are_not_shown_yet(sandbox: SandboxServer):
    later = [slug for _, slug, hours, *_ in demo_news.ARTICLES if hours < 0]
    assert later
    for slug in later:
        assert requests.get(f"{sandbox.url}/sandbox/news/{slug}", timeout=5).status_code == 404
    body = requests.get(feed_url(sandbox, "nwt-demo"), timeout=5).text
    assert "busstopp-klaralvdalen" not in body


def test_the_demo_social_content_is_seeded_once_and_searchable(sandbox: SandboxServer):
    first = requests.post(f"{sandbox.url}/sandbox/api/demo/social", timeout=5).json()
    requests.post(f"{sandbox.url}/sandbox/api/demo/social", timeout=5)
    creds = sandbox.state.add_account("x", first["x_account"])
    client = x_client_for(sandbox.url, creds)
    found = client.search_recent_tweets(first["x_query"], max_results=100)
    texts = [t.text for t in found.data]
    assert len(texts) == len(set(texts)) >= len(demo_news.TWEETS)
    page = sandbox.state.add_account("facebook", first["facebook_page"])
    graph = graph_for(sandbox.url, page["page_access_token"])
    posts = graph.get_connections(page["page_id"], "posts")["data"]
    assert len(posts) == len(demo_news.FACEBOOK_POSTS)
    comments = graph.get_connections(posts[0]["id"], "comments", fields="message,from")["data"]
    assert comments and all(c["from"]["name"] for c in comments)


def test_the_control_api_is_for_loopback_only(sandbox: SandboxServer):
    listed = requests.get(f"{sandbox.url}/sandbox/api/feeds", timeout=5).json()
    assert {"nwt-demo", "vf-demo", "svt-varmland-demo", "p4-varmland-demo"} <= \
        {f["name"] for f in listed}
    client = sandbox.bind().app.test_client()
    refused = client.post("/sandbox/api/feeds/x/items", json={"title": "t"},
                          environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert refused.status_code == 403


def test_the_monitor_reads_a_demo_feed_and_then_gets_a_304(sandbox: SandboxServer):
    source = Source(id=10_001, name="NWT (demo)", kind=SourceKind.FEED, outlet="NWT",
                    url=feed_url(sandbox, "nwt-demo"), config="{}")
    ctx = PollContext(fetcher=SafeFetcher(allow=["127.0.0.1"]))
    first = feeds.poll(source, ctx)
    assert first.etag and first.last_modified and not first.not_modified
    titles = [i.title for i in first.items]
    assert "Värmlandstrafik vill dra in tolv busslinjer på landsbygden" in titles
    item = first.items[titles.index("Värmlandstrafik vill dra in tolv busslinjer på landsbygden")]
    assert "Elin Lindqvist (V)" in item.text and item.outlet == "NWT"
    source.etag, source.last_modified, source.cursor = first.etag, first.last_modified, first.cursor
    again = feeds.poll(source, ctx)
    assert again.not_modified and again.items == []

"""The read-only HTML pages that permalinks point to: readable, escaped, findable by id."""

from __future__ import annotations

import facebook
import requests
import tweepy

from sandbox.server import SandboxServer

NASTY = "<script>alert('x')</script> & friends"
ESCAPED = "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; friends"


def test_x_timeline_and_status_pages(sandbox: SandboxServer, x_client: tweepy.Client,
                                     x_creds: dict[str, str]) -> None:
    tweet_id = x_client.create_tweet(text=NASTY).data["id"]
    for path in (f"/sandbox/x/{x_creds['username']}",
                 f"/sandbox/x/{x_creds['username']}/status/{tweet_id}"):
        page = requests.get(sandbox.url + path)
        assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
        assert ESCAPED in page.text and "<script>" not in page.text
        assert f'id="post-{tweet_id}"' in page.text


def test_facebook_permalink_page(graph: facebook.GraphAPI, fb_creds: dict[str, str]) -> None:
    post_id = graph.put_object(fb_creds["page_id"], "feed", message=NASTY)["id"]
    graph.put_object(post_id, "comments", message="<b>bold</b>")
    page = requests.get(graph.get_object(post_id, fields="permalink_url")["permalink_url"])
    assert ESCAPED in page.text and "&lt;b&gt;bold&lt;/b&gt;" in page.text
    assert f'id="post-{post_id}"' in page.text


def test_index_lists_accounts_and_unknown_is_404(sandbox: SandboxServer,
                                                x_creds: dict[str, str],
                                                fb_creds: dict[str, str]) -> None:
    index = requests.get(f"{sandbox.url}/sandbox/").text
    assert f"@{x_creds['username']}" in index and fb_creds["name"] in index
    assert requests.get(f"{sandbox.url}/sandbox/x/nobody_here").status_code == 404

"""The Graph API through the unmodified facebook-sdk GraphAPI."""

from __future__ import annotations

import io
import json
import time

import facebook
import pytest
import requests

from sandbox.server import SandboxServer
from tests.sandbox.conftest import graph_for, png


def test_post_read_back_and_delete(sandbox: SandboxServer, graph: facebook.GraphAPI,
                                   fb_creds: dict[str, str]) -> None:
    page = fb_creds["page_id"]
    post_id = graph.put_object(page, "feed", message="Hello page", link="https://example.org/")["id"]
    assert post_id.startswith(f"{page}_")
    post = graph.get_object(post_id, fields="id,message,created_time,permalink_url,is_published,"
                                            "reactions.summary(true),comments.summary(true)")
    assert post["message"] == "Hello page" and post["is_published"] is True
    assert post["permalink_url"].startswith(f"{sandbox.url}/sandbox/facebook/{page}/posts/")
    assert post["comments"]["summary"]["total_count"] == 0
    assert graph.get_connections(page, "feed")["data"][0]["id"] == post_id
    assert graph.delete_object(post_id) == {"success": True}
    with pytest.raises(facebook.GraphAPIError) as err:
        graph.get_object(post_id)
    assert (err.value.code, err.value.result["error"]["error_subcode"]) == (100, 33)


def test_me_and_page_with_default_version(sandbox: SandboxServer,
                                          fb_creds: dict[str, str]) -> None:
    graph = graph_for(sandbox.url, fb_creds["page_access_token"], version=None)  # v2.8
    assert graph.get_object("me") == {"id": fb_creds["page_id"], "name": fb_creds["name"]}
    page = graph.get_object(fb_creds["page_id"], fields="id,name")
    assert page["name"] == fb_creds["name"]
    with pytest.raises(facebook.GraphAPIError, match="nonexisting field"):
        graph.get_object(fb_creds["page_id"], fields="id,colour")


def test_feed_pages_with_next_carrying_the_token(graph: facebook.GraphAPI,
                                                 fb_creds: dict[str, str]) -> None:
    ids = [graph.put_object(fb_creds["page_id"], "feed", message=f"post {i}")["id"]
           for i in range(5)]
    first = graph.get_connections(fb_creds["page_id"], "posts", limit=2)
    assert "access_token=" in first["paging"]["next"] and first["paging"]["cursors"]["after"]
    every = list(graph.get_all_connections(fb_creds["page_id"], "posts", limit=2))
    assert [p["id"] for p in every] == ids[::-1]


def test_photos_by_upload_and_by_url(graph: facebook.GraphAPI, fb_creds: dict[str, str]) -> None:
    page = fb_creds["page_id"]
    uploaded = graph.put_photo(io.BytesIO(png()), album_path=f"{page}/photos", caption="A pic")
    assert uploaded["post_id"].startswith(f"{page}_") and uploaded["id"].isdigit()
    by_url = graph.put_object(page, "photos", url="https://example.org/a.jpg", caption="B")
    assert graph.get_object(by_url["post_id"], fields="message")["message"] == "B"
    with pytest.raises(facebook.GraphAPIError) as err:
        graph.put_photo(io.BytesIO(b"not an image"), album_path=f"{page}/photos")
    assert err.value.code == 324


def test_comments(graph: facebook.GraphAPI, fb_creds: dict[str, str]) -> None:
    post_id = graph.put_object(fb_creds["page_id"], "feed", message="Discuss")["id"]
    comment_id = graph.put_object(post_id, "comments", message="First!")["id"]
    comments = graph.get_connections(post_id, "comments", summary="true")
    assert [c["id"] for c in comments["data"]] == [comment_id]
    assert comments["data"][0]["message"] == "First!"
    assert comments["summary"]["total_count"] == 1


def test_scheduled_post_is_not_in_the_feed(graph: facebook.GraphAPI,
                                           fb_creds: dict[str, str]) -> None:
    when = int(time.time()) + 3600
    post_id = graph.put_object(fb_creds["page_id"], "feed", message="Later", published="false",
                               scheduled_publish_time=str(when))["id"]
    assert graph.get_connections(fb_creds["page_id"], "feed")["data"] == []
    post = graph.get_object(post_id, fields="is_published,scheduled_publish_time")
    assert post == {"is_published": False, "scheduled_publish_time": when}
    with pytest.raises(facebook.GraphAPIError, match="scheduled publish time"):
        graph.put_object(fb_creds["page_id"], "feed", message="Soon",
                         scheduled_publish_time=str(when))


def test_duplicate_post_is_506(graph: facebook.GraphAPI, fb_creds: dict[str, str]) -> None:
    graph.put_object(fb_creds["page_id"], "feed", message="Twice")
    with pytest.raises(facebook.GraphAPIError) as err:
        graph.put_object(fb_creds["page_id"], "feed", message="Twice")
    assert err.value.code == 506 and "Duplicate status message" in err.value.message


def test_bad_and_expired_tokens_are_190(sandbox: SandboxServer, graph: facebook.GraphAPI,
                                        fb_creds: dict[str, str], set_faults) -> None:
    with pytest.raises(facebook.GraphAPIError) as err:
        graph_for(sandbox.url, "EAAGnot-a-token").get_object("me")
    assert (err.value.code, err.value.result["error"]["error_subcode"]) == (190, 467)
    set_faults(fb_creds["page_id"], expire_token=True)
    with pytest.raises(facebook.GraphAPIError) as err:
        graph.get_object("me")
    assert (err.value.code, err.value.result["error"]["error_subcode"]) == (190, 463)
    assert err.value.message.startswith("Error validating access token: Session has expired on")
    assert err.value.type == "OAuthException"


def test_page_budget_headers_and_throttling(sandbox: SandboxServer, graph: facebook.GraphAPI,
                                            fb_creds: dict[str, str], set_faults) -> None:
    set_faults(fb_creds["page_id"], rate_limit=4)
    graph.get_object("me")
    response = requests.get(f"{sandbox.url}/v21.0/me",
                            params={"access_token": fb_creds["page_access_token"]})
    assert json.loads(response.headers["X-Page-Usage"])["call_count"] == 50
    assert response.headers["Content-Type"].startswith("application/json")
    graph.get_object("me")
    graph.get_object("me")
    with pytest.raises(facebook.GraphAPIError) as err:
        graph.get_object("me")
    assert err.value.code == 32


def test_unrouted_graph_path_is_json(sandbox: SandboxServer, fb_creds: dict[str, str]) -> None:
    response = requests.get(f"{sandbox.url}/v21.0/a/b/c/d")
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == 2500

"""Engagement that grows with a post's age, and token expiry as /debug_token tells it."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import facebook
import pytest
import requests
import tweepy

from sandbox.metrics import grown
from sandbox.server import SandboxServer
from tests.sandbox.conftest import graph_for

METRICS_FIELDS = "shares,reactions.summary(true),comments.summary(true)"


def age(sandbox: SandboxServer, post_id: str, **body: Any) -> requests.Response:
    return requests.post(f"{sandbox.url}/sandbox/api/posts/{post_id}/metrics", json=body,
                         timeout=5)


def test_growth_is_deterministic_and_never_goes_down() -> None:
    ages = [0, 60, 900, 3600, 6 * 3600, 86400, 7 * 86400, 30 * 86400]
    series = [grown("1234567890", a) for a in ages]
    assert series[0] == {"likes": 0, "reposts": 0, "quotes": 0, "impressions": 0,
                         "bookmarks": 0}
    for name in series[0]:
        values = [s[name] for s in series]
        assert values == sorted(values)
    assert series[-1]["likes"] >= 40
    assert grown("1234567890", 5000) == grown("1234567890", 5000)
    assert grown("1234567890", 86400) != grown("1234567891", 86400)


def test_public_metrics_grow_as_the_tweet_ages(sandbox: SandboxServer,
                                               x_client: tweepy.Client,
                                               x_creds: dict[str, str]) -> None:
    tweet_id = x_client.create_tweet(text="Räkna mig", user_auth=True).data["id"]
    x_client.create_tweet(text="Ett svar", in_reply_to_tweet_id=tweet_id, user_auth=True)

    def metrics() -> dict[str, int]:
        found = x_client.get_tweets([tweet_id], tweet_fields=["public_metrics"], user_auth=True)
        return found.data[0].public_metrics

    young = metrics()
    assert young["reply_count"] == 1 and young["like_count"] == 0
    assert age(sandbox, tweet_id, advance_s=6 * 3600).status_code == 200
    older = metrics()
    assert older["like_count"] > 0 and older["impression_count"] > older["like_count"]
    assert set(older) == {"retweet_count", "reply_count", "like_count", "quote_count",
                          "bookmark_count", "impression_count"}
    timeline = x_client.get_users_tweets(x_creds["user_id"], tweet_fields=["public_metrics"],
                                         user_auth=True).data
    assert next(t for t in timeline if str(t.id) == tweet_id).public_metrics["like_count"] \
        == older["like_count"]
    plain = x_client.get_tweets([tweet_id], user_auth=True).data[0]
    assert plain.public_metrics is None  # only when tweet.fields asks for it


def test_fixed_numbers_and_validation(sandbox: SandboxServer, x_client: tweepy.Client) -> None:
    tweet_id = x_client.create_tweet(text="Fasta siffror", user_auth=True).data["id"]
    fixed = age(sandbox, tweet_id, likes=5, impressions=99).json()
    assert (fixed["likes"], fixed["impressions"]) == (5, 99)
    assert age(sandbox, tweet_id, age_s=86400).json()["likes"] == 5  # fixed: does not grow
    assert age(sandbox, tweet_id, likes=None).json()["likes"] > 5  # grows again
    assert abs(requests.get(f"{sandbox.url}/sandbox/api/posts/{tweet_id}/metrics",
                            timeout=5).json()["age_s"] - 86400) < 60
    assert age(sandbox, tweet_id, likes=-1).status_code == 400
    assert age(sandbox, tweet_id, colour="red").status_code == 400
    assert age(sandbox, tweet_id, age_s="soon").status_code == 400
    assert age(sandbox, "999", likes=1).status_code == 404


def test_graph_shares_reactions_and_comments(sandbox: SandboxServer, graph: facebook.GraphAPI,
                                             fb_creds: dict[str, str]) -> None:
    post_id = graph.put_object(fb_creds["page_id"], "feed", message="Dela mig")["id"]
    fresh = graph.get_object(post_id, fields=METRICS_FIELDS)
    assert "shares" not in fresh  # Graph leaves it out until the post is shared
    assert fresh["reactions"]["summary"]["total_count"] == 0
    graph.put_object(post_id, "comments", message="Bra!")
    age(sandbox, post_id, likes=30, reposts=4)
    node = graph.get_object(post_id, fields="shares,reactions.limit(0).summary(true),"
                                            "comments.limit(0).summary(true)")
    assert node["shares"] == {"count": 4}
    assert node["reactions"]["summary"]["total_count"] == 30 and node["reactions"]["data"] == []
    assert node["comments"]["summary"]["total_count"] == 1 and node["comments"]["data"] == []
    full = graph.get_object(post_id, fields=METRICS_FIELDS)
    assert len(full["comments"]["data"]) == 1


def debug_token(sandbox: SandboxServer, token: str, caller: str,
                version: str = "v21.0") -> dict[str, Any]:
    prefix = f"/{version}" if version else ""
    return requests.get(f"{sandbox.url}{prefix}/debug_token",
                        params={"input_token": token, "access_token": caller}, timeout=5).json()


def test_debug_token_reports_validity_and_expiry(
        sandbox: SandboxServer, fb_creds: dict[str, str],
        set_faults: Callable[..., dict[str, Any]]) -> None:
    token, app = fb_creds["page_access_token"], "100000000000001|secret"
    data = debug_token(sandbox, token, token)["data"]
    assert data["is_valid"] is True and data["expires_at"] == 0
    assert data["type"] == "PAGE" and data["profile_id"] == fb_creds["page_id"]
    assert "pages_manage_posts" in data["scopes"]
    assert data["data_access_expires_at"] > time.time()
    assert debug_token(sandbox, token, app, version="")["data"]["is_valid"] is True

    profile = set_faults(fb_creds["page_id"], token_expires_in_s=3 * 86400)
    expires = debug_token(sandbox, token, app)["data"]["expires_at"]
    assert abs(expires - (time.time() + 3 * 86400)) < 60
    assert profile["token_expires_at"] == pytest.approx(expires, abs=1)

    set_faults(fb_creds["page_id"], token_expires_in_s=-1)  # passed: refused like expire_token
    expired = debug_token(sandbox, token, app)["data"]
    assert expired["is_valid"] is False and expired["error"]["subcode"] == 463
    refused = debug_token(sandbox, token, token)
    assert (refused["error"]["code"], refused["error"]["error_subcode"]) == (190, 463)
    graph = graph_for(sandbox.url, token)
    with pytest.raises(facebook.GraphAPIError, match="Session has expired"):
        graph.get_object("me")

    unknown = debug_token(sandbox, "EAAGnotatoken", app)["data"]
    assert unknown == {"error": {"code": 190, "message": "Invalid OAuth access token."},
                       "is_valid": False, "scopes": []}
    assert debug_token(sandbox, token, "nonsense")["error"]["code"] == 190


def test_x_token_expiry_fault_gives_401_after_the_time(
        sandbox: SandboxServer, x_client: tweepy.Client, x_creds: dict[str, str],
        set_faults: Callable[..., dict[str, Any]]) -> None:
    set_faults(x_creds["user_id"], token_expires_in_s=3600)
    assert x_client.get_me(user_auth=True).data.username == x_creds["username"]
    set_faults(x_creds["user_id"], token_expires_in_s=0)
    with pytest.raises(tweepy.Unauthorized):
        x_client.get_me(user_auth=True)
    bad = requests.post(f"{sandbox.url}/sandbox/api/accounts/{x_creds['user_id']}/faults",
                        json={"token_expires_in_s": "later"}, timeout=5)
    assert bad.status_code == 400 and "token_expires_in_s" in bad.json()["error"]

"""The control API and the state under concurrent clients."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
import requests
import tweepy

from sandbox.server import SandboxServer
from tests.sandbox.conftest import x_client_for


def test_add_account_returns_credentials(sandbox: SandboxServer) -> None:
    x = requests.post(f"{sandbox.url}/sandbox/api/accounts",
                      json={"platform": "x", "name": "Control Test"})
    assert x.status_code == 201
    assert set(x.json()) == {"platform", "name", "username", "user_id", "consumer_key",
                             "consumer_secret", "access_token", "access_token_secret",
                             "bearer_token"}
    again = requests.post(f"{sandbox.url}/sandbox/api/accounts",
                          json={"platform": "x", "name": "Control Test"})
    assert again.json() == x.json()
    fb = requests.post(f"{sandbox.url}/sandbox/api/accounts",
                       json={"platform": "facebook", "name": "Control Page"}).json()
    assert set(fb) == {"platform", "name", "page_id", "page_access_token"}


def test_bad_requests_are_refused(sandbox: SandboxServer, x_creds: dict[str, str]) -> None:
    api = f"{sandbox.url}/sandbox/api"
    assert requests.post(f"{api}/accounts", json={"platform": "myspace", "name": "a"}
                         ).status_code == 400
    assert requests.post(f"{api}/accounts/{x_creds['user_id']}/faults",
                         json={"error_status": 404}).status_code == 400
    assert requests.post(f"{api}/accounts/{x_creds['user_id']}/faults",
                         json={"colour": "red"}).status_code == 400
    assert requests.get(f"{api}/accounts/123/posts").status_code == 404


def test_deleted_posts_are_listed_on_request(x_client: tweepy.Client, x_creds: dict[str, str],
                                             sandbox: SandboxServer, stored) -> None:
    tweet_id = x_client.create_tweet(text="short-lived").data["id"]
    x_client.delete_tweet(tweet_id)
    assert stored(x_creds["user_id"]) == []
    listed = requests.get(f"{sandbox.url}/sandbox/api/accounts/{x_creds['user_id']}/posts",
                          params={"include_deleted": "1"}).json()
    assert [(p["id"], p["deleted"]) for p in listed] == [(tweet_id, True)]


def test_concurrent_clients_same_text_posts_once(sandbox: SandboxServer,
                                                 x_creds: dict[str, str], stored) -> None:
    def post(text: str) -> str:
        try:
            return x_client_for(sandbox.url, x_creds).create_tweet(text=text).data["id"]
        except tweepy.Forbidden:
            return "duplicate"

    with ThreadPoolExecutor(16) as pool:
        same = list(pool.map(post, ["the same"] * 16))
        distinct = list(pool.map(post, [f"text {i}" for i in range(16)]))
    assert same.count("duplicate") == 15
    assert "duplicate" not in distinct and len(set(distinct)) == 16
    assert len(stored(x_creds["user_id"])) == 17


def test_the_sandbox_clock_moves_to_a_fixed_time_and_back(sandbox: SandboxServer,
                                                           x_creds: dict[str, str]) -> None:
    """A test that fixes Megafon's time fixes the platform's too: X's 429 reset follows it."""
    api = f"{sandbox.url}/sandbox/api"
    try:
        moved = requests.post(f"{api}/clock", json={"now": "2026-11-25T08:00:05+00:00"})
        assert moved.status_code == 200 and moved.json()["now"].startswith("2026-11-25T08:00")
        requests.post(f"{api}/accounts/{x_creds['user_id']}/faults",
                      json={"error_rate": 1.0, "error_status": 429}).raise_for_status()
        with pytest.raises(tweepy.TooManyRequests) as refused:
            x_client_for(sandbox.url, x_creds).create_tweet(text="För tidigt")
        reset = int(refused.value.response.headers["x-rate-limit-reset"])
        assert 1795593605 <= reset <= 1795593605 + 60  # 2026-11-25 08:00:05 UTC, plus the window
    finally:
        requests.post(f"{api}/clock", json={"now": None}).raise_for_status()
    back = requests.get(f"{api}/clock").json()["now"]
    assert datetime.fromisoformat(back) > datetime(2026, 11, 25, 9, tzinfo=UTC)
    for bad in ({}, {"now": "igår"}, {"now": "2026-11-25T08:00:05"}, []):
        answer = requests.post(f"{api}/clock", json=bad)
        assert answer.status_code == 400 and "error" in answer.json()

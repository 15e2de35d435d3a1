"""X API v2 through the unmodified tweepy.Client and tweepy.API."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
import requests
import tweepy

from publisher.adapters.redirect import RewriteSession
from sandbox.server import SandboxServer
from tests.sandbox.conftest import png, x_client_for

DUPLICATE = "You are not allowed to create a Tweet with duplicate content."


def test_post_read_back_and_delete(x_client: tweepy.Client, x_creds: dict[str, str]) -> None:
    created = x_client.create_tweet(text="Hello from the sandbox").data
    assert created["id"].isdigit() and int(created["id"]) > 10**17
    assert created["edit_history_tweet_ids"] == [created["id"]]
    tweets = x_client.get_tweets([created["id"]], tweet_fields=["public_metrics"]).data
    assert tweets[0].text == "Hello from the sandbox"
    assert tweets[0].public_metrics["reply_count"] == 0
    timeline = x_client.get_users_tweets(x_creds["user_id"]).data
    assert [t.id for t in timeline] == [int(created["id"])]
    assert x_client.delete_tweet(created["id"]).data == {"deleted": True}
    assert x_client.get_tweets([created["id"]]).errors[0]["title"] == "Not Found Error"


def test_get_me_is_the_token_owner(x_client: tweepy.Client, x_creds: dict[str, str]) -> None:
    me = x_client.get_me(user_auth=True).data
    assert (str(me.id), me.username) == (x_creds["user_id"], x_creds["username"])
    assert x_creds["access_token"].startswith(f"{me.id}-")


def test_timeline_pages_newest_first(x_client: tweepy.Client, x_creds: dict[str, str]) -> None:
    ids = [x_client.create_tweet(text=f"tweet number {i}").data["id"] for i in range(7)]
    pages = tweepy.Paginator(x_client.get_users_tweets, x_creds["user_id"], max_results=5)
    seen = [str(t.id) for page in pages for t in page.data]
    assert seen == ids[::-1]


def test_reply_and_search(x_client: tweepy.Client) -> None:
    word = f"zebra{time.time_ns()}"
    first = x_client.create_tweet(text=f"{word} crossing the street").data["id"]
    x_client.create_tweet(text=f"A {word.upper()} reply", in_reply_to_tweet_id=first)
    found = x_client.search_recent_tweets(f"{word} crossing", max_results=10)
    assert [t.id for t in found.data] == [int(first)] and found.meta["result_count"] == 1
    assert x_client.search_recent_tweets(word).meta["result_count"] == 2
    assert x_client.search_recent_tweets(f"{word} absent").data is None


def test_reply_to_missing_tweet_is_refused(x_client: tweepy.Client) -> None:
    with pytest.raises(tweepy.Forbidden) as err:
        x_client.create_tweet(text="into the void", in_reply_to_tweet_id="1234567890")
    assert "deleted or not visible" in err.value.api_messages[0]


def test_duplicate_text_is_refused_until_deleted(x_client: tweepy.Client) -> None:
    first = x_client.create_tweet(text="Same words").data["id"]
    with pytest.raises(tweepy.Forbidden) as err:
        x_client.create_tweet(text="Same words")
    assert err.value.api_messages == [DUPLICATE] and err.value.api_codes == []
    x_client.delete_tweet(first)
    assert x_client.create_tweet(text="Same words").data["text"] == "Same words"


def test_bad_token_and_wrong_secret_are_401(sandbox: SandboxServer,
                                            x_creds: dict[str, str]) -> None:
    bad_token = x_client_for(sandbox.url, x_creds,
                             access_token=x_creds["user_id"] + "-forged")
    wrong_secret = x_client_for(sandbox.url, x_creds, consumer_secret="not-the-secret")
    for client in (bad_token, wrong_secret):
        with pytest.raises(tweepy.Unauthorized):
            client.create_tweet(text="let me in")
    with pytest.raises(tweepy.Unauthorized):
        x_client_for(sandbox.url, x_creds, bearer_token="nope").get_tweets(["1"])


def test_app_only_auth_cannot_post(x_client: tweepy.Client) -> None:
    with pytest.raises(tweepy.Forbidden, match="Application-Only is forbidden"):
        x_client.create_tweet(text="as an app", user_auth=False)


def test_rate_limit_429_with_reset(x_client: tweepy.Client, x_creds: dict[str, str],
                                   set_faults) -> None:
    set_faults(x_creds["user_id"], rate_limit=2)
    x_client.create_tweet(text="one")
    x_client.create_tweet(text="two")
    with pytest.raises(tweepy.TooManyRequests) as err:
        x_client.create_tweet(text="three")
    assert time.time() + 800 < err.value.reset_time <= time.time() + 901
    assert err.value.response.headers["x-rate-limit-remaining"] == "0"


def test_rate_headers_on_every_answer(sandbox: SandboxServer, x_creds: dict[str, str]) -> None:
    ok = requests.get(f"{sandbox.url}/2/tweets?ids=1",
                      headers={"Authorization": f"Bearer {x_creds['bearer_token']}"})
    refused = requests.post(f"{sandbox.url}/2/tweets", json={"text": "x"})
    for response in (ok, refused):
        assert {"x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset"} <= {
            h.lower() for h in response.headers}
    assert refused.status_code == 401 and refused.json()["detail"] == "Unauthorized"


def test_media_upload_then_tweet_with_it(sandbox: SandboxServer, x_creds: dict[str, str],
                                         x_client: tweepy.Client, png_file: Path) -> None:
    api = tweepy.API(tweepy.OAuth1UserHandler(
        x_creds["consumer_key"], x_creds["consumer_secret"], x_creds["access_token"],
        x_creds["access_token_secret"]))
    api.session = RewriteSession(sandbox.url)
    media = api.media_upload(str(png_file))
    assert media.image == {"image_type": "image/png", "w": 3, "h": 2}
    assert media.media_id_string == str(media.media_id)
    tweet = x_client.create_tweet(text="with a picture", media_ids=[media.media_id]).data
    assert tweet["id"]
    with pytest.raises(tweepy.BadRequest, match="media type unrecognized"):
        api.media_upload("notes.txt", file=io.BytesIO(b"just some text"))
    with pytest.raises(tweepy.BadRequest, match="File size exceeds 5242880 bytes"):
        api.media_upload("big.png", file=io.BytesIO(png() + b"\0" * (5 * 1024 * 1024)))


def test_unknown_media_id_is_invalid(x_client: tweepy.Client) -> None:
    with pytest.raises(tweepy.BadRequest, match="Your media IDs are invalid"):
        x_client.create_tweet(text="ghost picture", media_ids=["42"])

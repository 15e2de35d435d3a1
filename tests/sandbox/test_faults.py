"""Faults an account can be told to suffer: later tests and benchmarks rely on these."""

from __future__ import annotations

import time

import facebook
import pytest
import requests
import tweepy


def test_latency(x_client: tweepy.Client, x_creds: dict[str, str], set_faults) -> None:
    set_faults(x_creds["user_id"], latency_ms=300)
    started = time.monotonic()
    x_client.get_me(user_auth=True)
    assert time.monotonic() - started >= 0.3


def test_503_stores_nothing(x_client: tweepy.Client, x_creds: dict[str, str], set_faults,
                            stored) -> None:
    set_faults(x_creds["user_id"], error_rate=1.0, error_status=503)
    with pytest.raises(tweepy.TwitterServerError) as err:
        x_client.create_tweet(text="never lands")
    assert err.value.response.status_code == 503
    assert stored(x_creds["user_id"]) == []


def test_injected_429_has_a_near_reset(x_client: tweepy.Client, x_creds: dict[str, str],
                                       set_faults) -> None:
    set_faults(x_creds["user_id"], error_rate=1.0, error_status=429)
    with pytest.raises(tweepy.TooManyRequests) as err:
        x_client.create_tweet(text="busy")
    assert err.value.reset_time <= time.time() + 2


def test_dropped_x_response_after_the_post_is_stored(x_client: tweepy.Client,
                                                     x_creds: dict[str, str], set_faults,
                                                     stored) -> None:
    set_faults(x_creds["user_id"], drop_response_rate=1.0)
    with pytest.raises(requests.ConnectionError):
        x_client.create_tweet(text="Did it go out?")
    assert [p["text"] for p in stored(x_creds["user_id"])] == ["Did it go out?"]
    set_faults(x_creds["user_id"])  # cleared: reconciling reads work, a resend is a duplicate
    assert x_client.get_users_tweets(x_creds["user_id"]).data[0].text == "Did it go out?"
    with pytest.raises(tweepy.Forbidden):
        x_client.create_tweet(text="Did it go out?")


def test_dropped_graph_response_after_the_post_is_stored(graph: facebook.GraphAPI,
                                                         fb_creds: dict[str, str], set_faults,
                                                         stored) -> None:
    set_faults(fb_creds["page_id"], drop_response_rate=1.0)
    with pytest.raises(requests.ConnectionError):
        graph.put_object(fb_creds["page_id"], "feed", message="Lost answer")
    assert [p["text"] for p in stored(fb_creds["page_id"])] == ["Lost answer"]
    assert graph.get_object("me")["id"] == fb_creds["page_id"]  # reads are not dropped


def test_graph_server_error(graph: facebook.GraphAPI, fb_creds: dict[str, str],
                            set_faults) -> None:
    set_faults(fb_creds["page_id"], error_rate=1.0, error_status=500)
    with pytest.raises(facebook.GraphAPIError) as err:
        graph.put_object(fb_creds["page_id"], "feed", message="oops")
    assert err.value.code == 1 and err.value.result["error"]["is_transient"] is True


def test_expired_x_token_is_401(x_client: tweepy.Client, x_creds: dict[str, str],
                                set_faults) -> None:
    set_faults(x_creds["user_id"], expire_token=True)
    with pytest.raises(tweepy.Unauthorized):
        x_client.get_me(user_auth=True)

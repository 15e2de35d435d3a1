"""Due deliveries go out through the real clients to the sandbox, and the outcome is recorded."""

import requests

from core.users import Role
from publisher.deliveries import claim_due, history
from publisher.dispatch import Dispatcher
from publisher.models import DeliveryState, Platform
from tests.factories import deliveries, queue_post


def sandbox_posts(sandbox_url: str, key: str) -> list[dict]:
    response = requests.get(f"{sandbox_url}/sandbox/api/accounts/{key}/posts", timeout=10)
    response.raise_for_status()
    return response.json()


def dispatcher(services, worker="w1") -> Dispatcher:
    return Dispatcher(services.db, services.platforms, services.box, worker)


def test_due_post_is_published_on_x_and_facebook_with_links(services, sandbox, make_user,
                                                             make_account):
    x, x_creds = make_account(Platform.X)
    fb, fb_creds = make_account(Platform.FACEBOOK)
    queue_post(services.db, make_user(Role.COMMS), [x, fb], text="Kollektivtrafiken i Värmland",
               link="https://vansterpartiet.se/varmland")
    assert dispatcher(services).run_once() == 2

    published = {d.account_id: d for d in deliveries(services.db)}
    assert {d.state for d in published.values()} == {DeliveryState.PUBLISHED}
    tweet = sandbox_posts(sandbox.url, x_creds["user_id"])
    assert len(tweet) == 1 and tweet[0]["text"].startswith("Kollektivtrafiken i Värmland")
    assert published[x.id].external_id == str(tweet[0]["id"])
    assert requests.get(published[x.id].external_url, timeout=10).status_code == 200
    page_post = sandbox_posts(sandbox.url, fb_creds["page_id"])
    assert published[fb.id].external_id == str(page_post[0]["id"])
    assert "Kollektivtrafiken" in requests.get(published[fb.id].external_url, timeout=10).text


def test_nothing_is_sent_before_it_is_due(services, make_user, make_account):
    from datetime import datetime, timedelta

    from core.clock import STOCKHOLM

    x, _ = make_account(Platform.X)
    later = (datetime.now(STOCKHOLM) + timedelta(hours=2)).replace(tzinfo=None, microsecond=0)
    queue_post(services.db, make_user(), [x], at_local=later)
    assert dispatcher(services).run_once() == 0
    assert deliveries(services.db)[0].state is DeliveryState.SCHEDULED


def test_expired_token_fails_with_the_platforms_reason(services, sandbox, make_user, make_account):
    x, creds = make_account(Platform.X)
    requests.post(f"{sandbox.url}/sandbox/api/accounts/{creds['user_id']}/faults",
                  json={"expire_token": True}, timeout=10).raise_for_status()
    queue_post(services.db, make_user(), [x])
    dispatcher(services).run_once()
    failed = deliveries(services.db)[0]
    assert failed.state is DeliveryState.FAILED and failed.error_kind == "auth"
    with services.db.session() as session:
        states = [e.to_state for e in history(session, failed.id)]
    assert states == ["scheduled", "sending", "failed"]


def test_duplicate_text_on_x_fails_as_duplicate(services, make_user, make_account):
    x, _ = make_account(Platform.X)
    user = make_user()
    queue_post(services.db, user, [x], text="Samma text två gånger")
    dispatcher(services).run_once()
    queue_post(services.db, user, [x], text="Samma text två gånger")
    dispatcher(services).run_once()
    second = deliveries(services.db)[1]
    assert (second.state, second.error_kind) == (DeliveryState.FAILED, "duplicate")


def test_rate_limit_goes_back_to_the_queue_until_the_reset(services, sandbox, make_user,
                                                           make_account):
    x, creds = make_account(Platform.X)
    requests.post(f"{sandbox.url}/sandbox/api/accounts/{creds['user_id']}/faults",
                  json={"error_rate": 1.0, "error_status": 429}, timeout=10).raise_for_status()
    queue_post(services.db, make_user(), [x])
    dispatcher(services).run_once()
    retried = deliveries(services.db)[0]
    assert retried.state is DeliveryState.SCHEDULED and retried.error_kind == "rate_limited"
    assert retried.claimed_by is None and retried.due_at > retried.post.scheduled_at


def test_server_error_after_sending_is_not_resent_blindly(services, sandbox, make_user,
                                                          make_account):
    x, creds = make_account(Platform.X)
    requests.post(f"{sandbox.url}/sandbox/api/accounts/{creds['user_id']}/faults",
                  json={"error_rate": 1.0, "error_status": 503}, timeout=10).raise_for_status()
    queue_post(services.db, make_user(), [x])
    dispatcher(services).run_once()
    failed = deliveries(services.db)[0]
    assert (failed.state, failed.error_kind) == (DeliveryState.FAILED, "uncertain")


def test_two_workers_never_claim_the_same_delivery(services, make_user, make_account):
    x, _ = make_account(Platform.X)
    user = make_user()
    for n in range(6):
        queue_post(services.db, user, [x], text=f"Inlägg {n}")
    first = claim_due(services.db, "w1", limit=4)
    second = claim_due(services.db, "w2", limit=4)
    assert len(first) == 4 and len(second) == 2 and not set(first) & set(second)

"""After queueing or changing a post, the author hears of the same words or a post minutes apart
on the same account, in their language, and the post is queued all the same."""

from __future__ import annotations

from datetime import datetime, timedelta

from core.clock import STOCKHOLM
from core.users import Role
from publisher.models import Platform
from tests.factories import queue_post
from tests.web.conftest import csrf_token


def tomorrow(hour: int, minute: int = 0) -> datetime:
    day = datetime.now(STOCKHOLM) + timedelta(days=1)
    return day.replace(hour=hour, minute=minute, second=0, microsecond=0, tzinfo=None)


def test_queueing_the_same_words_again_warns_and_still_queues(services, logged_in,
                                                              make_account):
    x, _ = make_account(Platform.X, name="Distriktet på X")
    client, user = logged_in(Role.COMMS)
    queue_post(services.db, user, [x], text="Kom till torget!", at_local=tomorrow(9))
    page = client.post("/compose", data={
        "csrf_token": csrf_token(client, "/compose"), "text": "Kom till torget!",
        "accounts": [x.id], "when": "at", "scheduled_date": f"{tomorrow(18):%Y-%m-%d}",
        "scheduled_time": f"{tomorrow(18):%H:%M}"},
        follow_redirects=True).text
    assert "Inlägget ligger i kö för 1 konto." in page
    assert (f"Distriktet på X har redan ett inlägg med samma ord kl. {tomorrow(9):%Y-%m-%d} "
            "09:00") in page


def test_changing_a_post_close_to_another_warns(services, logged_in, make_account):
    page_account, _ = make_account(Platform.FACEBOOK, name="Arvika")
    client, user = logged_in(Role.COMMS)
    queue_post(services.db, user, [page_account], text="Möte i kväll i Folkets hus",
               at_local=tomorrow(12, 10))
    post = queue_post(services.db, user, [page_account], text="Valstugan",
                      at_local=tomorrow(15))
    quiet = client.get("/").text
    assert "har ett annat inlägg" not in quiet
    page = client.post(f"/posts/{post.id}/edit", data={
        "csrf_token": csrf_token(client, f"/posts/{post.id}/edit"), "text": "Valstugan",
        "accounts": [page_account.id], "when": "at", "scheduled_date": f"{tomorrow(12):%Y-%m-%d}",
        "scheduled_time": f"{tomorrow(12):%H:%M}"},
        follow_redirects=True).text
    assert "Inlägget är ändrat." in page
    assert f"Arvika har ett annat inlägg kl. {tomorrow(12, 10):%Y-%m-%d} 12:10" in page
    assert "Möte i kväll i Folkets hus" in page

"""Notices follow the state they describe, in the reader's language (seen with the sandbox's
faults on): a "may not have gone out" notice is resolved once the post is found; a first comment
whose answer was lost is not called unpublished when it is there; a duplicate refusal shows X's
own words and Megafon's explanation in Swedish."""

from __future__ import annotations

import re
from datetime import timedelta

from core.clock import utcnow
from core.users import Role, User
from publisher.dispatch import Dispatcher
from publisher.models import DeliveryState, Platform
from publisher.posts import PostDraft, create_post
from tests.factories import deliveries, queue_post
from tests.publisher.sandbox_faults import set_faults, stored_posts
from tests.web.conftest import csrf_token

S = DeliveryState
X_DUPLICATE = "You are not allowed to create a Tweet with duplicate content."


def run(services, later: int = 0) -> None:
    """One dispatcher tick, `later` seconds from now (past the reconcile delays)."""
    Dispatcher(services.db, services.platforms, services.box, "w1", concurrency=2,
               clock=lambda: utcnow() + timedelta(seconds=later)).run_once()


def badge(html: str) -> int:
    found = re.search(r'data-testid="notification-badge"[^>]*>(\d+)<', html)
    return int(found.group(1)) if found else 0


def test_a_may_not_have_gone_out_notice_is_resolved_once_the_post_is_found(
        services, sandbox, logged_in, make_account):
    x, creds = make_account(Platform.X, name="VP Torsby")
    author_client, author = logged_in(Role.COMMS)
    colleague_client, _ = logged_in(Role.COMMS)
    queue_post(services.db, author, [x], text="Svaret kom aldrig fram")
    set_faults(sandbox.url, creds["user_id"], drop_response_rate=1.0)
    run(services)                                # on X, but the answer is lost
    set_faults(sandbox.url, creds["user_id"], error_rate=1.0, error_status=503)
    run(services, later=10)                      # X cannot be asked: people are told
    [delivery] = deliveries(services.db)
    assert delivery.state is S.UNCERTAIN
    notices = colleague_client.get("/notifications").get_data(as_text=True)
    assert "Inlägget på VP Torsby har kanske inte publicerats" in notices
    assert badge(notices) == 1
    # The colleague reads it (and may be about to check X); the author has not looked yet.
    colleague_client.post("/notifications/read", data={
        "csrf_token": csrf_token(colleague_client, "/notifications"), "all": "1"})

    set_faults(sandbox.url, creds["user_id"])    # X answers again: reconciliation finds it
    run(services, later=60)
    assert deliveries(services.db)[0].state is S.PUBLISHED
    assert len(stored_posts(sandbox.url, creds["user_id"])) == 1

    overview = author_client.get("/").get_data(as_text=True)
    assert badge(overview) == 0                  # nothing stands as an unresolved problem
    author_notices = author_client.get("/notifications").get_data(as_text=True)
    assert "Löst: inlägget hittades på plattformen och är publicerat." in author_notices
    # Whoever read the warning hears the truth as news of its own.
    told = colleague_client.get("/notifications").get_data(as_text=True)
    assert badge(told) == 1
    assert "Inlägget på VP Torsby publicerades ändå" in told


def test_a_first_comment_whose_answer_was_lost_is_not_called_unpublished(
        services, sandbox, logged_in, make_account):
    fb, creds = make_account(Platform.FACEBOOK, name="VP Hagfors")
    client, author = logged_in(Role.COMMS)
    with services.db.session() as session:
        create_post(session, session.get(User, author.id), PostDraft(
            text="Läs hela rapporten", account_ids=[fb.id],
            first_comment="Rapporten: https://vansterpartiet.se/rapport"))
    set_faults(sandbox.url, creds["page_id"], drop_response_rate=1.0)
    run(services)             # the post is stored, its answer lost
    run(services, later=10)   # found; its first comment is written and that answer lost too
    [delivery] = deliveries(services.db)
    assert delivery.state is S.PUBLISHED
    comments = [p for p in stored_posts(sandbox.url, creds["page_id"]) if p["kind"] == "comment"]
    assert [c["text"] for c in comments] == ["Rapporten: https://vansterpartiet.se/rapport"]

    page = client.get(f"/deliveries/{delivery.id}").get_data(as_text=True)
    assert "hittat på plattformen efter ett förlorat svar" in page
    assert "första kommentaren publicerades inte" not in page
    assert "first comment" not in page


def test_a_refused_duplicate_shows_xs_own_words_and_megafons_explanation_in_swedish(
        services, sandbox, logged_in, make_account):
    x, _ = make_account(Platform.X, name="VP Kil")
    client, author = logged_in(Role.COMMS)
    queue_post(services.db, author, [x], text="Samma ord igen")
    run(services)
    queue_post(services.db, author, [x], text="Samma ord igen")
    run(services)              # X refuses the repeat: first look whether it was ours
    run(services, later=10)    # it was not: failed as a duplicate
    duplicate = deliveries(services.db)[1]
    assert (duplicate.state, duplicate.error_kind) == (S.FAILED, "duplicate")

    page = client.get(f"/deliveries/{duplicate.id}").get_data(as_text=True)
    assert "Plattformen svarade: " + X_DUPLICATE in page
    assert "Ändra formuleringen och skicka det igen." in page
    assert "plattformen vägrade den som en upprepning av en redan publicerad text: " \
        + X_DUPLICATE in page
    assert "refused duplicate" not in page and "plattformen vägrade en text som" not in page

    notices = client.get("/notifications").get_data(as_text=True)
    assert "Publiceringen på VP Kil misslyckades" in notices
    assert "Plattformen svarade: " + X_DUPLICATE in notices
    assert "refused duplicate" not in notices

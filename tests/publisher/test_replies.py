"""Replies where it was said, through the real tweepy and facebook-sdk clients to the sandbox
over HTTP: an X reply under the post, a Page comment under a comment on its post; queued,
sent and recorded like any post, and exactly once when the answer is lost between sending and
recording (the platform is asked first, and the reply is found under what it answers)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import facebook
import pytest
import requests
import tweepy
from sqlalchemy import select, update

from core.clock import utcnow
from core.i18n import ValidationErrors
from core.users import Role, User
from publisher.adapters.base import Content
from publisher.adapters.redirect import RewriteSession
from publisher.adapters.sandbox_directory import SandboxDirectory
from publisher.deliveries import history
from publisher.dispatch import Dispatcher
from publisher.metrics import MetricsSchedule, enrol_published
from publisher.models import Delivery, DeliveryState, Platform, Post
from publisher.posts import PostDraft, edit_post
from publisher.replies import ReplyTarget, create_reply
from tests.factories import deliveries
from tests.publisher.sandbox_faults import set_faults, stored_posts

S = DeliveryState
REPLY_GONE = "You attempted to reply to a Tweet that is deleted or not visible to you."


@pytest.fixture
def services(services_on_any_db):
    """Every test here on SQLite and on PostgreSQL."""
    return services_on_any_db


def dispatcher(services, later: int = 0) -> Dispatcher:
    return Dispatcher(services.db, services.platforms, services.box, "w1", concurrency=2,
                      media_root=services.settings.instance_path,
                      clock=lambda: utcnow() + timedelta(seconds=later))


def visible(sandbox, key: str) -> list[dict]:
    return [p for p in stored_posts(sandbox.url, key) if p["published"]]


def x_client(sandbox, creds: dict[str, str]) -> tweepy.Client:
    client = tweepy.Client(**{k: creds[k] for k in ("consumer_key", "consumer_secret",
                                                    "access_token", "access_token_secret")})
    client.session = RewriteSession(sandbox.url)
    return client


def graph(sandbox, creds: dict[str, str]) -> facebook.GraphAPI:
    api = facebook.GraphAPI(access_token=creds["page_access_token"],
                            session=RewriteSession(sandbox.url))
    api.version = "v21.0"
    return api


def stranger(sandbox, platform: str) -> dict[str, str]:
    """Someone else on the platform (not connected to Megafon)."""
    return SandboxDirectory(sandbox.url).create_account(platform, f"Väljare {uuid.uuid4().hex[:6]}")


def reply(services, user: User, target: ReplyTarget, account_id: int, text: str) -> Post:
    with services.db.session() as session:
        return create_reply(session, session.get(User, user.id), target, account_id, text)


def lose_the_record(services, delivery_id: int) -> None:
    """What a worker that died after the platform took the reply leaves behind: a claimed
    delivery whose outcome nobody recorded, found uncertain when its lease ran out."""
    with services.db.session() as session:
        session.execute(update(Delivery).where(Delivery.id == delivery_id).values(
            state=S.UNCERTAIN, next_attempt_at=utcnow(), attempts=1,
            first_attempt_at=utcnow() - timedelta(seconds=5)))


def events(services, delivery_id: int) -> list[tuple[str, str]]:
    with services.db.session() as session:
        return [(e.to_state, e.detail or "") for e in history(session, delivery_id)]


# -- X ---------------------------------------------------------------------------------------

def test_an_x_reply_lands_under_the_post_it_answers(services, sandbox, make_user, make_account):
    x, creds = make_account(Platform.X)
    voter = stranger(sandbox, "x")
    said = x_client(sandbox, voter).create_tweet(text="Varför dras busslinjerna in?",
                                                 user_auth=True).data["id"]
    post = reply(services, make_user(Role.COMMS), ReplyTarget(Platform.X, str(said)), x.id,
                 "För att regionen sparar. Vi vill behålla dem.")
    dispatcher(services).run_once()

    [tweet] = visible(sandbox, creds["user_id"])
    assert (tweet["text"], tweet["parent_id"]) == ("För att regionen sparar. Vi vill behålla dem.",
                                                   str(said))
    [delivery] = deliveries(services.db)
    assert (delivery.post_id, delivery.state, delivery.external_id) == \
        (post.id, S.PUBLISHED, tweet["id"])
    # The thread, as X shows it: the voter's post and our reply under it.
    page = requests.get(f"{sandbox.url}/sandbox/x/{voter['username']}/status/{said}",
                        timeout=10).text
    assert page.index(f'id="post-{said}"') < page.index(f'id="post-{tweet["id"]}"')
    ours = requests.get(delivery.external_url, timeout=10).text
    assert "Varför dras busslinjerna in?" in ours and f"@{voter['username']}" in ours


def test_an_x_reply_whose_answer_was_lost_is_found_under_the_post_and_not_sent_again(
        services, sandbox, make_user, make_account):
    x, creds = make_account(Platform.X)
    said = x_client(sandbox, stranger(sandbox, "x")).create_tweet(
        text="Vad tycker ni om taxan?", user_auth=True).data["id"]
    set_faults(sandbox.url, creds["user_id"], drop_response_rate=1.0)
    reply(services, make_user(), ReplyTarget(Platform.X, str(said)), x.id, "Den ska sänkas.")
    dispatcher(services).run_once()  # X stores the reply, its answer never arrives
    assert [d.state for d in deliveries(services.db)] == [S.UNCERTAIN]

    set_faults(sandbox.url, creds["user_id"])
    dispatcher(services, later=10).run_once()  # asked first: found, never resent
    dispatcher(services, later=60).run_once()
    [tweet] = visible(sandbox, creds["user_id"])
    [delivery] = deliveries(services.db)
    assert (delivery.state, delivery.external_id) == (S.PUBLISHED, tweet["id"])
    assert tweet["parent_id"] == str(said)


def test_an_x_reply_sent_before_a_crash_is_recorded_once_and_only_under_its_post(
        services, sandbox, make_user, make_account):
    x, creds = make_account(Platform.X)
    client = x_client(sandbox, stranger(sandbox, "x"))
    asked = client.create_tweet(text="Kommer bussen tillbaka?", user_auth=True).data["id"]
    other = client.create_tweet(text="Och tåget?", user_auth=True).data["id"]
    reply(services, make_user(), ReplyTarget(Platform.X, str(asked)), x.id,
          "Ja, om vi får bestämma.")
    [delivery] = deliveries(services.db)
    ours = x_client(sandbox, creds)
    # The same words under another post are not this reply; they are not taken as its record.
    ours.create_tweet(text="Ja, om vi får bestämma!", in_reply_to_tweet_id=other, user_auth=True)
    # An earlier attempt got the reply out and died before recording it.
    services.platforms.adapter(Platform.X).publish(
        creds, Content(text="Ja, om vi får bestämma.", reply_to=str(asked)))
    lose_the_record(services, delivery.id)
    dispatcher(services).run_once()

    tweets = visible(sandbox, creds["user_id"])
    under_asked = [t for t in tweets if t["parent_id"] == str(asked)]
    assert len(tweets) == 2 and len(under_asked) == 1
    done = deliveries(services.db)[0]
    assert (done.state, done.external_id) == (S.PUBLISHED, under_asked[0]["id"])


def test_a_reply_to_a_deleted_post_fails_with_xs_words(services, sandbox, make_user,
                                                       make_account):
    x, creds = make_account(Platform.X)
    voter = x_client(sandbox, stranger(sandbox, "x"))
    said = voter.create_tweet(text="Borttaget snart", user_auth=True).data["id"]
    voter.delete_tweet(said, user_auth=True)
    reply(services, make_user(), ReplyTarget(Platform.X, str(said)), x.id, "Svar i tomma luften")
    dispatcher(services).run_once()
    [delivery] = deliveries(services.db)
    assert delivery.state is S.FAILED and delivery.error_message == REPLY_GONE
    assert visible(sandbox, creds["user_id"]) == []


def test_the_sandbox_refuses_replies_to_unknown_tweets_in_xs_error_shape(sandbox):
    client = x_client(sandbox, stranger(sandbox, "x"))
    with pytest.raises(tweepy.Forbidden) as refused:
        client.create_tweet(text="Hallå?", in_reply_to_tweet_id="9999999999999", user_auth=True)
    assert refused.value.api_messages == [REPLY_GONE]
    body = refused.value.response.json()
    assert (body["status"], body["title"], body["type"]) == (403, "Forbidden", "about:blank")
    with pytest.raises(tweepy.BadRequest) as invalid:
        client.create_tweet(text="Hallå?", in_reply_to_tweet_id="inte-ett-id", user_auth=True)
    assert invalid.value.response.json()["title"] == "Invalid Request"


# -- Facebook --------------------------------------------------------------------------------

def page_post_with_comment(sandbox, creds: dict[str, str], words: str) -> tuple[str, str]:
    """Our Page's post and a visitor's comment under it."""
    post_id = graph(sandbox, creds).put_object(creds["page_id"], "feed",
                                               message=f"Öppet möte {uuid.uuid4().hex[:4]}")["id"]
    comment_id = graph(sandbox, stranger(sandbox, "facebook")).put_object(
        post_id, "comments", message=words)["id"]
    return post_id, comment_id


def test_a_facebook_reply_is_the_pages_comment_under_the_comment(services, sandbox, make_user,
                                                                 make_account):
    fb, creds = make_account(Platform.FACEBOOK)
    post_id, comment_id = page_post_with_comment(sandbox, creds, "När börjar mötet?")
    reply(services, make_user(), ReplyTarget(Platform.FACEBOOK, comment_id, fb.id), fb.id,
          "Klockan 18 i Folkets hus.")
    dispatcher(services).run_once()

    [delivery] = deliveries(services.db)
    [answer] = [p for p in visible(sandbox, creds["page_id"]) if p["kind"] == "comment"]
    assert (answer["parent_id"], answer["text"]) == (comment_id, "Klockan 18 i Folkets hus.")
    assert (delivery.state, delivery.external_id) == (S.PUBLISHED, answer["id"])
    page = requests.get(delivery.external_url, timeout=10).text  # the post, as Facebook shows it
    assert page.index("När börjar mötet?") < page.index("Klockan 18 i Folkets hus.")
    assert f'id="post-{answer["id"]}" class="comment reply"' in page


def test_a_facebook_reply_whose_answer_was_lost_is_found_and_written_once(
        services, sandbox, make_user, make_account):
    fb, creds = make_account(Platform.FACEBOOK)
    _, comment_id = page_post_with_comment(sandbox, creds, "Var kan jag läsa förslaget?")
    set_faults(sandbox.url, creds["page_id"], drop_response_rate=1.0)
    reply(services, make_user(), ReplyTarget(Platform.FACEBOOK, comment_id, fb.id), fb.id,
          "På vår webbplats.")
    dispatcher(services).run_once()
    assert [d.state for d in deliveries(services.db)] == [S.UNCERTAIN]

    set_faults(sandbox.url, creds["page_id"])
    dispatcher(services, later=10).run_once()
    dispatcher(services, later=60).run_once()
    answers = [p for p in visible(sandbox, creds["page_id"]) if p["kind"] == "comment"]
    [delivery] = deliveries(services.db)
    assert [a["parent_id"] for a in answers] == [comment_id]
    assert (delivery.state, delivery.external_id) == (S.PUBLISHED, answers[0]["id"])
    assert any("found" in detail.lower() for _, detail in events(services, delivery.id))


def test_a_facebook_reply_not_found_under_its_comment_is_sent_again_there(
        services, sandbox, make_user, make_account):
    fb, creds = make_account(Platform.FACEBOOK)
    _, asked = page_post_with_comment(sandbox, creds, "Fråga ett")
    _, other = page_post_with_comment(sandbox, creds, "Fråga två")
    reply(services, make_user(), ReplyTarget(Platform.FACEBOOK, asked, fb.id), fb.id, "Svaret")
    graph(sandbox, creds).put_object(other, "comments", message="Svaret")  # elsewhere: not it
    [delivery] = deliveries(services.db)
    lose_the_record(services, delivery.id)
    dispatcher(services).run_once()
    assert deliveries(services.db)[0].state is S.RETRY_WAIT
    with services.db.session() as session:
        session.execute(update(Delivery).where(Delivery.id == delivery.id)
                        .values(next_attempt_at=utcnow()))
    dispatcher(services).run_once()
    answers = [p for p in visible(sandbox, creds["page_id"]) if p["kind"] == "comment"]
    assert sorted(a["parent_id"] for a in answers) == sorted([asked, other])
    assert deliveries(services.db)[0].state is S.PUBLISHED


# -- who may reply --------------------------------------------------------------------------

def test_only_the_page_that_owns_the_post_may_comment_and_x_replies_need_an_x_account(
        services, sandbox, make_user, make_account, make_org):
    fb, creds = make_account(Platform.FACEBOOK)
    other_page, _ = make_account(Platform.FACEBOOK)
    x, _ = make_account(Platform.X)
    _, comment_id = page_post_with_comment(sandbox, creds, "Hej sidan")
    user = make_user(Role.COMMS)
    target = ReplyTarget(Platform.FACEBOOK, comment_id, fb.id)
    for account in (other_page, x):
        with pytest.raises(ValidationErrors) as refused:
            reply(services, user, target, account.id, "Från fel konto")
        assert [e.field for e in refused.value.errors] == ["account"]
    with pytest.raises(ValidationErrors) as refused:
        reply(services, user, ReplyTarget(Platform.X, "123"), fb.id, "Från en sida")
    assert [e.field for e in refused.value.errors] == ["account"]
    with pytest.raises(ValidationErrors) as empty:
        reply(services, user, target, None, "  ")
    assert sorted(e.field for e in empty.value.errors) == ["account", "text"]
    assert deliveries(services.db) == []


def test_an_x_reply_gets_its_numbers_fetched_and_a_page_comment_is_left_out(
        services, sandbox, make_user, make_account):
    x, _ = make_account(Platform.X)
    fb, creds = make_account(Platform.FACEBOOK)
    said = x_client(sandbox, stranger(sandbox, "x")).create_tweet(
        text="Siffror?", user_auth=True).data["id"]
    _, comment_id = page_post_with_comment(sandbox, creds, "Och på Facebook?")
    user = make_user()
    reply(services, user, ReplyTarget(Platform.X, str(said)), x.id, "Svar på X")
    reply(services, user, ReplyTarget(Platform.FACEBOOK, comment_id, fb.id), fb.id, "Svar här")
    dispatcher(services).run_once()
    x_delivery, fb_delivery = deliveries(services.db)
    assert (x_delivery.state, fb_delivery.state) == (S.PUBLISHED, S.PUBLISHED)
    # Graph has no shares or post fields on a comment: only the tweet is followed.
    assert enrol_published(services.db) == 1
    with services.db.session() as session:
        assert session.scalars(select(MetricsSchedule.delivery_id)).all() == [x_delivery.id]


def test_a_queued_reply_changes_its_words_but_not_its_account(services, sandbox, make_user,
                                                              make_account):
    x, _ = make_account(Platform.X)
    page, _ = make_account(Platform.FACEBOOK)
    user = make_user()
    post = reply(services, user, ReplyTarget(Platform.X, "4711"), x.id, "Första orden")
    with services.db.session() as session:
        author = session.get(User, user.id)
        with pytest.raises(ValidationErrors) as refused:
            edit_post(session, author, post.id, PostDraft(text="Hej", account_ids=[x.id, page.id]))
        assert "keeps the account it answers from" in refused.value.errors[0].message
    with services.db.session() as session:
        edited = edit_post(session, session.get(User, user.id), post.id,
                           PostDraft(text="Bättre ord", account_ids=[x.id]))
        assert (edited.text, edited.reply_to_external_id) == ("Bättre ord", "4711")
        assert [d.account_id for d in edited.deliveries] == [x.id]

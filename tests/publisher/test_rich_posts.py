"""Richer posts through the real clients to the sandbox: images with alt text, X threads (all or
nothing), a first comment on Facebook, and images too large for a platform."""

from datetime import timedelta
from pathlib import Path

import pytest
import requests
import tweepy
from sqlalchemy import update

from core.clock import utcnow
from core.i18n import ValidationErrors
from core.users import Role, User
from publisher.adapters.base import Content
from publisher.adapters.redirect import RewriteSession
from publisher.deliveries import history
from publisher.dispatch import Dispatcher
from publisher.media import store_image
from publisher.models import Delivery, DeliveryState, MediaFile, Platform, Post, PostMedia
from publisher.posts import DraftImage, PostDraft, create_post
from publisher.user_messages import explanation_for
from tests.factories import count, deliveries
from tests.media_images import noise, picture
from tests.publisher.sandbox_faults import set_faults, stored_posts

S = DeliveryState
ALT = "Tre personer delar ut flygblad vid Stora torget i Karlstad."


def dispatcher(services, later: int = 0) -> Dispatcher:
    return Dispatcher(services.db, services.platforms, services.box, "w1", concurrency=2,
                      media_root=services.settings.instance_path,
                      clock=lambda: utcnow() + timedelta(seconds=later))


def upload(services, data: bytes, name: str = "bild.png") -> int:
    with services.db.session() as session:
        return store_image(session, services.settings.instance_path, data, name=name,
                           user_id=None).id


def queue(services, user: User, accounts, text: str, **draft) -> Post:
    with services.db.session() as session:
        return create_post(session, session.get(User, user.id),
                           PostDraft(text=text, account_ids=[a.id for a in accounts], **draft))


def visible(sandbox, key: str, kind: str | None = None) -> list[dict]:
    return [p for p in stored_posts(sandbox.url, key)
            if p["published"] and (kind is None or p["kind"] == kind)]


def x_client(sandbox, creds) -> tweepy.Client:
    client = tweepy.Client(**{k: creds[k] for k in ("consumer_key", "consumer_secret",
                                                    "access_token", "access_token_secret")})
    client.session = RewriteSession(sandbox.url)
    return client


def edit_delivery(services, delivery_id: int, **values) -> None:
    with services.db.session() as session:
        session.execute(update(Delivery).where(Delivery.id == delivery_id).values(**values))


def events(services, delivery_id: int) -> list[tuple[str, str]]:
    with services.db.session() as session:
        return [(e.to_state, e.detail or "") for e in history(session, delivery_id)]


# -- images ----------------------------------------------------------------------------------

def test_an_image_with_alt_text_goes_to_x_and_facebook(services, sandbox, make_user,
                                                       make_account):
    x, x_creds = make_account(Platform.X)
    fb, fb_creds = make_account(Platform.FACEBOOK)
    image = upload(services, picture("PNG", (120, 80)))
    queue(services, make_user(Role.COMMS), [x, fb], "Vi delar ut flygblad i dag",
          media=[DraftImage(image, ALT, "flygblad.png")])
    dispatcher(services).run_once()
    assert [d.state for d in deliveries(services.db)] == [S.PUBLISHED, S.PUBLISHED]

    [tweet] = visible(sandbox, x_creds["user_id"])
    assert [(m["mime"], m["width"], m["alt_text"]) for m in tweet["media"]] == [
        ("image/png", 120, ALT)]
    [photo] = visible(sandbox, fb_creds["page_id"])
    assert photo["kind"] == "photo" and photo["text"] == "Vi delar ut flygblad i dag"
    assert [m["alt_text"] for m in photo["media"]] == [ALT]
    page = requests.get(deliveries(services.db)[1].external_url, timeout=10).text
    assert f'alt="{ALT}"' in page
    media_url = f"{sandbox.url}/sandbox/media/{photo['media'][0]['id']}"
    assert requests.get(media_url, timeout=10).headers["Content-Type"] == "image/png"


def test_several_images_on_facebook_are_one_post_with_attached_photos(
        services, sandbox, make_user, make_account):
    fb, creds = make_account(Platform.FACEBOOK)
    images = [DraftImage(upload(services, picture("PNG", color=(n * 60, 0, 0))), f"Bild {n}")
              for n in range(1, 4)]
    queue(services, make_user(), [fb], "Tre bilder från mötet", media=images,
          link="https://vansterpartiet.se/varmland")
    dispatcher(services).run_once()
    [post] = visible(sandbox, creds["page_id"])
    assert post["kind"] == "post" and post["id"] == deliveries(services.db)[0].external_id
    assert post["text"] == "Tre bilder från mötet\n\nhttps://vansterpartiet.se/varmland"
    assert [m["alt_text"] for m in post["media"]] == ["Bild 1", "Bild 2", "Bild 3"]


def test_a_link_post_leaves_the_preview_to_facebook_and_appends_the_link_on_x(
        services, sandbox, make_user, make_account):
    x, x_creds = make_account(Platform.X)
    fb, fb_creds = make_account(Platform.FACEBOOK)
    queue(services, make_user(), [x, fb], "Läs vårt budgetförslag",
          link="https://vansterpartiet.se/budget")
    dispatcher(services).run_once()
    [post] = visible(sandbox, fb_creds["page_id"])
    assert (post["text"], post["link"]) == ("Läs vårt budgetförslag",
                                            "https://vansterpartiet.se/budget")
    [tweet] = visible(sandbox, x_creds["user_id"])
    assert tweet["text"] == "Läs vårt budgetförslag\n\nhttps://vansterpartiet.se/budget"


# -- threads ---------------------------------------------------------------------------------

def test_an_x_thread_of_three_is_a_reply_chain_published_once(services, sandbox, make_user,
                                                              make_account):
    x, creds = make_account(Platform.X)
    queue(services, make_user(), [x], "Tråd om kollektivtrafiken 1/3",
          thread=["Bussarna ska gå oftare 2/3", "", "Och kosta mindre 3/3"])
    dispatcher(services).run_once()
    dispatcher(services, later=60).run_once()  # nothing left to do: nothing sent twice

    tweets = visible(sandbox, creds["user_id"])
    assert [t["text"] for t in tweets] == ["Tråd om kollektivtrafiken 1/3",
                                           "Bussarna ska gå oftare 2/3", "Och kosta mindre 3/3"]
    assert [t["parent_id"] for t in tweets] == [None, tweets[0]["id"], tweets[1]["id"]]
    [delivery] = deliveries(services.db)
    assert (delivery.state, delivery.external_id) == (S.PUBLISHED, tweets[0]["id"])
    page = requests.get(delivery.external_url, timeout=10).text
    first = page.index(f'id="post-{tweets[0]["id"]}"')
    assert first < page.index('class="replies"') < page.index(f'id="post-{tweets[2]["id"]}"')


def test_a_thread_whose_second_part_is_refused_leaves_nothing_visible(
        services, sandbox, make_user, make_account):
    x, creds = make_account(Platform.X)
    x_client(sandbox, creds).create_tweet(text="Vi syns på torget", user_auth=True)
    queue(services, make_user(), [x], "Lördag 1/3", thread=["Vi syns på torget", "Kom! 3/3"])
    dispatcher(services).run_once()
    dispatcher(services, later=10).run_once()  # reconciled: nothing of ours is out

    assert [t["text"] for t in visible(sandbox, creds["user_id"])] == ["Vi syns på torget"]
    [delivery] = deliveries(services.db)
    assert (delivery.state, delivery.error_kind) == (S.FAILED, "duplicate")
    assert any("thread part 2 of 3: You are not allowed to create a Tweet with duplicate "
               "content." in detail for _, detail in events(services, delivery.id))


def test_a_thread_cut_short_by_a_lost_answer_is_taken_back_and_sent_whole(
        services, sandbox, make_user, make_account):
    x, creds = make_account(Platform.X)
    set_faults(sandbox.url, creds["user_id"], drop_response_rate=1.0)
    queue(services, make_user(), [x], "Budget 1/2", thread=["Mer till skolan 2/2"])
    dispatcher(services).run_once()  # the first tweet is stored, its answer lost
    assert [d.state for d in deliveries(services.db)] == [S.UNCERTAIN]
    assert len(visible(sandbox, creds["user_id"])) == 1

    set_faults(sandbox.url, creds["user_id"])
    dispatcher(services, later=10).run_once()  # found without its reply: deleted, queued again
    [delivery] = deliveries(services.db)
    assert delivery.state is S.RETRY_WAIT and visible(sandbox, creds["user_id"]) == []
    edit_delivery(services, delivery.id, next_attempt_at=utcnow())
    dispatcher(services).run_once()
    tweets = visible(sandbox, creds["user_id"])
    assert [t["text"] for t in tweets] == ["Budget 1/2", "Mer till skolan 2/2"]
    assert deliveries(services.db)[0].external_id == tweets[0]["id"]


def test_a_whole_thread_found_on_reconcile_counts_as_published(services, sandbox, make_user,
                                                               make_account):
    x, creds = make_account(Platform.X)
    queue(services, make_user(), [x], "Klart 1/2", thread=["Helt klart 2/2"])
    [delivery] = deliveries(services.db)
    client = x_client(sandbox, creds)  # an earlier attempt got it all out, then lost its answer
    first = client.create_tweet(text="Klart 1/2", user_auth=True).data["id"]
    client.create_tweet(text="Helt klart 2/2", in_reply_to_tweet_id=first, user_auth=True)
    edit_delivery(services, delivery.id, state=S.UNCERTAIN, next_attempt_at=utcnow(),
                  first_attempt_at=utcnow() - timedelta(seconds=5), attempts=1)
    dispatcher(services).run_once()
    done = deliveries(services.db)[0]
    assert (done.state, done.external_id) == (S.PUBLISHED, str(first))
    assert len(visible(sandbox, creds["user_id"])) == 2


# -- first comment ---------------------------------------------------------------------------

def test_the_first_comment_appears_under_the_facebook_post(services, sandbox, make_user,
                                                           make_account):
    fb, creds = make_account(Platform.FACEBOOK)
    x, x_creds = make_account(Platform.X)
    queue(services, make_user(), [fb, x], "Ny rapport om hyrorna",
          first_comment="Hela rapporten: https://vansterpartiet.se/hyror")
    dispatcher(services).run_once()
    post, comment = visible(sandbox, creds["page_id"])
    assert (comment["kind"], comment["parent_id"]) == ("comment", post["id"])
    assert comment["text"] == "Hela rapporten: https://vansterpartiet.se/hyror"
    assert "Hela rapporten" in requests.get(deliveries(services.db)[0].external_url,
                                            timeout=10).text
    assert [t["kind"] for t in visible(sandbox, x_creds["user_id"])] == ["tweet"]


def test_a_refused_first_comment_keeps_the_post_and_says_so_in_the_history(
        services, sandbox, make_user, make_account):
    fb, creds = make_account(Platform.FACEBOOK)
    post = queue(services, make_user(), [fb], "Inlägg med en för lång kommentar",
                 first_comment="kort")
    with services.db.session() as session:  # past the compose check, as an older row could be
        session.execute(update(Post).where(Post.id == post.id).values(first_comment="x" * 8001))
    dispatcher(services).run_once()
    [delivery] = deliveries(services.db)
    assert delivery.state is S.PUBLISHED
    assert [p["kind"] for p in visible(sandbox, creds["page_id"])] == ["post"]
    assert "the first comment was not posted" in events(services, delivery.id)[-1][1]


def test_a_facebook_post_found_after_a_lost_answer_gets_its_first_comment_once(
        services, sandbox, make_user, make_account):
    fb, creds = make_account(Platform.FACEBOOK)
    set_faults(sandbox.url, creds["page_id"], drop_response_rate=1.0)
    queue(services, make_user(), [fb], "Hyrorna stiger igen", first_comment="Läs mer: vp.se")
    dispatcher(services).run_once()  # the post is stored, its answer lost: no comment yet
    assert [d.state for d in deliveries(services.db)] == [S.UNCERTAIN]
    assert [p["kind"] for p in visible(sandbox, creds["page_id"])] == ["post"]

    set_faults(sandbox.url, creds["page_id"])
    dispatcher(services, later=10).run_once()
    [delivery] = deliveries(services.db)
    post, comment = visible(sandbox, creds["page_id"])
    assert (delivery.state, delivery.external_id) == (S.PUBLISHED, post["id"])
    assert (comment["kind"], comment["parent_id"], comment["text"]) == \
        ("comment", post["id"], "Läs mer: vp.se")


def test_a_first_comment_already_there_is_not_written_again_on_reconcile(
        services, sandbox, make_user, make_account):
    fb, creds = make_account(Platform.FACEBOOK)
    queue(services, make_user(), [fb], "Allt kom ut", first_comment="Och kommentaren med")
    [delivery] = deliveries(services.db)
    # An earlier attempt got the post and its comment out, then died before recording it.
    services.platforms.adapter(Platform.FACEBOOK).publish(
        creds, Content(text="Allt kom ut", first_comment="Och kommentaren med"))
    edit_delivery(services, delivery.id, state=S.UNCERTAIN, next_attempt_at=utcnow(),
                  first_attempt_at=utcnow() - timedelta(seconds=5), attempts=1)
    dispatcher(services).run_once()
    assert deliveries(services.db)[0].state is S.PUBLISHED
    assert [p["kind"] for p in visible(sandbox, creds["page_id"])] == ["post", "comment"]


# -- what compose refuses ------------------------------------------------------------------------

def test_an_image_over_xs_5_mb_is_refused_at_compose_with_a_clear_message(
        services, make_user, make_account):
    x, _ = make_account(Platform.X)
    fb, _ = make_account(Platform.FACEBOOK)
    big = upload(services, noise(6), name="affisch.png")
    with pytest.raises(ValidationErrors) as refused:
        queue(services, make_user(), [x, fb], "Stor bild",
              media=[DraftImage(big, "Affischen", "affisch.png")])
    messages = [str(e) for e in refused.value.for_field("media")]
    assert messages == [
        "affisch.png is 6.0 MB, larger than Facebook accepts (4 MB). Choose a smaller picture, "
        "or do not publish this post to Facebook.",
        "affisch.png is 6.0 MB, larger than X accepts (5 MB). Choose a smaller picture, or do "
        "not publish this post to X."]
    assert count(services.db, Post) == 0 and count(services.db, Delivery) == 0


def test_compose_refuses_what_the_platforms_would(services, make_user, make_account):
    fb, _ = make_account(Platform.FACEBOOK)
    x, _ = make_account(Platform.X)
    image = upload(services, picture("PNG"))
    with pytest.raises(ValidationErrors) as refused:
        queue(services, make_user(), [fb], "Bara Facebook", thread=["En fortsättning"],
              media=[DraftImage(image)] * 5)
    fields = {e.field: str(e) for e in refused.value.errors}
    assert fields["thread"].startswith("A thread is published only on X")
    assert fields["media"] == "At most 4 images per post."
    with pytest.raises(ValidationErrors) as refused:
        queue(services, make_user(), [x], "Bara X", first_comment="Hej",
              thread=["b" * 281, "Bara X"], media=[DraftImage(image, "a" * 1001)])
    messages = sorted(str(e) for e in refused.value.errors)
    assert messages == [
        "A first comment is written only on Facebook: choose a Facebook page, or remove the "
        "comment.",
        "Part 2 of the thread is too long for X: 281 of 280 characters (every link counts as "
        "23).",
        "Part 3 of the thread repeats an earlier part: X refuses the same text twice.",
        "The description of #1 is too long for X: 1001 of 1000 characters."]
    assert count(services.db, Post) == 0 and count(services.db, PostMedia) == 0


# -- what the platform refuses anyway --------------------------------------------------------------

def _swap_in(services, post: Post, data: bytes) -> None:
    """Attach an image compose would refuse (as if the limits had changed since queueing)."""
    big = upload(services, data, name="stor.png")
    with services.db.session() as session:
        session.execute(update(PostMedia).where(PostMedia.post_id == post.id)
                        .values(media_id=big))


def test_an_oversized_image_reaching_x_fails_as_rejected_naming_the_image(
        services, sandbox, make_user, make_account):
    x, creds = make_account(Platform.X)
    post = queue(services, make_user(), [x], "Bilden är för stor",
                 media=[DraftImage(upload(services, picture("PNG")), "Liten")])
    _swap_in(services, post, noise(6, seed=2))
    dispatcher(services).run_once()
    [delivery] = deliveries(services.db)
    assert (delivery.state, delivery.error_kind) == (S.FAILED, "rejected")
    assert delivery.error_message == "image 1: File size exceeds 5242880 bytes."
    assert explanation_for(delivery.error_kind).startswith("The platform refused the post's")
    assert visible(sandbox, creds["user_id"]) == []


def test_an_oversized_photo_reaching_facebook_fails_as_rejected_naming_the_image(
        services, sandbox, make_user, make_account):
    fb, creds = make_account(Platform.FACEBOOK)
    post = queue(services, make_user(), [fb], "Fotot är för stort",
                 media=[DraftImage(upload(services, picture("PNG")), "Liten")])
    _swap_in(services, post, noise(4.5, seed=3))
    dispatcher(services).run_once()
    [delivery] = deliveries(services.db)
    assert (delivery.state, delivery.error_kind) == (S.FAILED, "rejected")
    assert delivery.error_message.startswith("image 1: Invalid parameter (Your photos couldn't "
                                             "be uploaded. Photos should be less than 4 MB")
    assert visible(sandbox, creds["page_id"]) == []


def test_a_missing_media_file_fails_with_a_message_naming_the_image(
        services, sandbox, make_user, make_account):
    x, _ = make_account(Platform.X)
    queue(services, make_user(), [x], "Filen försvann",
          media=[DraftImage(upload(services, picture("JPEG")), "Borta")])
    with services.db.session() as session:
        stored = session.query(MediaFile).one()
        Path(services.settings.instance_path, stored.path).unlink()
    dispatcher(services).run_once()
    [delivery] = deliveries(services.db)
    assert (delivery.state, delivery.error_message) == (
        S.FAILED, "image 1: the stored file is missing")

"""A queued post can be changed until any of it is on its way; a worker sends either the old
version or the new one, never a mix, and never after the author was told it changed."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from core.auth import create_user
from core.clock import STOCKHOLM, to_local, utcnow
from core.i18n import ValidationErrors
from core.users import Role, User
from publisher.accounts import NotAllowed
from publisher.deliveries import WAITING, claim_due, history
from publisher.dispatch import Dispatcher
from publisher.media import store_image
from publisher.models import Delivery, DeliveryState, Platform, Post
from publisher.posts import DraftImage, PostDraft, create_post, edit_post
from publisher.services import Services
from tests.conftest import PASSWORD, build_services, connect_sandbox_account
from tests.factories import deliveries, queue_post
from tests.media_images import picture
from tests.publisher.sandbox_faults import stored_posts

S = DeliveryState


@pytest.fixture
def services(services_on_any_db: Services) -> Services:
    return services_on_any_db


def in_an_hour() -> datetime:
    return (datetime.now(STOCKHOLM) + timedelta(hours=1)).replace(
        tzinfo=None, second=0, microsecond=0)


def edit(services, user, post_id: int, **changes) -> Post:
    """Change a post as the composer would: whatever is not named stays as it is."""
    with services.db.session() as session:
        post = session.get(Post, post_id)
        waiting = [d.account_id for d in post.deliveries if d.state in WAITING]
        kept = [DraftImage(m.media_id, m.alt_text) for m in post.media]
        draft = PostDraft(text=changes.pop("text", post.text),
                          account_ids=[a.id for a in changes.pop("accounts", [])] or waiting,
                          media=changes.pop("media", kept),
                          link=changes.pop("link", post.link),
                          scheduled_local=changes.pop(
                              "at", to_local(post.scheduled_at).replace(
                                  tzinfo=None, second=0, microsecond=0)),
                          thread=changes.pop("thread", [p.text for p in post.parts]),
                          first_comment=changes.pop("first_comment", post.first_comment))
        return edit_post(session, session.get(User, user.id), post_id, draft)


def test_new_words_and_time_are_what_goes_out(services, sandbox, make_user, make_account):
    x, x_creds = make_account(Platform.X)
    fb, _ = make_account(Platform.FACEBOOK)
    author = make_user(Role.COMMS)
    post = queue_post(services.db, author, [x, fb], text="Torgmöte i Kil kl 12",
                      at_local=in_an_hour())
    edit(services, author, post.id, text="Torgmöte i Kil kl 13 – nu med fika!", at=None)

    assert {d.state for d in deliveries(services.db)} == {S.SCHEDULED}
    assert Dispatcher(services.db, services.platforms, services.box, "w1").run_once() == 2
    assert [p["text"] for p in stored_posts(sandbox.url, x_creds["user_id"])] == [
        "Torgmöte i Kil kl 13 – nu med fika!"]
    with services.db.session() as session:
        notes = [e.detail for e in history(session, deliveries(services.db)[0].id)]
    assert f"edited by {author.name}" in notes


def test_a_time_that_has_passed_may_stay_when_only_the_words_change(services, make_user,
                                                                      make_account):
    x, _ = make_account(Platform.X)
    author = make_user(Role.COMMS)
    post = queue_post(services.db, author, [x], text="Försenad")
    with services.db.session() as session:  # a retry is waiting; the post's minute has passed
        earlier = utcnow() - timedelta(minutes=10)
        session.execute(update(Post).values(scheduled_at=earlier))
        session.execute(update(Delivery).values(state=S.RETRY_WAIT, due_at=earlier))
    edit(services, author, post.id, text="Försenad, men rättad")
    [delivery] = deliveries(services.db)
    assert (delivery.state, delivery.due_at) == (S.RETRY_WAIT, earlier)
    with pytest.raises(ValidationErrors) as refused:
        edit(services, author, post.id, at=to_local(earlier).replace(tzinfo=None, second=0,
                                                                      microsecond=0)
             - timedelta(minutes=5))
    assert refused.value.errors[0].field == "scheduled_at"


@pytest.mark.parametrize("state", [S.SENDING, S.UNCERTAIN, S.PUBLISHED])
def test_once_any_of_it_is_on_its_way_nothing_changes(services, make_user, make_account,
                                                      state):
    x, _ = make_account(Platform.X)
    fb, _ = make_account(Platform.FACEBOOK)
    author = make_user(Role.COMMS)
    post = queue_post(services.db, author, [x, fb], text="Redan på väg",
                      at_local=in_an_hour())
    with services.db.session() as session:
        session.execute(update(Delivery).where(Delivery.account_id == x.id)
                        .values(state=state))
    with pytest.raises(ValidationErrors) as refused:
        edit(services, author, post.id, text="För sent att ändra")
    assert "can no longer be changed" in refused.value.errors[0].message
    with services.db.session() as session:
        assert session.get(Post, post.id).text == "Redan på väg"


def test_bad_changes_are_all_reported_and_nothing_is_saved(services, make_user, make_account):
    x, _ = make_account(Platform.X)
    author = make_user(Role.COMMS)
    post = queue_post(services.db, author, [x], text="Kort", at_local=in_an_hour())
    with pytest.raises(ValidationErrors) as refused:
        edit(services, author, post.id, text="x" * 300, first_comment="Bara på Facebook")
    assert {e.field for e in refused.value.errors} == {"text", "first_comment"}
    with services.db.session() as session:
        assert session.get(Post, post.id).text == "Kort"


def test_another_organisations_post_is_not_yours_to_change(services, make_user, make_org,
                                                           make_account):
    karlstad, arvika = make_org("Karlstad"), make_org("Arvika")
    page, _ = make_account(Platform.FACEBOOK, organisation=karlstad)
    author = make_user(Role.COMMS, organisation=karlstad)
    post = queue_post(services.db, author, [page], text="Karlstads", at_local=in_an_hour())
    with pytest.raises(NotAllowed):
        edit(services, make_user(Role.COMMS, organisation=arvika), post.id, text="Arvikas")


def dispatcher(services) -> Dispatcher:
    return Dispatcher(services.db, services.platforms, services.box, "w1",
                      media_root=services.settings.instance_path)


def states_by_account(services) -> dict[int, DeliveryState]:
    return {d.account_id: d.state for d in deliveries(services.db)}


def notes_of(services, delivery_id: int) -> list[str]:
    with services.db.session() as session:
        return [e.detail for e in history(session, delivery_id)]


def test_accounts_taken_off_and_put_on_are_where_it_goes_out(services, sandbox, make_user,
                                                              make_account):
    district, district_creds = make_account(Platform.X)
    karlstad, karlstad_creds = make_account(Platform.FACEBOOK)
    arvika, arvika_creds = make_account(Platform.FACEBOOK)
    author = make_user(Role.COMMS)
    post = queue_post(services.db, author, [district, karlstad], text="Valstugan öppnar",
                      at_local=in_an_hour())
    edit(services, author, post.id, accounts=[district, arvika], at=None)

    assert states_by_account(services) == {
        district.id: S.SCHEDULED, karlstad.id: S.CANCELLED, arvika.id: S.SCHEDULED}
    [taken_off] = [d for d in deliveries(services.db) if d.account_id == karlstad.id]
    assert notes_of(services, taken_off.id)[-1] == f"removed from the post by {author.name}"
    [put_on] = [d for d in deliveries(services.db) if d.account_id == arvika.id]
    assert notes_of(services, put_on.id) == [f"added to the post by {author.name}"]

    assert dispatcher(services).run_once() == 2
    assert [p["text"] for p in stored_posts(sandbox.url, district_creds["user_id"])] == [
        "Valstugan öppnar"]
    assert [p["text"] for p in stored_posts(sandbox.url, arvika_creds["page_id"])] == [
        "Valstugan öppnar"]
    assert stored_posts(sandbox.url, karlstad_creds["page_id"]) == []


def test_an_account_whose_delivery_failed_is_queued_again_with_the_new_words(
        services, sandbox, make_user, make_account):
    x, x_creds = make_account(Platform.X)
    fb, _ = make_account(Platform.FACEBOOK)
    author = make_user(Role.COMMS)
    post = queue_post(services.db, author, [x, fb], text="Samma text som i går",
                      at_local=in_an_hour())
    with services.db.session() as session:  # X refused it as a duplicate
        session.execute(update(Delivery).where(Delivery.account_id == x.id).values(
            state=S.FAILED, error_kind="duplicate", attempts=1))
    edit(services, author, post.id, text="Ny text i dag", accounts=[x, fb], at=None)

    [again] = [d for d in deliveries(services.db) if d.account_id == x.id]
    assert (again.state, again.attempts, again.error_kind) == (S.SCHEDULED, 0, None)
    assert notes_of(services, again.id)[-1] == f"added to the post by {author.name}"
    assert dispatcher(services).run_once() == 2
    assert [p["text"] for p in stored_posts(sandbox.url, x_creds["user_id"])] == [
        "Ny text i dag"]


def test_pictures_are_described_anew_taken_out_and_added(services, sandbox, make_user,
                                                        make_account):
    x, x_creds = make_account(Platform.X)
    author = make_user(Role.COMMS)
    with services.db.session() as session:
        first, second, third = (
            store_image(session, services.settings.instance_path,
                        picture("PNG", (40 + n, 30)), name=f"bild{n}.png", user_id=author.id).id
            for n in range(3))
        post = create_post(session, session.get(User, author.id), PostDraft(
            text="Bilder från torget", account_ids=[x.id], scheduled_local=in_an_hour(),
            media=[DraftImage(first, "Gammal beskrivning"), DraftImage(second, "Ska bort")]))
    edit(services, author, post.id, at=None, media=[
        DraftImage(first, "Tre personer vid Stora torget"), DraftImage(third, "En banderoll")])

    dispatcher(services).run_once()
    [tweet] = stored_posts(sandbox.url, x_creds["user_id"])
    assert [(m["width"], m["alt_text"]) for m in tweet["media"]] == [
        (40, "Tre personer vid Stora torget"), (42, "En banderoll")]


def test_taking_every_account_off_is_refused(services, make_user, make_account):
    x, _ = make_account(Platform.X)
    author = make_user(Role.COMMS)
    post = queue_post(services.db, author, [x], text="Kvar", at_local=in_an_hour())
    with services.db.session() as session, pytest.raises(ValidationErrors) as refused:
        edit_post(session, session.get(User, author.id), post.id,
                  PostDraft(text="Kvar", account_ids=[]))
    assert [e.field for e in refused.value.errors] == ["accounts"]
    assert states_by_account(services) == {x.id: S.SCHEDULED}


def test_an_account_outside_your_organisation_cannot_be_put_on(services, make_user, make_org,
                                                               make_account):
    karlstad, arvika = make_org("Karlstad"), make_org("Arvika")
    own, _ = make_account(Platform.FACEBOOK, organisation=karlstad)
    theirs, _ = make_account(Platform.FACEBOOK, organisation=arvika)
    author = make_user(Role.COMMS, organisation=karlstad)
    post = queue_post(services.db, author, [own], text="Karlstads", at_local=in_an_hour())
    with pytest.raises(NotAllowed):
        edit(services, author, post.id, accounts=[own, theirs])
    assert states_by_account(services) == {own.id: S.SCHEDULED}


@pytest.mark.postgres
def test_a_claim_waits_for_nothing_and_takes_the_new_version(tmp_path, postgres_url, sandbox):
    """While an edit holds the post's deliveries, a worker's claim passes them by (SKIP
    LOCKED); once it commits, the worker sends the new words."""
    pg = build_services(tmp_path / "pg", postgres_url, sandbox.url)
    try:
        x, _ = connect_sandbox_account(pg, Platform.X)
        with pg.db.session() as session:
            author = create_user(session, email="redaktor@example.org", name="Redaktör",
                                 password=PASSWORD, role=Role.COMMS)
        post = queue_post(pg.db, author, [x], text="Gammal text")
        with pg.db.session() as session:
            edit_post(session, session.get(User, author.id), post.id, PostDraft(
                text="Ny text", account_ids=[x.id]))
            assert claim_due(pg.db, "w1") == []  # held by the edit, not waited for
        [claimed] = claim_due(pg.db, "w1")
        with pg.db.session() as session:
            delivery = session.get(Delivery, claimed)
            assert session.scalar(select(Post.text).where(Post.id == delivery.post_id)) == \
                "Ny text"
    finally:
        pg.db.dispose()

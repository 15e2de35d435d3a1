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
from publisher.deliveries import claim_due, history
from publisher.dispatch import Dispatcher
from publisher.models import Delivery, DeliveryState, Platform, Post
from publisher.posts import PostDraft, edit_post
from publisher.services import Services
from tests.conftest import PASSWORD, build_services, connect_sandbox_account
from tests.factories import deliveries, queue_post
from tests.publisher.sandbox_faults import stored_posts

S = DeliveryState


@pytest.fixture
def services(services_on_any_db: Services) -> Services:
    return services_on_any_db


def in_an_hour() -> datetime:
    return (datetime.now(STOCKHOLM) + timedelta(hours=1)).replace(
        tzinfo=None, second=0, microsecond=0)


def edit(services, user, post_id: int, **changes) -> Post:
    with services.db.session() as session:
        post = session.get(Post, post_id)
        draft = PostDraft(text=changes.pop("text", post.text), account_ids=[],
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
                text="Ny text", account_ids=[]))
            assert claim_due(pg.db, "w1") == []  # held by the edit, not waited for
        [claimed] = claim_due(pg.db, "w1")
        with pg.db.session() as session:
            delivery = session.get(Delivery, claimed)
            assert session.scalar(select(Post.text).where(Post.id == delivery.post_id)) == \
                "Ny text"
    finally:
        pg.db.dispose()

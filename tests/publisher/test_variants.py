"""Other words per network: the text X gets and the text a Page gets, each checked by its own
network's rules and each published where it belongs (real tweepy and facebook-sdk clients
against the sandbox)."""

import pytest

from core.i18n import ValidationErrors
from core.users import Role, User
from publisher.models import DeliveryState, Platform, Post
from publisher.posts import PostDraft, edit_post
from tests.factories import deliveries
from tests.publisher.test_rich_posts import dispatcher, queue, visible

LINK = "https://vansterpartiet.se/varmland"
LONG = "Välfärden i Värmland ska inte säljas ut. " * 10  # about 420 characters


def test_each_network_gets_its_own_words(services, sandbox, make_user, make_account):
    x, x_creds = make_account(Platform.X)
    fb, fb_creds = make_account(Platform.FACEBOOK)
    queue(services, make_user(Role.COMMS), [x, fb], LONG.strip(), link=LINK,
          text_x="Välfärden ska inte säljas ut #välfärd", text_facebook=None)
    dispatcher(services).run_once()
    assert [d.state for d in deliveries(services.db)] == [DeliveryState.PUBLISHED] * 2

    [tweet] = visible(sandbox, x_creds["user_id"])
    assert tweet["text"] == f"Välfärden ska inte säljas ut #välfärd\n\n{LINK}"
    [page_post] = visible(sandbox, fb_creds["page_id"])
    assert page_post["text"].startswith(LONG.strip())
    assert "#välfärd" not in page_post["text"]


def test_facebook_variant_goes_to_the_page_and_the_one_text_to_x(services, sandbox, make_user,
                                                                  make_account):
    x, x_creds = make_account(Platform.X)
    fb, fb_creds = make_account(Platform.FACEBOOK)
    queue(services, make_user(Role.COMMS), [x, fb], "Kort för X",
          text_facebook="En längre text för sidan, med hela resonemanget.")
    dispatcher(services).run_once()
    assert [t["text"] for t in visible(sandbox, x_creds["user_id"])] == ["Kort för X"]
    assert [p["text"] for p in visible(sandbox, fb_creds["page_id"])] == [
        "En längre text för sidan, med hela resonemanget."]


def test_x_counts_the_x_words_and_facebook_its_own(services, make_user, make_account):
    x, _ = make_account(Platform.X)
    fb, _ = make_account(Platform.FACEBOOK)
    user = make_user(Role.COMMS)
    # The one text is too long for X, but X has its own words: accepted.
    post = queue(services, user, [x, fb], LONG, text_x="Kort nog")
    assert post.id
    # X's own words too long: refused at that field, nothing saved.
    with pytest.raises(ValidationErrors) as refused:
        queue(services, user, [x, fb], "Kort", text_x=LONG)
    assert [e.field for e in refused.value.errors] == ["text_x"]
    with pytest.raises(ValidationErrors) as refused:
        queue(services, user, [fb], "Kort", text_facebook="ö" * 63_207)
    assert [e.field for e in refused.value.errors] == ["text_facebook"]
    with services.db.session() as session:
        assert session.query(Post).count() == 1


def test_blank_variants_are_none_and_an_edit_can_add_or_clear_them(services, make_user,
                                                                   make_account):
    x, _ = make_account(Platform.X)
    user = make_user(Role.COMMS)
    post = queue(services, user, [x], "Ett", text_x="   ", text_facebook="")
    with services.db.session() as session:
        saved = session.get(Post, post.id)
        assert (saved.text_x, saved.text_facebook) == (None, None)
        assert saved.text_for(Platform.X) == "Ett"
        acting = session.get(User, user.id)
        edit_post(session, acting, post.id, PostDraft(text="Ett", account_ids=[x.id],
                                                      text_x="Två på X"))
        session.commit()
        assert session.get(Post, post.id).text_for(Platform.X) == "Två på X"
        assert session.get(Post, post.id).text_for(Platform.FACEBOOK) == "Ett"
        edit_post(session, acting, post.id, PostDraft(text="Ett", account_ids=[x.id]))
        session.commit()
        assert session.get(Post, post.id).text_x is None

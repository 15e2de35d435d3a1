"""Svara: a mention that is an X post or a comment on one of our Pages is answered in its thread,
from an account that may write there; the reply is queued like any post, and the mention shows
it and its state. Another association's account is refused (403), bad input is said at its field.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import tweepy
from sqlalchemy import select

from core.db import Database
from core.users import Role
from monitor.models import Mention, MentionWatchlist, Sighting, Source, SourceKind, Watchlist
from publisher.adapters.redirect import RewriteSession
from publisher.adapters.sandbox_directory import SandboxDirectory
from publisher.dispatch import Dispatcher
from publisher.models import Delivery, DeliveryState, Platform, Post
from tests.factories import count, deliveries
from tests.web.browser import LiveMegafon, Megafon, artifact, chromium
from tests.web.conftest import csrf_token


@pytest.fixture
def services(services_on_any_db):
    """Every test here on SQLite and on PostgreSQL."""
    return services_on_any_db


def _watchlist(session) -> int:
    found = session.scalar(select(Watchlist.id).where(Watchlist.name == "Kollektivtrafik"))
    if found is None:
        watchlist = Watchlist(name="Kollektivtrafik", query="buss*")
        session.add(watchlist)
        session.flush()
        found = watchlist.id
    return found


def mention_from(db: Database, kind: SourceKind, item_key: str, account_id: int | None = None,
                 title: str = "@valjare: Varför dras bussen in?") -> int:
    """A mention as X search or Page comments would have stored it: the source it was read
    through and the sighting that names the post or comment."""
    with db.session() as session:
        config = {"account": str(account_id)} if account_id else {"query": "buss"}
        source = Source(name=f"Källa {uuid.uuid4().hex[:6]}", kind=kind, outlet="X"
                        if kind is SourceKind.X_SEARCH else "Facebook", config=json.dumps(config))
        session.add(source)
        session.flush()
        mention = Mention(title=title, text=title.split(": ", 1)[-1], source_kind=kind,
                          outlet=source.outlet, url=f"https://example.org/{item_key}",
                          watchlists=[MentionWatchlist(watchlist_id=_watchlist(session))])
        mention.sightings.append(Sighting(source_id=source.id, item_key=item_key,
                                          outlet=source.outlet, title=title))
        session.add(mention)
        session.flush()
        return mention.id


def tweet_by_a_voter(sandbox, text: str = "Varför dras bussen in?") -> str:
    creds = SandboxDirectory(sandbox.url).create_account("x", f"Väljare {uuid.uuid4().hex[:6]}")
    client = tweepy.Client(**{k: creds[k] for k in ("consumer_key", "consumer_secret",
                                                    "access_token", "access_token_secret")})
    client.session = RewriteSession(sandbox.url)
    return str(client.create_tweet(text=f"{text} {uuid.uuid4().hex[:4]}",
                                   user_auth=True).data["id"])


def radio_values(html: str) -> set[str]:
    return set(re.findall(r'type="radio" name="account" value="(\d+)"', html))


def post_reply(client, mention_id: int, data: dict[str, object]):
    token = csrf_token(client, f"/mentions/{mention_id}/reply")
    return client.post(f"/mentions/{mention_id}/reply", data={**data, "csrf_token": token})


def test_an_x_mention_is_answered_in_its_thread_from_our_x_accounts_only(
        services, sandbox, db, logged_in, make_account):
    x, creds = make_account(Platform.X, name=f"VP Värmland X {uuid.uuid4().hex[:6]}")
    x2, _ = make_account(Platform.X, name=f"VP Karlstad X {uuid.uuid4().hex[:6]}")
    page, _ = make_account(Platform.FACEBOOK, name=f"VP Värmland sida {uuid.uuid4().hex[:6]}")
    said = tweet_by_a_voter(sandbox)
    mention_id = mention_from(db, SourceKind.X_SEARCH, f"x:{said}")
    client, _ = logged_in(Role.COMMS)

    detail = client.get(f"/mentions/{mention_id}").get_data(as_text=True)
    assert f'href="/mentions/{mention_id}/reply"' in detail and 'data-testid="respond"' in detail
    html = client.get(f"/mentions/{mention_id}/reply").get_data(as_text=True)
    assert radio_values(html) == {str(x.id), str(x2.id)}  # no Page: X replies come from X
    assert 'data-testid="new-post"' in html  # beside it, today's way: a new post with the link

    response = post_reply(client, mention_id, {"account": x.id, "text": "Vi vill behålla den."})
    assert response.status_code == 302
    assert response.location.endswith(f"/mentions/{mention_id}")
    with db.session() as session:
        post = session.scalar(select(Post))
        assert (post.text, post.reply_to_platform, post.reply_to_external_id) == \
            ("Vi vill behålla den.", "x", said)
        assert session.get(Mention, mention_id).response_post_id == post.id

    Dispatcher(services.db, services.platforms, services.box, "w1").run_once()
    [delivery] = deliveries(db)
    assert delivery.state is DeliveryState.PUBLISHED, (delivery.error_kind, delivery.error_message)
    stored = requests.get(f"{sandbox.url}/sandbox/api/accounts/{creds['user_id']}/posts",
                          timeout=10).json()
    assert [(p["parent_id"], p["id"]) for p in stored] == [(said, delivery.external_id)]
    shown = client.get(f"/mentions/{mention_id}").get_data(as_text=True)
    assert 'data-testid="response-kind"' in shown and "Vi vill behålla den." in shown
    assert f'href="/deliveries/{delivery.id}"' in shown
    assert 'data-state="published"' in shown and delivery.external_url in shown
    queue_page = client.get(f"/deliveries/{delivery.id}").get_data(as_text=True)
    assert "Ett svar i tråden där det sades." in queue_page


def test_a_page_comment_is_answered_only_by_the_page_that_owns_the_post(
        db, logged_in, make_account, make_org):
    own = make_org()
    page, _ = make_account(Platform.FACEBOOK, organisation=own)
    make_account(Platform.FACEBOOK, organisation=own)
    make_account(Platform.X, organisation=own)
    mention_id = mention_from(db, SourceKind.FB_COMMENTS, "fb:1234_5678", page.id,
                              title="Eva: När är mötet?")
    client, _ = logged_in(Role.COMMS, own)
    html = client.get(f"/mentions/{mention_id}/reply").get_data(as_text=True)
    assert radio_values(html) == {str(page.id)}
    assert post_reply(client, mention_id, {"account": page.id, "text": "Klockan 18."}
                      ).status_code == 302
    with db.session() as session:
        post = session.scalar(select(Post))
        assert (post.reply_to_platform, post.reply_to_external_id) == ("facebook", "1234_5678")
        assert [d.account_id for d in post.deliveries] == [page.id]


def test_another_associations_account_is_refused_and_nothing_is_saved(
        db, logged_in, make_account, make_org):
    own, other = make_org(), make_org()
    mine, _ = make_account(Platform.X, organisation=own)
    theirs, _ = make_account(Platform.X, organisation=other)
    their_page, _ = make_account(Platform.FACEBOOK, organisation=other)
    x_mention = mention_from(db, SourceKind.X_SEARCH, "x:4711")
    fb_mention = mention_from(db, SourceKind.FB_COMMENTS, "fb:99_100", their_page.id)
    client, _ = logged_in(Role.COMMS, own)

    assert radio_values(client.get(f"/mentions/{x_mention}/reply").get_data(as_text=True)) \
        == {str(mine.id)}
    html = client.get(f"/mentions/{fb_mention}/reply").get_data(as_text=True)
    assert radio_values(html) == set() and 'data-testid="no-reply-account"' in html
    assert 'data-testid="reply-link"' not in client.get(f"/mentions/{fb_mention}").get_data(
        as_text=True)
    for mention_id, account in ((x_mention, theirs), (fb_mention, their_page)):
        response = post_reply(client, mention_id, {"account": account.id, "text": "Hej"})
        assert response.status_code == 403
    assert count(db, Post) == 0 and count(db, Delivery) == 0
    with db.session() as session:
        assert session.get(Mention, fb_mention).response_post_id is None


def test_bad_input_is_said_at_its_field_in_swedish_and_nothing_is_saved(
        db, logged_in, make_account):
    x, _ = make_account(Platform.X)
    page, _ = make_account(Platform.FACEBOOK)
    x_mention = mention_from(db, SourceKind.X_SEARCH, "x:4712")
    client, _ = logged_in(Role.COMMS)

    cases = [({"account": x.id, "text": "   "}, "Skriv något att publicera."),
             ({"text": "Hej"}, "Välj kontot att svara från."),
             ({"account": "inte-ett-id", "text": "Hej"}, "Välj kontot att svara från."),
             ({"account": page.id, "text": "Hej"}, "Välj ett av våra X-konton att svara från."),
             ({"account": x.id, "text": "x" * 300}, "För långt för X"),
             ({"account": x.id, "text": "Hej\x00"}, "styrtecknen")]
    for data, message in cases:
        response = post_reply(client, x_mention, data)
        assert response.status_code == 400, data
        html = response.get_data(as_text=True)
        assert message in html, (data, html[html.find("field-error") - 200:][:600])
        assert 'class="field-error"' in html
    feed = mention_from(db, SourceKind.FEED, "https://example.org/nyhet", title="Nyhet om bussen")
    html = client.get(f"/mentions/{feed}/reply").get_data(as_text=True)
    assert 'data-testid="no-thread"' in html and 'data-testid="reply-form"' not in html
    refused = post_reply(client, feed, {"account": x.id, "text": "Hej"})
    assert refused.status_code == 400 and "kan inte besvaras i sin tråd" in \
        refused.get_data(as_text=True)
    assert count(db, Post) == 0


def test_board_members_cannot_open_or_send_a_reply(db, logged_in, make_account):
    x, _ = make_account(Platform.X)
    mention_id = mention_from(db, SourceKind.X_SEARCH, "x:4713")
    client, _ = logged_in(Role.BOARD)
    assert client.get(f"/mentions/{mention_id}/reply").status_code == 403
    assert post_reply_as_board(client, mention_id, x.id).status_code == 403
    assert count(db, Post) == 0


def post_reply_as_board(client, mention_id: int, account_id: int):
    token = csrf_token(client, "/")
    return client.post(f"/mentions/{mention_id}/reply",
                       data={"account": account_id, "text": "Hej", "csrf_token": token})


# -- in Chromium ------------------------------------------------------------------------------

@pytest.fixture
def live_db(tmp_path: Path, megafon: LiveMegafon) -> Iterator[Database]:
    db = Database(f"sqlite:///{tmp_path / 'megafon.db'}")  # the live server's database
    yield db
    db.dispose()


@pytest.mark.browser
def test_the_reply_form_in_chromium_queues_and_shows_the_reply(megafon: LiveMegafon,
                                                               live_db: Database, sandbox):
    from playwright.sync_api import expect

    said = tweet_by_a_voter(sandbox, "Varför dras linje 3 in?")
    mention_id = mention_from(live_db, SourceKind.X_SEARCH, f"x:{said}",
                              title="@valjare: Varför dras linje 3 in?")
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        person = Megafon(context.new_page(), megafon)
        page = person.page
        person.log_in()
        person.open("/accounts/")
        person.connect_sandbox_account("x", f"VP Värmland {uuid.uuid4().hex[:4]}")
        page.goto(f"{megafon.url}/mentions/{mention_id}")
        page.click("[data-testid=reply-link]")
        expect(page.locator("h1")).to_have_text("Svara")
        expect(page.locator("[data-testid=reply-account]")).to_have_count(1)
        expect(page.locator("[data-testid=reply-account]")).to_be_checked()
        page.fill("#reply-text", "Vi kämpar för att linje 3 ska finnas kvar.")
        page.screenshot(path=str(artifact("mention-reply-form.png")), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})  # on a phone: nothing sideways
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1
        page.screenshot(path=str(artifact("phone-mention-reply-form.png")), full_page=True)
        page.click("[data-testid=send-reply]")
        page.wait_for_load_state()
        expect(page.locator("[data-testid=response-kind]")).to_have_text(
            "Ett svar i tråden där det sades.")
        published = page.locator("[data-testid=response-delivery] [data-state=published]")
        for _ in range(30):  # the live server's scheduler sends it within a few seconds
            if published.count():
                break
            page.wait_for_timeout(1000)
            page.reload()
        expect(published).to_have_count(1)
        page.screenshot(path=str(artifact("mention-reply-sent.png")), full_page=True)
        context.close()
    with live_db.session() as session:
        [delivery] = session.scalars(select(Delivery)).unique().all()
        thread = requests.get(f"{sandbox.url}/sandbox/api/accounts/"
                              f"{delivery.account.external_id}/posts", timeout=10).json()
    assert [p["parent_id"] for p in thread] == [said]

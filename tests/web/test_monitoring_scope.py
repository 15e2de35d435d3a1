"""Monitoring and the association limit (issue 14, findings 4 and 5).

Watchlists, people and the news sources are the district's: only district users who set up
monitoring change them. An association's user manages the platform sources that read through
their own association's accounts, and is offered only those accounts. X-search and Page-comment
sources made through the pages work end to end: the real form, the real poller with tweepy and
facebook-sdk against the sandbox, mentions in the log."""

from __future__ import annotations

import json
import uuid

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from core.db import Database
from core.users import Role
from monitor.models import Mention, Person, Source, SourceKind, SourceState, Watchlist
from monitor.polling import LiveIngest, poll_source
from publisher.models import Platform
from schedules.monitoring import build_context
from tests.factories import count
from tests.web.conftest import csrf_token


@pytest.fixture
def services(services_on_any_db):
    """Everything in this module runs on SQLite and on PostgreSQL."""
    return services_on_any_db


def post(client: FlaskClient, path: str, **data: object):
    data["csrf_token"] = csrf_token(client, "/")
    return client.post(path, data=data)


def add_source(db: Database, kind: SourceKind = SourceKind.FEED, **config: object) -> int:
    with db.session() as session:
        source = Source(name=f"Källa {uuid.uuid4().hex[:6]}", kind=kind, outlet="NWT",
                        url="https://nwt.se/rss" if kind is SourceKind.FEED else None,
                        config=json.dumps(config), state=SourceState.OK)
        session.add(source)
        session.flush()
        return source.id


def add_watchlist(db: Database, name: str = "Vården", query: str = "vård*") -> int:
    with db.session() as session:
        watchlist = Watchlist(name=name, query=query)
        session.add(watchlist)
        session.flush()
        return watchlist.id


def add_person(db: Database) -> int:
    with db.session() as session:
        person = Person(name="Anna Andersson", aliases="", party="V", title="")
        session.add(person)
        session.flush()
        return person.id


@pytest.fixture
def two_associations(make_org, make_account):
    own, other = make_org("Vänsterpartiet Arvika"), make_org("Vänsterpartiet Karlstad")
    own_x, _ = make_account(Platform.X, organisation=own, name="Arvika på X")
    other_page, _ = make_account(Platform.FACEBOOK, organisation=other, name="Karlstads sida")
    other_x, _ = make_account(Platform.X, organisation=other, name="Karlstad på X")
    return own, own_x, other_page, other_x


def source_state(db: Database, source_id: int) -> SourceState:
    with db.session() as session:
        return session.get(Source, source_id).state


# --- Finding 4: the association limit ---------------------------------------------------------


def test_association_user_is_offered_only_its_own_accounts(logged_in, two_associations):
    own, own_x, other_page, other_x = two_associations
    client, _ = logged_in(Role.COMMS, organisation=own)
    page = client.get("/sources/new").text
    assert f'value="{own_x.id}"' in page
    assert f'value="{other_page.id}"' not in page and "Karlstads sida" not in page
    assert f'value="{other_x.id}"' not in page
    assert 'value="feed"' not in page  # news sources are the district's


def test_association_user_cannot_make_a_source_read_with_another_associations_account(
        db, logged_in, two_associations):
    own, own_x, other_page, other_x = two_associations
    client, _ = logged_in(Role.COMMS, organisation=own)
    assert post(client, "/sources/new", name="Intrång", kind="fb_comments", outlet="FB",
                account_id=other_page.id, interval_minutes=5).status_code == 403
    assert post(client, "/sources/new", name="Intrång", kind="x_search", query="Karlstad",
                account_id=other_x.id, interval_minutes=5).status_code == 403
    assert post(client, "/sources/new", name="Intrång", kind="feed", outlet="NWT",
                url="https://nwt.se/rss", interval_minutes=5).status_code == 403
    assert count(db, Source) == 0
    response = post(client, "/sources/new", name="Arvika på X", kind="x_search", query="Arvika",
                    account_id=own_x.id, interval_minutes=5)
    assert response.status_code == 302  # its own account: fine
    assert count(db, Source) == 1


def test_association_user_cannot_touch_the_districts_or_another_associations_sources(
        db, logged_in, two_associations):
    own, own_x, other_page, other_x = two_associations
    client, _ = logged_in(Role.COMMS, organisation=own)
    feed = add_source(db)
    theirs = add_source(db, SourceKind.FB_COMMENTS, account=str(other_page.id))
    mine = add_source(db, SourceKind.X_SEARCH, account=str(own_x.id), query="Arvika")
    listed = client.get("/sources").text
    with db.session() as session:
        names = {s.id: s.name for s in session.scalars(select(Source))}
    assert names[mine] in listed and names[feed] not in listed and names[theirs] not in listed
    for source_id in (feed, theirs):
        assert client.get(f"/sources/{source_id}").status_code == 403
        assert post(client, f"/sources/{source_id}/pause").status_code == 403
        assert source_state(db, source_id) is SourceState.OK
        assert post(client, f"/sources/{source_id}", name="Kapad", kind="feed", outlet="X",
                    url="https://example.org/rss", interval_minutes=5).status_code == 403
    assert client.get("/sources/999999").status_code == 404
    assert post(client, f"/sources/{mine}/pause").status_code == 302
    assert source_state(db, mine) is SourceState.PAUSED


def test_association_user_cannot_change_the_districts_watchlists_or_people(db, logged_in,
                                                                           two_associations):
    own = two_associations[0]
    client, _ = logged_in(Role.COMMS, organisation=own)
    watchlist, person = add_watchlist(db), add_person(db)
    assert 'data-testid="add-watchlist"' not in client.get("/watchlists").text
    assert 'data-testid="district-only"' in client.get("/people").text
    assert post(client, f"/watchlists/{watchlist}/delete").status_code == 403
    assert post(client, f"/watchlists/{watchlist}", name="Kapad", query="x",
                priority="normal").status_code == 403
    assert post(client, "/watchlists/new", name="Egen", query="egen",
                priority="normal").status_code == 403
    assert post(client, f"/people/{person}/delete").status_code == 403
    assert post(client, "/people", name="Ny Person", party="V").status_code == 403
    with db.session() as session:
        assert session.get(Watchlist, watchlist).name == "Vården"
        assert session.get(Person, person) is not None
        assert count(db, Watchlist) == 1 and count(db, Person) == 1


def test_district_user_manages_every_source_and_the_watchlists(db, logged_in, two_associations):
    own, own_x, other_page, other_x = two_associations
    client, _ = logged_in(Role.COMMS)  # the district
    theirs = add_source(db, SourceKind.FB_COMMENTS, account=str(other_page.id))
    assert f'value="{other_page.id}"' in client.get("/sources/new").text
    assert post(client, f"/sources/{theirs}/pause").status_code == 302
    watchlist = add_watchlist(db)
    assert post(client, f"/watchlists/{watchlist}/delete").status_code == 302


# --- Finding 5: platform sources made in the pages work ---------------------------------------


def mentions_with(db: Database, word: str) -> list[Mention]:
    with db.session() as session:
        return [m for m in session.scalars(select(Mention)) if word in (m.text or "")]


def test_an_x_search_made_in_the_form_brings_mentions(services, db, sandbox, logged_in,
                                                      make_account):
    word = f"busskaos{uuid.uuid4().hex[:6]}"
    add_watchlist(db, "Kollektivtrafik", word)
    account, _ = make_account(Platform.X, name="Distriktet på X")
    client, _ = logged_in(Role.COMMS)
    response = post(client, "/sources/new", name="X: bussar", kind="x_search", query=word,
                    account_id=account.id, interval_minutes=5)
    assert response.status_code == 302, response.text
    with db.session() as session:
        source_id = session.scalar(select(Source.id))
    author = sandbox.state.account(sandbox.state.add_account("x", "Pendlare Pärsson")["user_id"])
    sandbox.state.add_post(author, "tweet", f"Ingen buss i Arvika i dag, {word} igen")

    outcome = poll_source(db, source_id, build_context(services), LiveIngest())

    assert outcome.outcome == "ok", outcome.error
    assert len(mentions_with(db, word)) == 1


def test_page_comments_made_in_the_form_bring_mentions(services, db, sandbox, logged_in,
                                                       make_account):
    word = f"akutstängning{uuid.uuid4().hex[:6]}"
    add_watchlist(db, "Vården", word)
    account, creds = make_account(Platform.FACEBOOK, name="Distriktets sida")
    client, _ = logged_in(Role.COMMS)
    response = post(client, "/sources/new", name="Kommentarer", kind="fb_comments",
                    outlet="Facebook", account_id=account.id, interval_minutes=5)
    assert response.status_code == 302, response.text
    with db.session() as session:
        source_id = session.scalar(select(Source.id))
    state = sandbox.state
    page = state.account(creds["page_id"])
    visitor = state.account(state.add_account("facebook", "Besökare Berg")["page_id"])
    made = state.add_post(page, "post", "Akuten i Arvika ska vara öppen!",
                          post_id=f"{page.key}_{state.new_id()}")
    state.add_post(visitor, "comment", f"Nej till {word}!", parent=made,
                   post_id=f"{made.id.split('_')[-1]}_{state.new_id()}")

    outcome = poll_source(db, source_id, build_context(services), LiveIngest())

    assert outcome.outcome == "ok", outcome.error
    assert len(mentions_with(db, word)) == 1


def test_a_demo_source_reading_with_a_sandbox_account_keeps_it_when_edited(db, logged_in):
    source_id = add_source(db, SourceKind.X_SEARCH, account="x:Megafon Bevakning",
                           query="Värmland")
    client, _ = logged_in(Role.COMMS)
    response = post(client, f"/sources/{source_id}", name="Omdöpt", kind="x_search",
                    query="Värmland OR Karlstad", account_id="", interval_minutes=5)
    assert response.status_code == 302, response.text
    with db.session() as session:
        config = json.loads(session.get(Source, source_id).config)
    assert config == {"query": "Värmland OR Karlstad", "account": "x:Megafon Bevakning"}

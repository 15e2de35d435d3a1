"""Setting up monitoring through the pages: issues with their queries, sources, clippings,
people and one's own alerts. Bad input is refused with a message at the field, saving nothing."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from core.clock import STOCKHOLM, utcnow
from core.db import Database
from core.users import Role
from monitor.models import (
    AlertSubscription,
    Mention,
    Person,
    Priority,
    Source,
    SourceKind,
    SourcePoll,
    SourceState,
    Watchlist,
)
from publisher.models import Platform
from tests.factories import count
from tests.web.conftest import csrf_token
from tests.web.mention_seeds import seed_mentions


@pytest.fixture
def comms(logged_in) -> FlaskClient:
    client, _ = logged_in(Role.COMMS)
    client.post("/language/en", data={"csrf_token": csrf_token(client, "/")})
    return client


def post(client: FlaskClient, path: str, **data: object):
    data["csrf_token"] = csrf_token(client, "/mentions")
    return client.post(path, data=data)


def add_watchlist(db: Database, name: str = "Kollektivtrafik", query: str = "kollektivtrafik*",
                  **values: object) -> int:
    with db.session() as session:
        watchlist = Watchlist(name=name, query=query, **values)
        session.add(watchlist)
        session.flush()
        return watchlist.id


def yesterday_at(hour: int, minute: int) -> datetime:
    day = datetime.now(STOCKHOLM).date() - timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=STOCKHOLM)


YESTERDAY = {"published_date": f"{yesterday_at(6, 30):%Y-%m-%d}",  # as typed in the form
             "published_time": f"{yesterday_at(6, 30):%H:%M}"}


# --- Issues (watchlists) ----------------------------------------------------------------------


def test_an_issue_is_added_and_edited(db, comms):
    response = post(comms, "/watchlists/new", name="Vården i Arvika",
                    query='vårdcentral* NEAR/5 Arvika OR "Arvika sjukhus"', priority="high",
                    active="y")
    assert response.status_code == 302
    with db.session() as session:
        found = session.scalar(select(Watchlist))
        assert (found.name, found.priority, found.active) == ("Vården i Arvika", Priority.HIGH,
                                                              True)
        watchlist_id = found.id
    assert "Vården i Arvika" in comms.get("/watchlists").text
    response = post(comms, f"/watchlists/{watchlist_id}", name="Vården i Arvika",
                    query="vårdcentral* Arvika", priority="normal")  # Active unticked
    assert response.status_code == 302
    with db.session() as session:
        found = session.get(Watchlist, watchlist_id)
        assert (found.query, found.priority, found.active) == ("vårdcentral* Arvika",
                                                               Priority.NORMAL, False)


@pytest.mark.parametrize("query, position", [
    ("(buss OR tåg", None),
    ("buss NEAR/x tåg", 6),
    ("bu*", 1),
    ("NOT hockey", None),
])
def test_a_malformed_query_shows_where_and_saves_nothing(query, position, db, comms):
    response = post(comms, "/watchlists/new", name="Trasig", query=query, priority="normal")
    assert response.status_code == 400
    message = re.search(r'<p class="field-error" role="alert">At character (\d+): ([^<]+)</p>',
                        response.text)
    assert message, response.text
    if position is not None:
        assert int(message.group(1)) == position
    assert count(db, Watchlist) == 0
    assert "Trasig" in response.text  # what was typed is kept


def test_the_query_error_is_translated(db, logged_in):
    client, _ = logged_in(Role.COMMS)  # Swedish by default
    response = post(client, "/watchlists/new", name="Trasig", query="bu*", priority="normal")
    assert response.status_code == 400
    assert re.search(r"Vid tecken 1: [^<]+", response.text), response.text


def test_a_duplicate_name_and_an_empty_query_are_refused_together(db, comms):
    add_watchlist(db, "Skolan", "skola*")
    response = post(comms, "/watchlists/new", name="skolan", query="  ", priority="normal")
    assert response.status_code == 400
    assert "There is already an issue called skolan." in response.text
    assert "Write the query: the words that find this issue." in response.text
    assert count(db, Watchlist) == 1


def test_test_this_query_shows_recent_matches_highlighted(db, comms):
    seed_mentions(db)
    response = post(comms, "/watchlists/test", name="", query="vårdcentral* Torsby",
                    priority="normal")
    assert response.status_code == 200
    assert "1 match in the last 30 days" in response.text
    assert '<mark class="hit">Vårdcentralen</mark>' in response.text
    assert '<mark class="hit">Torsby</mark>' in response.text
    assert 'id="watchlist-form"' in response.text  # the whole page, form kept, without script
    fragment = post(comms, "/watchlists/test", query="hockey", fragment="1")
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert "2 matches in the last 30 days" in fragment.text
    assert count(db, Watchlist) == 2  # testing saves nothing


def test_test_this_query_shows_the_error_position(db, comms):
    response = post(comms, "/watchlists/test", query="buss AND (tåg", fragment="1")
    assert response.status_code == 200
    assert 'data-testid="query-error"' in response.text
    assert re.search(r"At character \d+: ", response.text)
    assert '<mark class="error-at"' in response.text


def test_old_mentions_are_not_searched_by_the_query_test(db, comms):
    seed_mentions(db, now=utcnow() - timedelta(days=31))
    response = post(comms, "/watchlists/test", query="hockey", fragment="1")
    assert "Nothing in the last 30 days matches this query." in response.text


def test_deleting_an_issue_keeps_its_mentions(db, comms):
    seeded = seed_mentions(db)
    response = post(comms, f"/watchlists/{seeded.care_id}/delete")
    assert response.status_code == 302
    with db.session() as session:
        assert session.get(Watchlist, seeded.care_id) is None
        assert session.get(Mention, seeded.mentions["clinic"]) is not None


# --- Sources ----------------------------------------------------------------------------------


def test_a_feed_is_added(db, comms):
    response = post(comms, "/sources/new", name="NWT", kind="feed", outlet="NWT",
                    url="https://www.nwt.se/rss", interval_minutes=10)
    assert response.status_code == 302
    with db.session() as session:
        source = session.scalar(select(Source))
        assert (source.kind, source.url, source.interval_seconds, source.state) == (
            SourceKind.FEED, "https://www.nwt.se/rss", 600, SourceState.OK)


@pytest.mark.parametrize("url", ["ftp://example.org/feed", "javascript:alert(1)",
                                 "file:///etc/passwd", "www.nwt.se/rss", ""])
def test_a_feed_needs_an_http_address(url, db, comms):
    response = post(comms, "/sources/new", name="NWT", kind="feed", outlet="NWT", url=url,
                    interval_minutes=5)
    assert response.status_code == 400
    assert "Give a full web address starting with https:// or http://." in response.text
    assert count(db, Source) == 0


def test_editing_a_source_checks_the_same_way(db, comms):
    with db.session() as session:
        source = Source(name="VF", kind=SourceKind.FEED, outlet="VF", url="https://vf.se/rss")
        session.add(source)
        session.flush()
        source_id = source.id
    response = post(comms, f"/sources/{source_id}", name="VF", kind="feed", outlet="VF",
                    url="gopher://vf.se", interval_minutes=0)
    assert response.status_code == 400
    assert "Check the source every 1 to 1440 minutes." in response.text
    with db.session() as session:
        assert session.get(Source, source_id).url == "https://vf.se/rss"


def test_the_accounts_offered_are_the_users_own_active_ones(app, make_org, make_user,
                                                            make_account):
    """Facebook Pages read comments, X accounts search: both are offered, the user's own only."""
    from tests.web.conftest import login

    own, other = make_org("Kils förening"), make_org("Arvikas förening")
    page, _ = make_account(Platform.FACEBOOK, own, "Kils sida")
    make_account(Platform.FACEBOOK, other, "Arvikas sida")
    x, _ = make_account(Platform.X, own, "Kil på X")
    client = app.test_client()
    login(client, make_user(Role.COMMS, organisation=own))
    response = client.get("/sources/new")
    assert response.status_code == 200
    offered = re.findall(r'<option value="(\d+)"[^>]*>([^<]+)</option>', response.text)
    assert offered == [(str(page.id), "Kils sida (Facebook)"), (str(x.id), "Kil på X (X)")]


def test_an_x_search_needs_words(db, comms):
    response = post(comms, "/sources/new", name="X", kind="x_search", query="",
                    interval_minutes=5)
    assert response.status_code == 400
    assert "Write what to search for on X." in response.text
    assert count(db, Source) == 0


def test_pause_and_resume(db, comms):
    with db.session() as session:
        source = Source(name="SVT Värmland", kind=SourceKind.FEED, outlet="SVT",
                        url="https://www.svt.se/nyheter/lokalt/varmland/rss.xml",
                        state=SourceState.FAILING, consecutive_failures=4,
                        failing_since=utcnow() - timedelta(hours=2), last_error="HTTP 503")
        session.add(source)
        session.flush()
        source_id = source.id
    page = comms.get(f"/sources/{source_id}").text
    assert "HTTP 503" in page and "since" in page
    response = post(comms, f"/sources/{source_id}/pause")
    assert response.status_code == 302
    with db.session() as session:
        assert session.get(Source, source_id).state is SourceState.PAUSED
    assert 'data-testid="resume"' in comms.get(f"/sources/{source_id}").text
    before = utcnow()
    response = post(comms, f"/sources/{source_id}/resume")
    assert response.status_code == 302
    with db.session() as session:
        source = session.get(Source, source_id)
        assert source.state is SourceState.OK and source.consecutive_failures == 0
        assert source.next_poll_at >= before - timedelta(seconds=1)


def test_the_sources_list_shows_state_and_history(db, comms):
    since = datetime(2026, 11, 20, 7, 5, tzinfo=STOCKHOLM)
    with db.session() as session:
        failing = Source(name="NWT", kind=SourceKind.FEED, outlet="NWT", url="https://nwt.se/rss",
                         state=SourceState.FAILING, failing_since=since, last_error="timed out")
        paused = Source(name="VF", kind=SourceKind.FEED, outlet="VF", url="https://vf.se/rss",
                        state=SourceState.PAUSED)
        session.add_all([failing, paused])
        session.flush()
        session.add(SourcePoll(source_id=failing.id, outcome="error", detail="timed out",
                               duration_ms=10000))
        session.add(SourcePoll(source_id=failing.id, outcome="ok", items_seen=20, items_new=3))
        failing_id = failing.id
    listing = comms.get("/sources").text
    assert 'data-source-state="failing"' in listing and 'data-source-state="paused"' in listing
    assert "timed out" in listing and "since 2026-11-20 07:05" in listing
    history = comms.get(f"/sources/{failing_id}").text
    assert history.count('class="poll-') == 2 and "10.0 s" in history


# --- Clippings --------------------------------------------------------------------------------


def test_a_clipping_that_matches_an_issue_becomes_a_mention(db, comms):
    watchlist_id = add_watchlist(db)
    response = post(comms, "/clippings/new", outlet="NWT papper",
                    **YESTERDAY, title="Busslinjer dras in",
                    text="Kollektivtrafiken i Kil drabbas hårt.", link="")
    assert response.status_code == 302, response.text
    with db.session() as session:
        mention = session.scalar(select(Mention))
        assert mention.outlet == "NWT papper" and mention.source_kind is SourceKind.MANUAL
        assert mention.published_at == yesterday_at(6, 30)
        assert [w.watchlist_id for w in mention.watchlists] == [watchlist_id]
    assert response.location.endswith(f"/mentions/{mention.id}")


def test_a_clipping_that_matches_nothing_is_not_a_mention(db, comms):
    add_watchlist(db)
    response = post(comms, "/clippings/new", outlet="P4 Värmland",
                    **YESTERDAY, title="Väder", text="Snö i hela länet.")
    assert response.status_code == 302
    assert count(db, Mention) == 0
    assert "matches none of the issues" in comms.get(response.location).text


def test_a_clipping_needs_an_outlet_and_a_title(db, comms):
    add_watchlist(db)
    response = post(comms, "/clippings/new", outlet="", **YESTERDAY,
                    title="", text="kollektivtrafik", link="ftp://x")
    assert response.status_code == 400
    assert count(db, Mention) == 0


def test_a_clipping_in_the_spring_gap_is_refused_at_the_field(db, comms):
    add_watchlist(db)
    response = post(comms, "/clippings/new", outlet="NWT papper",
                    published_date="2025-03-30", published_time="02:30", title="Busslinjer dras in",
                    text="Kollektivtrafiken i Kil drabbas hårt.")
    assert response.status_code == 400
    assert re.search(r'<p class="field-error"[^>]*>2025-03-30 02:30 does not exist in Swedish '
                     r'time', response.text)
    assert count(db, Mention) == 0


# --- People and alerts ------------------------------------------------------------------------


def test_people_are_added_with_aliases_and_a_party(db, comms):
    response = post(comms, "/people", name="Anna Lind", aliases="Lind\nA. Lind", party="V",
                    title="Regionråd")
    assert response.status_code == 302
    with db.session() as session:
        person = session.scalar(select(Person))
        assert (person.aliases, person.party) == ("Lind\nA. Lind", "V")
    response = post(comms, "/people", name="Bo Ek", aliases="Ek", party="XX")
    assert response.status_code == 400
    assert "Ek is too short to find the person" in response.text
    assert "Choose the person&#39;s party." in response.text
    assert count(db, Person) == 1


def test_my_alerts_are_saved_per_issue(db, logged_in):
    client, user = logged_in(Role.BOARD)
    high = add_watchlist(db, "Vården", "vård*", priority=Priority.HIGH)
    normal = add_watchlist(db, "Skolan", "skola*")
    response = post(client, "/alerts", watchlist=[high, normal], **{
        f"immediate_{high}": "1", f"digest_{high}": "", f"digest_{normal}": "7"})
    assert response.status_code == 302
    with db.session() as session:
        found = {s.watchlist_id: (s.immediate, s.digest_hour) for s in session.scalars(
            select(AlertSubscription).where(AlertSubscription.user_id == user.id))}
    assert found == {high: (True, None), normal: (False, 7)}
    page = client.get("/alerts").text
    assert re.search(rf'name="immediate_{high}" value="1"\s+checked', page)
    response = post(client, "/alerts", watchlist=[high, normal], **{f"digest_{normal}": "24"})
    assert response.status_code == 400
    response = post(client, "/alerts", watchlist=[high, normal])
    assert response.status_code == 302
    assert count(db, AlertSubscription) == 0

"""The mention log: filters, highlights, triage, suggestions from "not relevant", respond.

Mentions are stored through the real ingest path (tests/web/mention_seeds.py).
"""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import quote

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from core.auth import district
from core.clock import STOCKHOLM, utcnow
from core.db import Database
from core.users import Role
from monitor.highlight import excerpt_with_highlights
from monitor.mention_search import MentionFilter, search
from monitor.models import Mention, Triage
from monitor.not_terms import suggested_not_terms
from publisher.models import Platform, Post
from tests.conftest import connect_sandbox_account
from tests.monitor.own_posts import poll, tweet, unique_word, x_search_source
from tests.monitor.stories import make_watchlist
from tests.web.conftest import csrf_token
from tests.web.mention_seeds import STORIES, Seeded, seed_mentions, stockholm_day

STORY = {s.key: s for s in STORIES}


@pytest.fixture
def seeded(db: Database) -> Seeded:
    return seed_mentions(db)


def listed(client: FlaskClient, query: str = "") -> set[int]:
    """The ids of the mentions the log shows for these query parameters."""
    response = client.get(f"/mentions{query}")
    assert response.status_code == 200, response.text
    return {int(m) for m in re.findall(r'<li class="card mention[^"]*" data-mention="(\d+)"',
                                       response.text)}


def ids(seeded: Seeded, *keys: str) -> set[int]:
    return {seeded.mentions[k] for k in keys}


def mention(db: Database, mention_id: int) -> Mention:
    with db.session() as session:
        found = session.get(Mention, mention_id)
        session.expunge(found)
        return found


def test_every_story_is_a_mention_and_the_log_lists_them_all(logged_in, seeded):
    client, _ = logged_in(Role.BOARD)
    assert listed(client) == set(seeded.mentions.values())


def test_each_filter_narrows_the_list(db, logged_in, seeded):
    client, _ = logged_in(Role.COMMS)
    everything = set(seeded.mentions.values())
    care = ids(seeded, "clinic")
    assert listed(client, f"?watchlist={seeded.care_id}") == care
    assert listed(client, f"?watchlist={seeded.transport_id}") == everything - care
    assert listed(client, "?outlet=NWT") == ids(seeded, "lines", "hockey-away")
    assert listed(client, "?kind=manual") == care
    assert listed(client, "?kind=page") == ids(seeded, "fare")
    assert listed(client, f"?person={seeded.person_id}") == ids(seeded, "lines")
    assert listed(client, "?q=Torsby") == care
    assert listed(client, "?q=hockey+Luleå") == ids(seeded, "hockey-away")
    with db.session() as session:  # the parties the matcher found, per mention
        parties = {m.id: set(m.party_codes) for m in session.scalars(select(Mention))}
    for party in ("V", "S", "M", "SD"):
        expected = {m for m, found in parties.items() if party in found}
        assert expected, f"no story names {party}"
        assert listed(client, f"?party={party}") == expected, party
    assert ids(seeded, "lines", "clinic") <= {m for m, p in parties.items() if "V" in p}
    # Filters combine.
    assert listed(client, f"?watchlist={seeded.transport_id}&party=M") == ids(seeded, "fare")


def test_dates_are_stockholm_calendar_days(logged_in, seeded):
    client, _ = logged_in(Role.COMMS)
    clinic_day = stockholm_day(STORY["clinic"])  # published 00:30 Stockholm: UTC's day before
    assert listed(client, f"?date_from={clinic_day}&date_to={clinic_day}") == ids(seeded,
                                                                                   "clinic")
    before = clinic_day - timedelta(days=1)
    assert seeded.mentions["clinic"] not in listed(client, f"?date_from={before}"
                                                           f"&date_to={before}")
    fare_day = stockholm_day(STORY["fare"])
    assert listed(client, f"?date_from={fare_day}") == ids(seeded, "lines", "fare")
    assert listed(client, f"?date_to={clinic_day}") == ids(seeded, "clinic", "hockey-away",
                                                            "hockey-final")
    assert listed(client, "?date_from=not-a-date").issuperset(ids(seeded, "lines"))


def test_triage_state_filter(db, logged_in, seeded):
    client, _ = logged_in(Role.COMMS)
    token = csrf_token(client, "/mentions")
    client.post(f"/mentions/{seeded.mentions['fare']}/triage",
                data={"state": "relevant", "csrf_token": token})
    client.post(f"/mentions/{seeded.mentions['hockey-away']}/triage",
                data={"state": "not_relevant", "csrf_token": token})
    assert listed(client, "?triage=relevant") == ids(seeded, "fare")
    assert listed(client, "?triage=not_relevant") == ids(seeded, "hockey-away")
    assert listed(client, "?triage=new") == ids(seeded, "lines", "clinic", "hockey-final")


def test_a_mention_shows_outlet_time_title_link_issues_parties_and_highlights(logged_in, seeded):
    client, _ = logged_in(Role.BOARD)
    html = client.get("/mentions?outlet=NWT&q=Karlstad").text
    assert "NWT" in html
    # The words that made it a mention are marked, and so is the word searched for.
    assert ('Tre <mark class="hit">busslinjer</mark> dras in i '
            '<mark class="hit">Karlstad</mark>') in html
    assert '<mark class="hit">kollektivtrafiken</mark>' in html
    assert 'href="https://example.org/lines"' in html
    assert re.search(r'data-testid="issue-chip">Kollektivtrafik \w+<', html)
    assert 'data-testid="party-chip"' in html and ">V<" in html
    assert "Anna Lind" in html
    published = STORY["lines"]
    assert f"{stockholm_day(published)} {published.at[0]:02d}:{published.at[1]:02d}" in html
    detail = client.get(f"/mentions/{seeded.mentions['lines']}").text
    assert '<mark class="hit">kollektivtrafiken</mark>' in detail
    assert "Pendlare i Molkom" in detail


def test_excerpt_is_cut_around_the_first_match(db, seeded):
    with db.session() as session:
        found = session.get(Mention, seeded.mentions["lines"])
        parts = excerpt_with_highlights(found, width=60)
    text = "".join(t for t, _ in parts)
    assert len(text) <= 64
    assert ("busslinjer", True) in parts
    assert not any(hit and t.startswith("Tre") for t, hit in parts)  # the title is not excerpt


def test_triage_sets_state_note_and_assignee(db, logged_in, make_user, seeded):
    client, _ = logged_in(Role.CAMPAIGN_LEAD)
    colleague = make_user(Role.COMMS)
    mention_id = seeded.mentions["lines"]
    token = csrf_token(client, f"/mentions/{mention_id}")
    page = client.get(f"/mentions/{mention_id}").text
    assert f'value="{colleague.id}"' in page  # the colleague can be chosen
    response = client.post(f"/mentions/{mention_id}/triage", data={
        "state": "relevant", "note": "Ring Anna före lunch", "assignee_id": colleague.id,
        "csrf_token": token})
    assert response.status_code == 302
    found = mention(db, mention_id)
    assert (found.triage, found.note, found.assigned_to_id) == (
        Triage.RELEVANT, "Ring Anna före lunch", colleague.id)
    # A quick button from the list changes the state and keeps the note and the assignee.
    response = client.post(f"/mentions/{mention_id}/triage", data={
        "state": "not_relevant", "next": "/mentions?outlet=NWT", "csrf_token": token})
    assert response.status_code == 302 and response.location.endswith("/mentions?outlet=NWT")
    found = mention(db, mention_id)
    assert (found.triage, found.note, found.assigned_to_id) == (
        Triage.NOT_RELEVANT, "Ring Anna före lunch", colleague.id)
    assert "Ring Anna före lunch" in client.get(f"/mentions/{mention_id}").text
    # Unassign and clear the note.
    client.post(f"/mentions/{mention_id}/triage", data={
        "state": "new", "note": "", "assignee_id": "", "csrf_token": token})
    found = mention(db, mention_id)
    assert (found.triage, found.note, found.assigned_to_id) == (Triage.NEW, None, None)


def test_triage_refuses_an_assignee_who_cannot_handle_mentions(db, logged_in, make_user,
                                                              seeded):
    client, _ = logged_in(Role.COMMS)
    board = make_user(Role.BOARD)
    mention_id = seeded.mentions["lines"]
    response = client.post(f"/mentions/{mention_id}/triage", data={
        "state": "relevant", "note": "x", "assignee_id": board.id,
        "csrf_token": csrf_token(client, "/mentions")})
    assert response.status_code == 400
    assert "Assign the mention to someone who may handle mentions." in response.text or \
        "Tilldela" in response.text
    assert mention(db, mention_id).triage is Triage.NEW


def test_the_next_address_after_triage_stays_in_the_app(logged_in, seeded):
    client, _ = logged_in(Role.COMMS)
    response = client.post(f"/mentions/{seeded.mentions['fare']}/triage", data={
        "state": "relevant", "next": "https://evil.example/mentions",
        "csrf_token": csrf_token(client, "/mentions")})
    assert response.status_code == 302
    assert response.location.endswith(f"/mentions/{seeded.mentions['fare']}")


def test_not_relevant_suggests_a_not_term(db, logged_in, seeded):
    client, _ = logged_in(Role.COMMS)
    client.post("/language/en", data={"csrf_token": csrf_token(client, "/")})
    token = csrf_token(client, "/mentions")
    client.post(f"/mentions/{seeded.mentions['lines']}/triage",
                data={"state": "relevant", "csrf_token": token})
    client.post(f"/mentions/{seeded.mentions['hockey-away']}/triage",
                data={"state": "not_relevant", "csrf_token": token})
    with db.session() as session:
        assert suggested_not_terms(session, seeded.transport_id) == []  # one is not a pattern
    response = client.post(f"/mentions/{seeded.mentions['hockey-final']}/triage",
                           data={"state": "not_relevant", "csrf_token": token},
                           follow_redirects=True)
    assert "Words that keep turning up in mentions of Kollektivtrafik" in response.text
    with db.session() as session:
        words = [s.word for s in suggested_not_terms(session, seeded.transport_id)]
    assert "hockey" in words
    assert not {"bussar", "kollektivtrafiken"} & set(words)  # in the query / relevant ones
    detail = client.get(f"/mentions/{seeded.mentions['hockey-final']}").text
    assert "NOT hockey" in detail
    issue = client.get(f"/watchlists/{seeded.transport_id}").text
    assert "NOT hockey" in issue


def test_respond_opens_the_composer_prefilled_and_links_the_post(db, logged_in, make_account,
                                                                 seeded):
    account, _ = make_account(Platform.X)
    client, user = logged_in(Role.CAMPAIGN_LEAD)
    mention_id = seeded.mentions["lines"]
    response = client.post(f"/mentions/{mention_id}/respond",
                           data={"csrf_token": csrf_token(client, "/mentions")})
    assert response.status_code == 302
    assert response.location.endswith(f"/compose?mention={mention_id}")
    assert mention(db, mention_id).assigned_to_id == user.id  # colleagues see who answers
    page = client.get(response.location).text
    assert 'value="https://example.org/lines"' in page
    text = re.search(r'<textarea[^>]*id="text"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    assert text.lstrip().startswith("“")
    assert "Värmlandstrafik drar in tre busslinjer från januari." in text and "(NWT)" in text
    assert f'name="mention" value="{mention_id}"' in page
    response = client.post(f"/compose?mention={mention_id}", data={
        "text": "Vi vill ha mer kollektivtrafik, inte mindre!", "link": "https://example.org/lines",
        "accounts": [account.id], "mention": mention_id,
        "csrf_token": csrf_token(client, f"/compose?mention={mention_id}")})
    assert response.status_code == 302, response.text
    with db.session() as session:
        post = session.scalar(select(Post).order_by(Post.id.desc()))
        found = session.get(Mention, mention_id)
        assert found.response_post_id == post.id
        assert found.triage is Triage.RELEVANT
    detail = client.get(f"/mentions/{mention_id}").text
    assert "Vi vill ha mer kollektivtrafik" in detail


def test_a_refused_post_is_not_linked(db, logged_in, seeded):
    client, _ = logged_in(Role.COMMS)
    mention_id = seeded.mentions["lines"]
    response = client.post(f"/compose?mention={mention_id}", data={
        "text": "", "accounts": [], "mention": mention_id,
        "csrf_token": csrf_token(client, "/mentions")})
    assert response.status_code == 400
    assert mention(db, mention_id).response_post_id is None


@pytest.mark.parametrize("path", ["triage", "respond"])
def test_board_may_read_but_not_triage_or_respond(path, db, logged_in, seeded):
    client, _ = logged_in(Role.BOARD)
    mention_id = seeded.mentions["lines"]
    assert client.get(f"/mentions/{mention_id}").status_code == 200
    page = client.get("/mentions").text
    assert 'data-testid="respond"' not in page and 'data-testid="mark-relevant"' not in page
    response = client.post(f"/mentions/{mention_id}/{path}", data={
        "state": "relevant", "csrf_token": csrf_token(client, "/mentions")})
    assert response.status_code == 403
    found = mention(db, mention_id)
    assert (found.triage, found.assigned_to_id) == (Triage.NEW, None)
    for admin_page in ("/sources", "/watchlists", "/people", "/clippings/new"):
        assert client.get(admin_page).status_code == 403


def test_unread_badge_counts_new_mentions_until_the_log_is_opened(db, logged_in):
    client, _ = logged_in(Role.BOARD)
    seeded = seed_mentions(db)
    html = client.get("/").text
    badge = re.search(r'data-testid="mention-badge"[^>]*>(\d+)<', html)
    assert badge and int(badge.group(1)) == len(seeded.mentions)
    client.get("/mentions")
    assert 'data-testid="mention-badge"' not in client.get("/").text


def test_search_pages_through_the_log_newest_first(db, make_user, seeded):
    user = make_user(Role.BOARD)
    with db.session() as session:
        first = search(session, user, MentionFilter(), per_page=2)
        second = search(session, user, MentionFilter(), per_page=2, older_than=first.older)
        last = search(session, user, MentionFilter(), per_page=2, older_than=second.older)
        arrivals = search(session, user, MentionFilter(), per_page=5, order="arrival")
    assert (first.total.value, first.total.exact, len(first.items), len(last.items)) == \
        (5, True, 2, 1)
    assert first.older and first.newer is None and last.older is None and last.newer
    # By the time shown (published): the story of today first, the oldest last.
    assert [m.id for m in first.items] == [seeded.mentions["lines"], seeded.mentions["fare"]]
    assert [m.id for m in last.items] == [seeded.mentions["hockey-final"]]
    # By arrival: all arrived in one batch, so the last stored comes first.
    assert [m.id for m in arrivals.items] == sorted(seeded.mentions.values(), reverse=True)


def test_the_log_is_in_swedish_by_default(logged_in, seeded):
    client, _ = logged_in(Role.COMMS)
    html = client.get("/mentions").text
    for word in ("Bevakning", "Omnämnanden", "Relevant", "Inte relevant", "Svara"):
        assert word in html, word


def test_the_log_pages_by_links_and_jumps_to_a_day(logged_in, seeded, monkeypatch):
    """Older/newer links carry a position (no page numbers); a day jumps deep; a link edited
    by hand shows the newest page with a clear word, never an error."""
    monkeypatch.setattr("web.mentions.PER_PAGE", 2)
    client, _ = logged_in(Role.COMMS)
    first = client.get("/mentions").text
    older = re.search(r'href="([^"]*older=[^"]*)" data-testid="older"', first).group(1)
    second = client.get(older.replace("&amp;", "&")).text
    assert 'data-testid="newer"' in second and "Äldre" in second and "Nyare" in second
    shown = re.findall(r'data-mention="(\d+)"', first + second)
    assert len(shown) == len(set(shown)) == 4
    broken = client.get("/mentions?older=inte-en-position")
    assert broken.status_code == 200 and "Länken till sidan kunde inte läsas" in broken.text
    deep = client.get("/mentions?day=2001-01-01")
    assert deep.status_code == 200 and 'data-testid="no-mentions"' in deep.text
    bad_day = client.get("/mentions?day=igår")
    assert bad_day.status_code == 200 and "Inte ett datum" in bad_day.text


def test_the_search_finds_inflected_forms_and_says_what_is_wrong_with_a_bad_one(logged_in,
                                                                             seeded):
    client, _ = logged_in(Role.COMMS)
    assert listed(client, "?q=vårdcentral") == ids(seeded, "clinic")  # "Vårdcentralen i Torsby"
    assert listed(client, "?q=busslinje") == ids(seeded, "lines")  # "busslinjer"
    assert listed(client, "?q=" + quote('"tre busslinjer"')) == ids(seeded, "lines")
    assert listed(client, "?q=buss*+-hockey") == ids(seeded, "lines")
    ranked = client.get("/mentions?q=bussar+OR+hockey&order=relevance")
    assert ranked.status_code == 200 and '<option value="relevance" selected>' in ranked.text
    bad = client.get("/mentions?q=" + quote('"tre busslinjer'))
    assert bad.status_code == 200
    assert 'data-testid="search-error"' in bad.text
    assert "Vid tecken 1" in bad.text and 'data-testid="no-mentions"' in bad.text
    near = client.get("/mentions?q=buss+NEAR/3+Karlstad")
    assert near.status_code == 200 and 'data-testid="search-error"' in near.text


@pytest.mark.parametrize("query", [
    "day=0001-01-01", "day=9999-12-31", "date_from=0001-01-01", "date_to=9999-12-31",
    "older=-62135596800000000_1", "newer=253402300799000000_5", "day=2026-02-30",
    "older=1%002", "older=1_99999999999999999999", "q=%00", "person=99999999999999999999",
    "watchlist=-1"])
def test_odd_links_to_the_log_show_a_page_not_an_error(logged_in, seeded, query):
    client, _ = logged_in(Role.COMMS)
    response = client.get(f"/mentions?{query}")
    assert response.status_code == 200 and 'data-testid="filters"' in response.text


@pytest.mark.parametrize("query", ["period=2026-13", "period=igår", "from=2026-03-10&to=x",
                                   "from=0001-01-01&to=9999-12-31", "period=%00",
                                   "from=2026-03-10&to=2026-03-01"])
def test_odd_report_links_show_last_month_and_say_why(logged_in, seeded, query):
    client, _ = logged_in(Role.BOARD)
    response = client.get(f"/reports?{query}")
    assert response.status_code == 200 and 'data-testid="headline"' in response.text
    assert 'class="flash flash-warning"' in response.text


def test_the_report_counts_the_log_and_exports_csv(logged_in, seeded):
    client, _ = logged_in(Role.BOARD)
    today = stockholm_day(STORY["lines"])
    first = today - timedelta(days=6)
    html = client.get(f"/reports?from={first}&to={today}").text
    assert f'data-testid="total">{len(seeded.mentions)}<' in html
    csv = client.get(f"/reports/issues.csv?period={first}..{today}")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    lines = csv.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0] == "watchlist_id,issue,mentions,previous_period,change"
    assert any(line.startswith(f"{seeded.transport_id},") and ",4," in line for line in lines)
    assert client.get("/reports/secrets.csv").status_code == 404


def test_the_report_draws_no_days_that_have_not_begun(logged_in, seeded):
    """This month's chart ends today: the days to come are empty, not a fall to nothing; and
    its axis names at most eight of the days."""
    import base64

    client, _ = logged_in(Role.BOARD)
    html = client.get("/reports?period=this-month").text
    uri = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"[^>]*data-testid="chart-over-time"',
                    html).group(1)
    svg = base64.b64decode(uri).decode()
    today = utcnow().astimezone(STOCKHOLM).date()
    assert svg.count('class="dot reactive') == today.day
    assert len(re.findall(r'<g class="guide major">', svg)) <= 8 + 1


def test_the_report_as_a_workbook(logged_in, seeded):
    import io

    import openpyxl

    client, _ = logged_in(Role.BOARD)
    today = stockholm_day(STORY["lines"])
    response = client.get(f"/reports/report.xlsx?period={today - timedelta(days=6)}..{today}")
    assert response.status_code == 200 and "spreadsheetml" in response.mimetype
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    about = {row[0]: row[1] for row in book["report"].iter_rows(values_only=True)}
    assert about["mentions"] == len(seeded.mentions) and about["last_day"] == today.isoformat()
    assert [r[2] for r in book["issues"].iter_rows(min_row=2, values_only=True)] == [4, 1]


def test_the_report_as_a_board_paper_pdf(logged_in, seeded, tmp_path):
    """A4 PDF: page 1 (the title page) renders to an image that is not blank, and the text
    layer holds the period and the headline figure."""
    import subprocess

    from PIL import Image

    client, _ = logged_in(Role.BOARD)
    today = stockholm_day(STORY["lines"])
    first = today - timedelta(days=6)
    response = client.get(f"/reports/report.pdf?period={first}..{today}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    paper = tmp_path / "rapport.pdf"
    paper.write_bytes(response.data)
    subprocess.run(["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "1", str(paper),
                    str(tmp_path / "page")], check=True, timeout=60)
    page = Image.open(next(tmp_path.glob("page*.png"))).convert("L")
    assert page.getextrema()[0] < 100  # some ink on the title page
    assert abs(page.width / page.height - 210 / 297) < 0.01  # A4
    text = subprocess.run(["pdftotext", str(paper), "-"], check=True, capture_output=True,
                          text=True, timeout=60).stdout
    assert f"{first.isoformat()} – {today.isoformat()}" in text
    assert "Synlighet i media" in text and "I korthet" in text
    assert f"{len(seeded.mentions)} omnämnanden" in text  # the title page's headline figure


def listed_blocks(html: str) -> dict[int, str]:
    """The HTML of each mention listed, by mention id."""
    return {int(m): body for m, body in re.findall(
        r'<li class="card mention[^"]*" data-mention="(\d+)"(.*?)(?=<li class="card mention|</ol>)',
        html, re.S)}


def own_badges(html: str) -> dict[int, str]:
    """The "our account" badge of each mention listed (its words), by mention id."""
    found = {}
    for mention_id, body in listed_blocks(html).items():
        badge = re.search(r'data-testid="own-badge"[^>]*>([^<]*)<', body)
        if badge:
            found[mention_id] = badge.group(1)
    return found


def test_our_tweet_is_marked_ours_in_the_log_and_the_filter_hides_or_shows_only_ours(
        services, db, logged_in, sandbox):
    """The real tweepy client finds our tweet and a stranger's in the sandbox's X search: the
    log marks ours with the account's name, in the list and on its page; "Hidden" leaves it
    out, "Only ours" shows nothing else; it is not new for anyone."""
    word = unique_word()
    make_watchlist(db, word, name=f"Akuten {word}")
    name = f"Vänsterpartiet Värmland {word}"
    ours, creds = connect_sandbox_account(services, Platform.X, name=name)
    stranger = sandbox.state.add_account("x", f"Pendlare {word}")
    tweet(sandbox, creds, f"Vi står upp för akuten! {word}")
    tweet(sandbox, stranger, f"Akuten stänger, {word}")
    client, _ = logged_in(Role.COMMS)
    poll(services, x_search_source(db, word))
    with db.session() as session:
        mine, theirs = (session.scalar(select(Mention.id).where(Mention.text.contains(w)))
                        for w in ("står upp", "stänger"))

    page = client.get(f"/mentions?q={word}").text
    assert own_badges(page) == {mine: f"Vårt konto: {name}"}
    assert re.search(rf'<li class="card mention own[^"]*" data-mention="{mine}"', page)
    blocks = listed_blocks(page)
    assert "Nytt för dig" in blocks[theirs] and "Nytt för dig" not in blocks[mine]
    detail = client.get(f"/mentions/{mine}").text
    assert f"Vårt konto: {name}" in detail and 'data-testid="own-badge"' in detail
    assert 'data-testid="own-badge"' not in client.get(f"/mentions/{theirs}").text

    assert listed(client, f"?q={word}") == {mine, theirs}
    assert listed(client, f"?q={word}&own=hide") == {theirs}
    assert listed(client, f"?q={word}&own=only") == {mine}
    assert listed(client, "?own=only") == {mine}
    assert 'name="own"' in page and '<option value="only">Bara våra</option>' in page


def test_an_account_connected_in_the_app_later_marks_its_earlier_posts(services, db,
                                                                       logged_in, sandbox):
    """A tweet from an association's X account arrives as a stranger's; an admin connects that
    account on the Accounts page: the tweet already in the log is now ours."""
    word = unique_word()
    make_watchlist(db, word)
    name = f"V Arvika {word}"
    tweet(sandbox, sandbox.state.add_account("x", name), f"Möte om akuten {word}")
    admin, _ = logged_in(Role.ADMIN)
    poll(services, x_search_source(db, word))
    assert listed(admin, f"?q={word}&own=only") == set()
    with db.session() as session:
        organisation = district(session).id

    response = admin.post("/accounts/connect/sandbox", data={
        "sb-platform": "x", "sb-name": name, "sb-organisation_id": organisation,
        "csrf_token": csrf_token(admin, "/accounts/")})
    assert response.status_code == 302, response.text
    [marked] = listed(admin, f"?q={word}&own=only")
    assert own_badges(admin.get(f"/mentions?q={word}").text) == {marked: f"Vårt konto: {name}"}


def test_a_tweet_in_the_log_shows_its_words_once_under_its_author(services, db, logged_in,
                                                                  sandbox):
    """Found in issue 17: a post's title is "@author: its words" and its text is the same
    words, so the log printed them twice. The author is the headline; the words come once."""
    word = unique_word()
    make_watchlist(db, word, name=f"Bussar {word}")
    stranger = sandbox.state.add_account("x", f"Pendlare {word}")
    words = f"Bussen till Sunne kom inte i dag heller, {word}"
    tweet(sandbox, stranger, words)
    poll(services, x_search_source(db, word))
    with db.session() as session:
        mention = session.scalar(select(Mention).where(Mention.text.contains("Sunne")))
        author = mention.title.partition(": ")[0]
    client, _ = logged_in(Role.COMMS)
    for address in (f"/mentions?q={word}", f"/mentions/{mention.id}"):
        page = client.get(address).text
        main = page[page.index("<main"):page.index("</main>")]
        plain = re.sub(r"<[^>]+>", "", main)
        assert plain.count("Bussen till Sunne kom inte") == 1
        heading = re.search(r'class="mention-title">(.*?)</h[12]>', page, re.S).group(1)
        assert re.sub(r"<[^>]+>", "", heading).strip() == author

"""Länet and Valplan in the web: every role sees both pages, only the district's campaign leads
and administrators change which association covers a municipality and election day, and bad
input is answered at its field with nothing saved. Screenshots at desktop width in Chromium:
tests/artifacts/county.png and election.png."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from campaigns.models import (
    Campaign,
    CampaignMessage,
    CampaignPost,
    ElectionDay,
    Event,
    EventKind,
    Municipality,
    TargetKind,
)
from cli.demo import seed_organisations
from core.auth import district
from core.clock import STOCKHOLM, utcnow
from core.db import Database
from core.users import Organisation, OrganisationKind, Role, User
from publisher.models import Account, Delivery, DeliveryState, Platform, Post
from tests.web.browser import PASSWORD, artifact, chromium
from tests.web.conftest import csrf_token


def municipality(db: Database, name: str) -> Municipality:
    with db.session() as session:
        return session.scalar(select(Municipality).where(Municipality.name == name))


def chosen_day(db: Database):
    with db.session() as session:
        row = session.get(ElectionDay, 1)
        return row.day if row else None


@pytest.mark.parametrize("role", list(Role))
def test_every_role_sees_the_county_and_the_election_plan(role, logged_in):
    client, _ = logged_in(role)
    county = client.get("/county")
    assert county.status_code == 200
    page = county.get_data(as_text=True)
    assert page.count('data-testid="municipality"') == 16
    assert 'data-municipality="Karlstad"' in page and "Ingen förening: centralt besök" in page
    assert "16 kommuner saknar förening." in page
    election = client.get("/election")
    assert election.status_code == 200
    assert "Valdag " in election.get_data(as_text=True)
    may_change = role in {Role.ADMIN, Role.CAMPAIGN_LEAD}
    assert ('data-testid="coverage-form"' in page) is may_change
    assert ('data-testid="election-form"' in election.get_data(as_text=True)) is may_change
    assert 'data-testid="nav-county"' in page
    assert 'href="/election"' in client.get("/campaigns").get_data(as_text=True)


def test_a_campaign_lead_says_which_association_covers_a_municipality(db, logged_in,
                                                                      make_org):
    kil = make_org("Vänsterpartiet Kil")
    client, _ = logged_in(Role.CAMPAIGN_LEAD)
    token = csrf_token(client, "/county")
    target = municipality(db, "Kil")
    answer = client.post("/county/coverage", data={"csrf_token": token,
                                                   "municipality_id": target.id,
                                                   "organisation_id": kil.id})
    assert answer.status_code == 302
    assert municipality(db, "Kil").organisation_id == kil.id
    page = client.get("/county").get_data(as_text=True)
    assert "Vänsterpartiet Kil täcker Kil nu." in page
    assert "15 kommuner saknar förening." in page
    client.post("/county/coverage", data={"csrf_token": token, "municipality_id": target.id,
                                          "organisation_id": ""})
    assert municipality(db, "Kil").organisation_id is None


@pytest.mark.parametrize("role", [Role.BOARD, Role.COMMS])
def test_other_roles_are_refused_the_changes(role, db, logged_in, make_org):
    kil = make_org()
    client, _ = logged_in(role)
    token = csrf_token(client, "/county")
    target = municipality(db, "Kil")
    assert client.post("/county/coverage", data={
        "csrf_token": token, "municipality_id": target.id,
        "organisation_id": kil.id}).status_code == 403
    assert client.post("/election/day", data={"csrf_token": token,
                                              "day": "2030-09-01"}).status_code == 403
    assert municipality(db, "Kil").organisation_id is None
    assert chosen_day(db) is None


def test_an_associations_campaign_lead_may_look_but_not_change_the_county(db, logged_in,
                                                                          make_org):
    kil = make_org()
    client, _ = logged_in(Role.CAMPAIGN_LEAD, organisation=kil)
    assert 'data-testid="coverage-form"' not in client.get("/county").get_data(as_text=True)
    token = csrf_token(client, "/county")
    target = municipality(db, "Kil")
    assert client.post("/county/coverage", data={
        "csrf_token": token, "municipality_id": target.id,
        "organisation_id": kil.id}).status_code == 403
    assert client.post("/election/day", data={"csrf_token": token,
                                              "day": "2030-09-01"}).status_code == 403
    assert municipality(db, "Kil").organisation_id is None
    assert chosen_day(db) is None


def test_bad_input_is_answered_at_its_field_and_nothing_is_saved(db, logged_in):
    client, _ = logged_in(Role.ADMIN)
    token = csrf_token(client, "/county")
    with db.session() as session:
        district_id = district(session).id
    kil = municipality(db, "Kil")
    for data, message in (
            ({"municipality_id": "99999", "organisation_id": ""},
             "Välj en kommun i listan."),
            ({"municipality_id": "Kil", "organisation_id": ""}, "Välj en kommun i listan."),
            ({"municipality_id": kil.id, "organisation_id": district_id},
             "Välj en förening i listan, eller ingen."),
            ({"municipality_id": kil.id, "organisation_id": "1; DROP TABLE"},
             "Välj en förening i listan, eller ingen.")):
        answer = client.post("/county/coverage", data={"csrf_token": token, **data})
        assert answer.status_code == 422, data
        assert message in answer.get_data(as_text=True)
    assert municipality(db, "Kil").organisation_id is None

    for query, message in (("first=2026-13-01", "Skriv datumet som ÅÅÅÅ-MM-DD"),
                           ("first=2031-01-10&last=2031-01-01",
                            "Perioden slutar innan den börjar."),
                           ("first=2030-01-01&last=2033-01-01",
                            "Välj en period på högst två år."),
                           ("first=2030-01-01%00", "")):
        answer = client.get(f"/county?{query}")
        assert answer.status_code == 422, query
        page = answer.get_data(as_text=True)
        assert message in page and 'class="field-error"' in page, query
        assert page.count('data-testid="municipality"') == 16  # the default period instead

    today = datetime.now(STOCKHOLM).date()
    for day, message in (("13/9 2026", "Skriv datumet som ÅÅÅÅ-MM-DD"),
                         (f"{today - timedelta(days=1)}", "Valdagen kan inte ligga bakåt"),
                         (f"{today + timedelta(days=7 * 366)}", "Välj en valdag inom sex år"),
                         ("2030-02-30", "Skriv datumet som ÅÅÅÅ-MM-DD")):
        answer = client.post("/election/day", data={"csrf_token": token, "day": day})
        assert answer.status_code == 422, day
        assert message in answer.get_data(as_text=True), day
    assert chosen_day(db) is None


def test_a_chosen_election_day_is_counted_down_to_and_empty_goes_back_to_the_rule(db,
                                                                                   logged_in):
    client, _ = logged_in(Role.CAMPAIGN_LEAD)
    token = csrf_token(client, "/election")
    day = datetime.now(STOCKHOLM).date() + timedelta(days=20)
    answer = client.post("/election/day", data={"csrf_token": token, "day": f"{day}"})
    assert answer.status_code == 302
    assert chosen_day(db) == day
    page = client.get("/election").get_data(as_text=True)
    assert f"Valdag {day}: 20 dagar kvar." in page
    assert "Vald av en kampanjansvarig eller en administratör." in page
    assert f'value="{day}"' in page
    client.post("/election/day", data={"csrf_token": token, "day": ""})
    assert chosen_day(db) is None
    assert "Nästa riksdagsval" in client.get("/election").get_data(as_text=True)


def _seed_county(database_url: str, admin_email: str) -> None:
    """The demo's associations (linked to their municipalities), two campaigns with posts on
    their accounts, events in the coming weeks."""
    db = Database(database_url)
    now = utcnow()
    with db.session() as session:
        seed_organisations(session)
        admin = session.scalar(select(User).where(User.email == admin_email))
        lead = session.get(User, admin.id)
        lead.role = Role.CAMPAIGN_LEAD
        clubs = {o.name: o for o in session.scalars(select(Organisation).where(
            Organisation.kind == OrganisationKind.ASSOCIATION))}
        places = {m.name: m for m in session.scalars(select(Municipality))}
        today = datetime.now(STOCKHOLM).date()
        campaigns = []
        for n, name in enumerate(("Välfärd före vinster", "Kollektivtrafik i hela Värmland")):
            campaign = Campaign(name=name, slug=f"kampanj-{n}", starts_on=today + timedelta(n * 7),
                                ends_on=today + timedelta(21 + n * 7),
                                deadline=now + timedelta(days=21), target_kind=TargetKind.ALL,
                                utm_campaign=f"kampanj-{n}",
                                messages=[CampaignMessage(text_x=name, text_facebook=name)])
            session.add(campaign)
            campaigns.append(campaign)
        session.flush()
        for n, club in enumerate(("Vänsterpartiet Karlstad", "Vänsterpartiet Arvika",
                                  "Vänsterpartiet Torsby")):
            account = Account(platform=Platform.X if n % 2 else Platform.FACEBOOK,
                              name=f"{club} på {'X' if n % 2 else 'Facebook'}",
                              external_id=f"county-{n}", organisation_id=clubs[club].id,
                              credentials_sealed="-")
            session.add(account)
            session.flush()
            for k in range(3 + n):
                at = now + timedelta(days=2 + 5 * k, hours=n)
                post = Post(author_id=admin.id, text=f"{club} {k}", scheduled_at=at)
                session.add(post)
                session.flush()
                went_out = k == 0
                at = now - timedelta(days=2) if went_out else at
                session.add(Delivery(post_id=post.id, account_id=account.id,
                                     state=DeliveryState.PUBLISHED if went_out
                                     else DeliveryState.SCHEDULED,
                                     due_at=at, next_attempt_at=at,
                                     published_at=at if went_out else None, updated_at=now))
                session.add(CampaignPost(post_id=post.id, campaign_id=campaigns[k % 2].id))
        for n, (title, place) in enumerate((("Medlemsmöte", "Karlstad"),
                                            ("Föredrag om vården", "Eda"),
                                            ("Valkonferens", "Karlstad"))):
            start = now + timedelta(days=4 + 9 * n)
            session.add(Event(title=title, kind=EventKind.MEETING, place=f"Folkets hus, {place}",
                              municipality_id=places[place].id, starts_at=start,
                              ends_at=start + timedelta(hours=2),
                              organiser_id=district(session).id))
    db.dispose()


def test_the_pages_in_chromium_at_desktop_width(megafon):
    _seed_county(megafon.database_url, megafon.email)
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="sv-SE")
        page.goto(megafon.url + "/login")
        page.fill("#email", megafon.email)
        page.fill("#password", PASSWORD)
        page.click("form button[type=submit].primary")
        page.click("[data-testid=nav-county]")
        assert page.locator("h1").inner_text() == "Länet"
        karlstad = page.locator("[data-municipality=Karlstad]")
        assert "Vänsterpartiet Karlstad" in karlstad.inner_text()
        assert "Medlemsmöte" in karlstad.inner_text()
        eda = page.locator("[data-municipality=Eda]")
        assert "Ingen förening: centralt besök" in eda.inner_text()
        assert "Föredrag om vården" in eda.inner_text()
        page.select_option("#municipality_id", label="Eda")
        page.select_option("#organisation_id", label="Vänsterpartiet Arvika")
        page.click("[data-testid=save-coverage]")
        assert "Vänsterpartiet Arvika täcker Eda nu." in page.inner_text("body")
        assert "Vänsterpartiet Arvika" in page.locator(
            "[data-municipality=Eda]").inner_text()
        page.screenshot(path=str(artifact("county.png")), full_page=True)
        page.click("[data-testid=to-election]")
        assert page.locator("h1").inner_text() == "Valplan"
        weeks = page.locator("[data-testid=week]")
        assert weeks.count() >= 1
        assert "Välfärd före vinster" in weeks.first.inner_text()
        empty = page.locator("[data-testid=week][data-empty=yes]")
        assert empty.count() >= 1 and "Inget planerat" in empty.last.inner_text()
        assert "Valdag" in weeks.last.inner_text()
        page.screenshot(path=str(artifact("election.png")), full_page=True)


def test_events_of_another_municipality_and_dates_are_shown_in_stockholm_time(db, logged_in):
    """An event at 23:30 UTC on a summer evening is on the next day in Stockholm."""
    start = datetime(2031, 6, 1, 22, 30, tzinfo=UTC)  # 00:30 on 2 June in Stockholm
    with db.session() as session:
        session.add(Event(title="Sommarmöte", kind=EventKind.MEETING,
                          municipality_id=municipality(db, "Hagfors").id, starts_at=start,
                          ends_at=start + timedelta(hours=1), organiser_id=district(session).id))
    client, _ = logged_in(Role.BOARD)
    on_the_day = client.get("/county?first=2031-06-02&last=2031-06-02").get_data(as_text=True)
    assert "Sommarmöte" in on_the_day
    assert "Sommarmöte" not in client.get(
        "/county?first=2031-06-01&last=2031-06-01").get_data(as_text=True)

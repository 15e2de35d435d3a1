"""/admin/audit: the district's administrators read the audit log, filter it and download it
as CSV; nobody else does (not even an association's administrator). In Chromium, a person
connects an account and finds it in the log (screenshot: tests/artifacts/audit.png)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from core.audit import record
from core.users import OrganisationKind, Role, User
from tests.web.browser import LiveMegafon, Megafon, artifact, chromium


@pytest.fixture
def logged(db, make_org, logged_in, make_user):
    """A district administrator's client, the association, and a few entries."""
    association = make_org("Föreningen i Karlstad")
    client, admin = logged_in(Role.ADMIN)
    comms = make_user(Role.COMMS)
    with db.session() as session:
        for at, actor, action, kind, org, changes in [
                (datetime(2031, 3, 2, 9, tzinfo=UTC), admin, "create", "watchlist", None,
                 {"name": "Skolan"}),
                (datetime(2031, 3, 5, 9, tzinfo=UTC), comms, "cancel", "post", association.id,
                 {"delivery_id": 4, "account_id": 2}),
                (datetime(2031, 4, 1, 9, tzinfo=UTC), comms, "update", "post", association.id,
                 {"text": ["Gammal", "Ny å ä ö"]})]:
            entry = record(session, session.get(User, actor.id), action, kind, 41, org, changes)
            entry.at = at
    return client, admin, comms, association


def rows(html: str) -> int:
    return html.count('data-testid="audit-row"')


def test_the_districts_administrator_reads_and_filters_the_log(logged):
    client, admin, comms, association = logged
    page = client.get("/admin/audit")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert rows(html) == 3
    assert "Ändringslogg" in html  # Swedish by default
    assert "Ny å ä ö" in html  # the changes, readable
    assert rows(client.get(f"/admin/audit?actor={comms.id}").get_data(as_text=True)) == 2
    assert rows(client.get("/admin/audit?action=cancel").get_data(as_text=True)) == 1
    assert rows(client.get("/admin/audit?object_type=watchlist").get_data(as_text=True)) == 1
    assert rows(client.get(f"/admin/audit?organisation={association.id}&action=update")
                .get_data(as_text=True)) == 1
    in_march = client.get("/admin/audit?date_from=2031-03-01&date_to=2031-03-31")
    assert rows(in_march.get_data(as_text=True)) == 2
    assert rows(client.get("/admin/audit?date_from=2031-03-05&date_to=2031-03-05")
                .get_data(as_text=True)) == 1  # a Stockholm day, whole
    users_page = client.get("/admin/users").get_data(as_text=True)
    assert 'data-testid="audit-link"' in users_page


def test_a_wrong_date_is_said_at_its_field_and_nothing_else_breaks(logged):
    client, *_ = logged
    for path in ("/admin/audit?date_from=2031-13-45", "/admin/audit.csv?date_to=igår",
                 "/admin/audit?actor=x&organisation=%00&action=" + "a" * 500):
        answer = client.get(path)
        assert answer.status_code in (200, 400), path
    refused = client.get("/admin/audit?date_from=2031-13-45")
    assert refused.status_code == 400
    assert 'data-testid="date-error"' in refused.get_data(as_text=True)


def test_the_csv_holds_every_matching_entry(logged):
    client, admin, comms, association = logged
    answer = client.get(f"/admin/audit.csv?actor={comms.id}")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert "attachment" in answer.headers["Content-Disposition"]
    table = list(csv.reader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff"))))
    assert table[0] == ["id", "at", "actor_id", "actor", "organisation_id", "action",
                        "object_type", "object_id", "changes"]
    assert [(r[5], r[6], r[7]) for r in table[1:]] == [("update", "post", "41"),
                                                        ("cancel", "post", "41")]
    assert table[1][1] == "2031-04-01T11:00:00+02:00"  # Stockholm, with its offset
    assert table[1][3] == comms.name and table[1][4] == str(association.id)
    assert table[1][8] == '{"text": ["Gammal", "Ny å ä ö"]}'


@pytest.mark.parametrize("role", [Role.COMMS, Role.CAMPAIGN_LEAD, Role.BOARD])
def test_other_roles_are_refused(logged, logged_in, role):
    client, _ = logged_in(role)
    assert client.get("/admin/audit").status_code == 403
    assert client.get("/admin/audit.csv").status_code == 403


def test_an_associations_administrator_is_refused_and_sees_no_link(logged, logged_in, make_org):
    _, _, _, association = logged
    assert association.kind is OrganisationKind.ASSOCIATION
    client, _ = logged_in(Role.ADMIN, organisation=association)
    assert client.get("/admin/audit").status_code == 403
    assert client.get("/admin/audit.csv").status_code == 403
    users_page = client.get("/admin/users")
    assert users_page.status_code == 200
    assert 'data-testid="audit-link"' not in users_page.get_data(as_text=True)


@pytest.mark.browser
def test_a_connected_account_is_found_in_the_log_in_chromium(megafon: LiveMegafon):
    from playwright.sync_api import expect

    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        person = Megafon(context.new_page(), megafon)
        page = person.page
        person.log_in()
        page.goto(f"{megafon.url}/accounts/")
        person.connect_sandbox_account("x", "Granskade kontot")
        page.goto(f"{megafon.url}/admin/users")
        page.click("[data-testid=audit-link]")
        page.select_option("select[name=object_type]", "account")
        page.click("[data-testid=apply-filters]")
        row = page.locator("[data-testid=audit-row]")
        expect(row).to_have_count(1)
        expect(row).to_contain_text("Granskade kontot")
        expect(row).to_contain_text("Kopplade")  # "Connected", in Swedish
        page.screenshot(path=str(artifact("audit.png")), full_page=True)
        csv_link = page.locator("[data-testid=audit-csv]").get_attribute("href")
        assert csv_link and "object_type=account" in csv_link
        context.close()

"""The accounts page warns about credentials; a delivery's page shows its latest numbers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import requests
from sqlalchemy import update

from core.clock import utcnow
from core.users import Role
from publisher.dispatch import Dispatcher
from publisher.metrics import collect_due_metrics
from publisher.models import Account, CredentialStatus, DeliveryState, Platform
from publisher.token_checks import check_accounts
from tests.factories import deliveries, queue_post
from tests.publisher.sandbox_faults import set_faults
from tests.web.conftest import csrf_token


def test_accounts_page_shows_broken_and_expiring_credentials(services, sandbox, logged_in,
                                                             make_account):
    broken, creds = make_account(Platform.FACEBOOK, name="Sidan som slutat")
    expiring, _ = make_account(Platform.X, name="Snart utgånget")
    fine, _ = make_account(Platform.X, name="Allt väl")
    set_faults(sandbox.url, creds["page_id"], expire_token=True)
    check_accounts(services.db, services.box, services.platforms)
    with services.db.session() as session:  # X tokens do not expire: set the warning directly
        session.execute(update(Account).where(Account.id == expiring.id).values(
            credentials_status=CredentialStatus.EXPIRING,
            credentials_expire_at=datetime(2026, 12, 1, 22, 30, tzinfo=UTC)))

    client, _ = logged_in(Role.COMMS)
    html = client.get("/accounts/").get_data(as_text=True)
    assert html.count('data-testid="credentials-broken"') == 1
    assert "Fungerar inte:" in html and "Session has expired" in html
    assert "Återanslut: anslut kontot igen" in html
    assert html.count('data-testid="credentials-expiring"') == 1
    assert "Åtkomsten upphör 2026-12-01 23:30." in html  # Stockholm time (CET)

    client.post("/language/en", data={"csrf_token": csrf_token(client, "/")})
    english = client.get("/accounts/").get_data(as_text=True)
    assert "Not working:" in english and "The access expires 2026-12-01 23:30." in english


def test_delivery_page_shows_the_latest_numbers(services, sandbox, logged_in, make_user,
                                                make_account):
    x, _ = make_account(Platform.X)
    queue_post(services.db, make_user(), [x], text="Hur gick det?")
    Dispatcher(services.db, services.platforms, services.box, "w1").run_once()
    delivery = deliveries(services.db)[0]
    requests.post(f"{sandbox.url}/sandbox/api/posts/{delivery.external_id}/metrics",
                  json={"likes": 17, "reposts": 4, "impressions": 900},
                  timeout=10).raise_for_status()
    client, _ = logged_in(Role.COMMS)
    before = client.get(f"/deliveries/{delivery.id}").get_data(as_text=True)
    assert 'data-testid="metrics"' not in before  # nothing scheduled or fetched yet

    collect_due_metrics(services.db, services.box, services.platforms,
                        now=utcnow() + timedelta(minutes=16))
    html = client.get(f"/deliveries/{delivery.id}").get_data(as_text=True)
    assert 'data-testid="metrics"' in html
    for expected in ("Gilla-markeringar 17", "Reposter 4", "Svar 0", "Visningar 900"):
        assert expected in html


def test_a_held_post_says_it_waits_and_a_failed_one_says_what_to_do(services, sandbox, logged_in,
                                                                   make_user, make_account):
    """Held is not failed: its author should reconnect, not send the post again."""
    page, creds = make_account(Platform.FACEBOOK, name="Utgången sida")
    x, _ = make_account(Platform.X, name="Vanligt X")
    author = make_user()
    queue_post(services.db, author, [page], text="Väntar på inloggning")
    queue_post(services.db, author, [x], text="Samma ord två gånger")
    queue_post(services.db, author, [x], text="Samma ord två gånger")
    set_faults(sandbox.url, creds["page_id"], expire_token=True)
    Dispatcher(services.db, services.platforms, services.box, "w1").run_once()
    Dispatcher(services.db, services.platforms, services.box, "w1",
               clock=lambda: utcnow() + timedelta(seconds=10)).run_once()
    held, *on_x = deliveries(services.db)
    duplicate = next(d for d in on_x if d.state is DeliveryState.FAILED)  # either may go first

    client, _ = logged_in(Role.COMMS)
    overview = client.get("/").get_data(as_text=True)
    waits = "dess inlägg väntar och publiceras när det fungerar igen"
    assert waits in overview and "skicka sedan inlägget igen" not in overview
    assert "Ändra formuleringen" in overview
    assert waits in client.get(f"/deliveries/{held.id}").get_data(as_text=True)
    assert "Ändra formuleringen" in client.get(f"/deliveries/{duplicate.id}").get_data(
        as_text=True)


def test_a_deliverys_history_reads_in_the_users_language(services, sandbox, logged_in,
                                                          make_user, make_account):
    x, _ = make_account(Platform.X)
    client, user = logged_in(Role.COMMS)
    queue_post(services.db, user, [x], text="Historik på svenska")
    Dispatcher(services.db, services.platforms, services.box, "w1").run_once()
    delivery = deliveries(services.db)[0]
    swedish = client.get(f"/deliveries/{delivery.id}").get_data(as_text=True)
    assert f"lagt i kö av {user.name}" in swedish
    assert "försök 1 av w1" in swedish
    assert f"publicerat ({delivery.external_id})" in swedish
    assert "queued by" not in swedish and "attempt 1" not in swedish

    client.post("/language/en", data={"csrf_token": csrf_token(client, "/")})
    english = client.get(f"/deliveries/{delivery.id}").get_data(as_text=True)
    assert f"queued by {user.name}" in english and "attempt 1 by w1" in english


def test_a_post_that_will_be_tried_again_says_when_and_when_megafon_gives_up(
        services, sandbox, sandbox_at, logged_in, make_user, make_account):
    x, creds = make_account(Platform.X)
    client, user = logged_in(Role.COMMS)
    due = datetime(2026, 11, 25, 9, 0)  # Stockholm, CET
    queue_post(services.db, user, [x], text="Prova igen", at_local=due,
               now=datetime(2026, 11, 25, 7, 0, tzinfo=UTC))
    set_faults(sandbox.url, creds["user_id"], error_rate=1.0, error_status=429)
    moment = datetime(2026, 11, 25, 8, 0, 5, tzinfo=UTC)
    sandbox_at(moment)  # X's 429 says when its window resets: in the test's time, not today's
    Dispatcher(services.db, services.platforms, services.box, "w1",
               clock=lambda: moment).run_once()
    delivery = deliveries(services.db)[0]
    assert delivery.state is DeliveryState.RETRY_WAIT
    page = client.get(f"/deliveries/{delivery.id}").get_data(as_text=True)
    assert "Nästa försök" in page and 'data-testid="next-try"' in page
    assert "Megafon ger upp kl. 09:30 om inlägget inte har gått ut då" in page

"""Whoever runs Megafon can ask whether posts are going out; its users see it on every page."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import text, update

from core.clock import utcnow
from core.db import Database
from core.users import Role
from core.workers import beat
from publisher.dispatch import Dispatcher
from publisher.models import Delivery, Platform
from publisher.services import Services
from tests.factories import queue_post
from web import create_app

BANNER = 'data-testid="publishing-problem"'


def make_late(services, minutes: int = 5) -> None:
    with services.db.session() as session:
        session.execute(update(Delivery).values(
            due_at=utcnow() - timedelta(minutes=minutes),
            next_attempt_at=utcnow() - timedelta(minutes=minutes)))


def test_late_posts_and_no_worker_show_on_every_page_and_in_the_health_check(
        services, app, logged_in, make_account):
    x, _ = make_account(Platform.X)
    comms, user = logged_in(Role.COMMS)
    queue_post(services.db, user, [x], text="Står still")
    assert BANNER not in comms.get("/").get_data(as_text=True)  # due now: not late yet
    make_late(services)

    for page in ("/", "/compose", "/mentions"):
        html = comms.get(page).get_data(as_text=True)
        assert BANNER in html and "Publiceringen har stannat: 1 inlägg har inte gått ut." in html
    assert "Ingen publiceringsprocess har körts än." in html
    board, _ = logged_in(Role.BOARD)
    assert BANNER not in board.get("/mentions").get_data(as_text=True)  # cannot act on it

    anonymous = app.test_client()
    response = anonymous.get("/healthz/publishing")
    assert response.status_code == 503
    assert response.get_json() | {"late_since": None} == {
        "state": "stalled", "workers": 0, "late": 1, "last_seen": None, "late_since": None}

    beat(services.db, "w1")
    behind = comms.get("/").get_data(as_text=True)
    assert "Publiceringen ligger efter: 1 inlägg är mer än två minuter sent." in behind
    assert anonymous.get("/healthz/publishing").get_json()["state"] == "behind"

    Dispatcher(services.db, services.platforms, services.box, "w1").run_once()
    assert BANNER not in comms.get("/").get_data(as_text=True)
    assert anonymous.get("/healthz/publishing").status_code == 200
    assert anonymous.get("/healthz").get_data(as_text=True) == "ok"


# --- The database refusing writes (issue 14, finding 9) -----------------------------------------


def read_only(services: Services) -> Services:
    """The same database, refusing every write: SQLite opened read-only, PostgreSQL with
    read-only transactions by default for every new connection."""
    url = services.settings.database_url
    if url.startswith("sqlite:///"):
        return replace(services, db=Database(f"sqlite:///file:{url[10:]}?mode=ro&uri=true"))
    with services.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        name = conn.execute(text("SELECT current_database()")).scalar_one()
        conn.execute(text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on'))
    services.db.dispose()  # new connections take the setting
    return services


def test_healthz_is_503_while_the_database_refuses_writes(services_on_any_db):
    services = services_on_any_db
    assert create_app(services.settings, services).test_client().get("/healthz").text == "ok"
    refusing = read_only(services)
    client = create_app(refusing.settings, refusing).test_client()
    try:
        response = client.get("/healthz")
        assert response.status_code == 503
        assert response.text == "database refuses writes"
        assert client.get("/login").status_code == 200  # reads still work
    finally:
        refusing.db.dispose()

"""Whoever runs Megafon can ask whether posts are going out; its users see it on every page."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from core.clock import utcnow
from core.users import Role
from core.workers import beat
from publisher.dispatch import Dispatcher
from publisher.models import Delivery, Platform
from tests.factories import queue_post

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

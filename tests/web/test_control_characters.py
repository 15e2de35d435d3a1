"""Bad input is refused with a clear message, never a 500 (issue 14, finding 7).

Every text a form takes is refused at the form when it carries a control character (PostgreSQL
refuses a NUL byte outright; the others have no business in a post or a name): a clear message
at the field, nothing saved. Dates far outside any use (year 1) are refused where they are
typed. After a database error the error page still renders. Both databases."""

from __future__ import annotations

import logging

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from core.users import Role
from tests.conftest import PASSWORD
from tests.web.conftest import csrf_token
from tests.web.test_roles import routes, send, snapshot, world  # noqa: F401 (a fixture)

MESSAGE = "Remove the control characters"
NUL = "\x00"
# Buttons' flags and ticks, read for being there at all and never stored: not text fields.
FLAGS = {("notifications.read", "all"), ("monitoring.new_watchlist", "active"),
         ("monitoring.watchlist", "active"), ("monitoring.alerts", "immediate_"),
         ("admin.user", "active"), ("admin.user", "must_change_password"),
         ("privacy.erase", "confirm"), ("events.new", "public"), ("events.edit", "public")}


@pytest.fixture
def services(services_on_any_db):
    """Everything in this module runs on SQLite and on PostgreSQL."""
    return services_on_any_db


@pytest.fixture
def admin(logged_in) -> FlaskClient:
    client, _ = logged_in(Role.ADMIN)
    client.post("/language/en", data={"csrf_token": csrf_token(client, "/")})
    return client


def text_fields(data: dict[str, object]) -> list[str]:
    return [key for key, value in data.items() if isinstance(value, str)]


def test_every_text_field_refuses_a_nul_byte_and_saves_nothing(app, db, admin, world):  # noqa: F811
    token = csrf_token(admin, "/")
    tried = 0
    for route in routes(app, world):
        if route.method != "POST" or route.endpoint == "auth.logout":
            continue
        for key in text_fields(route.data):
            if (route.endpoint, key.rstrip("0123456789")) in FLAGS:
                continue
            before = snapshot(db)
            spoilt = {**route.data, key: f"{route.data[key]}{NUL}x"}
            response = send(admin, type(route)(route.endpoint, "POST", route.path, spoilt), token)
            where = f"{route} field {key}"
            assert response.status_code in (200, 400, 422), where
            assert MESSAGE in response.text, where
            assert snapshot(db) == before, where
            tried += 1
    assert tried >= 25


@pytest.mark.parametrize("field", ["email", "password"])
def test_a_nul_byte_at_login_is_refused_and_logs_no_hash(field, client, make_user, caplog):
    user = make_user(Role.ADMIN)
    data = {"email": user.email, "password": PASSWORD, "csrf_token": csrf_token(client)}
    data[field] = f"{data[field]}{NUL}"
    with caplog.at_level(logging.DEBUG):
        response = client.post("/login", data=data)
    assert response.status_code == 400
    assert "argon2" not in caplog.text and user.password_hash not in caplog.text
    assert client.get("/").status_code == 302  # not logged in


@pytest.mark.parametrize("args", [
    {"q": f"buss{NUL}"}, {"outlet": f"NWT{NUL}"}, {"party": f"V{NUL}"}, {"kind": NUL},
    {"watchlist": NUL}, {"person": NUL}, {"assignee": NUL}, {"triage": NUL},
    {"date_from": "0001-01-01"}, {"date_to": "0001-01-01"}, {"date_from": "9999-12-31"}])
def test_the_mention_search_takes_any_input_without_a_500(args, admin):
    response = admin.get("/mentions", query_string=args)
    assert response.status_code in (200, 400)


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_a_date_out_of_range_is_refused_when_composing_and_in_clippings(day, db, admin,
                                                                         make_account):
    from monitor.models import Mention
    from publisher.models import Platform, Post
    from tests.factories import count

    account, _ = make_account(Platform.X)
    token = csrf_token(admin, "/")
    response = admin.post("/compose", data={
        "text": "Hej Värmland", "accounts": [account.id], "when": "at",
        "scheduled_date": day, "scheduled_time": "12:00", "csrf_token": token})
    assert response.status_code == 400 and "Give a date between" in response.text
    response = admin.post("/clippings/new", data={
        "outlet": "NWT", "title": "Buss", "text": "Bussen", "published_date": day,
        "published_time": "06:30", "csrf_token": token})
    assert response.status_code == 400 and "Give a date between" in response.text
    assert count(db, Post) == 0 and count(db, Mention) == 0


def test_after_a_database_error_the_error_page_still_renders(app, admin):
    """A view whose statement fails leaves the session needing a rollback: the error page
    (which reads the user and the publishing banner) must roll back first, not crash."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.debug = False

    def broken() -> str:
        from web.context import db_session

        db_session().execute(text("SELECT * FROM no_such_table"))
        return "never"

    app._got_first_request = False  # a route of this test's own, added to the built app
    app.add_url_rule("/_broken", "broken", broken)
    response = admin.get("/_broken")
    assert response.status_code == 500
    assert "<html" in response.text  # our page, not a bare 500


def test_a_database_error_never_carries_a_password_hash(db, make_user):
    """Whatever still fails in the database (here a second user with the same address, past
    the service's check), its message — which goes to the log — holds no values."""
    from sqlalchemy.exc import IntegrityError

    from core.users import User

    user = make_user(Role.ADMIN)
    with pytest.raises(IntegrityError) as failed, db.session() as session:
        session.add(User(email=user.email, name="Dubblett", password_hash=user.password_hash,
                         role=Role.BOARD, organisation_id=user.organisation_id))
        session.flush()
    assert user.password_hash not in str(failed.value)
    assert "argon2" not in str(failed.value)

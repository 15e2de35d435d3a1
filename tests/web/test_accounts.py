"""Accounts an organisation can run safely (issue 14, findings 1, 2, 3 and 10).

Sessions end on the server (logout, a new password, switching a user off, idle and absolute
lifetimes), cookies are Secure behind https, a password can be changed and reset by e-mail
(through the real outbox to a real SMTP server), the first-start admin must choose a password,
login throttling stops guessing without letting a stranger lock the owner out, and the admin's
user form starts at the least power. Sessions and resets run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from werkzeug.test import TestResponse

from cli.main import _first_admin
from core.auth import create_user, district
from core.clock import utcnow
from core.mail import MailSender, send_pending
from core.notifications import Notification
from core.users import PasswordReset, Role, User, UserEvent
from publisher.services import Services
from tests.conftest import PASSWORD
from tests.smtp import smtp_server  # noqa: F401
from tests.web.conftest import csrf_token, login
from web import create_app
from web.auth import LOGIN_AT, SEEN_AT
from web.extensions import LANGUAGE_COOKIE

NEW_PASSWORD = "ett helt nytt lösenord"


@pytest.fixture
def any_services(services_on_any_db: Services) -> Services:
    return services_on_any_db


@pytest.fixture
def any_app(any_services: Services) -> Flask:
    app = create_app(any_services.settings, any_services)
    app.config["TESTING"] = True
    return app


def person(services: Services, role: Role = Role.COMMS, **extra: object) -> User:
    with services.db.session() as session:
        user = create_user(session, email=f"{uuid.uuid4().hex[:8]}@example.org", name="Åsa",
                           password=PASSWORD, role=role, **extra)  # type: ignore[arg-type]
        session.flush()
        session.refresh(user)
        return user


def at_login(response: TestResponse) -> bool:
    return response.status_code == 302 and urlsplit(response.location).path == "/login"


def copy_of(app: Flask, client: FlaskClient) -> FlaskClient:
    """Another browser holding a copy of this one's session cookie (as a thief would)."""
    thief = app.test_client()
    cookie = client.get_cookie("session")
    assert cookie is not None
    thief.set_cookie("session", cookie.value)
    return thief


def post(client: FlaskClient, path: str, data: dict[str, object],
         token_from: str = "/") -> TestResponse:
    return client.post(path, data={**data, "csrf_token": csrf_token(client, token_from)})


# --- 1. Sessions end on the server ---------------------------------------------------------------


def test_a_cookie_copied_before_logout_gets_the_login_page(any_app, any_services):
    user = person(any_services)
    client = any_app.test_client()
    login(client, user)
    copied, other_device = copy_of(any_app, client), any_app.test_client()
    login(other_device, user)
    assert copied.get("/").status_code == 200 and other_device.get("/").status_code == 200
    assert post(client, "/logout", {}).status_code == 302
    assert at_login(copied.get("/"))
    assert at_login(other_device.get("/"))  # logging out ends every session of the user
    assert at_login(client.get("/"))
    login(client, user)  # and logging in again works
    assert client.get("/").status_code == 200


def test_a_new_password_ends_every_other_session_and_keeps_this_one(any_app, any_services):
    user = person(any_services)
    client = any_app.test_client()
    login(client, user)
    copied = copy_of(any_app, client)
    response = post(client, "/password", {"current_password": PASSWORD,
                                          "new_password": NEW_PASSWORD,
                                          "repeated": NEW_PASSWORD}, "/password")
    assert response.status_code == 302, response.get_data(as_text=True)
    assert client.get("/").status_code == 200
    assert at_login(copied.get("/"))
    fresh = any_app.test_client()
    login(fresh, user, NEW_PASSWORD)
    with any_services.db.session() as session:
        changes = session.scalars(select(UserEvent.change).where(UserEvent.user_id == user.id))
        assert list(changes) == ["changed their password"]


@pytest.mark.parametrize(("field", "problem"), [
    ("current_password", "wrong"), ("new_password", "short"), ("repeated", "different")])
def test_a_password_change_explains_what_is_wrong_and_changes_nothing(app, make_user, field,
                                                                      problem):
    user = make_user(Role.BOARD)
    client = app.test_client()
    login(client, user)
    data = {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "repeated": NEW_PASSWORD}
    data[field] = {"wrong": "fel lösenord!", "short": "kort", "different": "något annat här"}[
        problem]
    response = post(client, "/password", data, "/password")
    assert response.status_code == 400
    assert 'class="field-error"' in response.get_data(as_text=True)
    login(app.test_client(), user)  # the old password still works


def test_idle_and_absolute_lifetimes_end_a_session(app, make_user, services):
    user = make_user(Role.COMMS)
    idle, absolute = app.test_client(), app.test_client()
    login(idle, user)
    login(absolute, user)
    now = utcnow().timestamp()
    with idle.session_transaction() as session:
        session[SEEN_AT] = now - services.settings.session_idle_minutes * 60 - 5
    with absolute.session_transaction() as session:
        session[LOGIN_AT] = now - services.settings.session_max_hours * 3600 - 5
    assert at_login(idle.get("/"))
    assert at_login(absolute.get("/"))
    with app.test_client() as busy:
        login(busy, user)
        with busy.session_transaction() as session:
            session[SEEN_AT] = now - services.settings.session_idle_minutes * 60 + 60
        assert busy.get("/").status_code == 200  # used within the idle time: still valid


def test_cookies_are_secure_and_hsts_sent_when_megafon_is_on_https(services, make_user):
    user = make_user(Role.COMMS)
    https = dataclasses.replace(services.settings, base_url="https://megafon.example.org")
    app = create_app(https, services)
    client = app.test_client()
    page = client.get("/login", base_url="https://megafon.example.org").get_data(as_text=True)
    token = re.findall(r'name="csrf_token"[^>]*value="([^"]+)"', page)[0]
    response = client.post("/login", data={"email": user.email, "password": PASSWORD,
                                           "csrf_token": token},
                           base_url="https://megafon.example.org",
                           headers={"Referer": "https://megafon.example.org/login"})
    assert response.status_code == 302, response.get_data(as_text=True)
    cookies = [c for c in response.headers.getlist("Set-Cookie") if "Max-Age=0" not in c]
    assert {c.partition("=")[0] for c in cookies} == {"session", "megafon_device"}
    assert all("Secure" in c and "HttpOnly" in c for c in cookies), cookies
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    plain = dataclasses.replace(services.settings, base_url="http://127.0.0.1:5000")
    assert not create_app(plain, services).config["SESSION_COOKIE_SECURE"]
    forced = dataclasses.replace(services.settings, session_cookie_secure="on")
    assert create_app(forced, services).config["SESSION_COOKIE_SECURE"]


# --- 2. The password's whole life ----------------------------------------------------------------


def reset_link(smtp, services: Services, to: str) -> str:
    sender = MailSender(smtp.url, base_url="http://megafon.test")
    send_pending(services.db, sender)
    [mail] = smtp.messages(to=to)
    match = re.search(r"http://megafon\.test(/reset/[\w-]+)", mail.body)
    assert match, mail.body
    return match.group(1)


def test_a_forgotten_password_is_reset_by_email_once(any_app, any_services, smtp_server):  # noqa: F811
    user = person(any_services)
    elsewhere = any_app.test_client()
    login(elsewhere, user)
    client = any_app.test_client()
    asked = post(client, "/password/forgot", {"email": user.email.upper()}, "/password/forgot")
    unknown = post(client, "/password/forgot", {"email": "ingen@example.org"},
                   "/password/forgot")
    assert asked.status_code == unknown.status_code == 302
    path = reset_link(smtp_server, any_services, user.email)
    assert smtp_server.messages(to="ingen@example.org") == []  # and no sign of it on the page
    with any_services.db.session() as session:
        [stored] = session.scalars(select(PasswordReset).where(PasswordReset.user_id == user.id))
        assert stored.token_hash != path.rsplit("/", 1)[1]  # kept hashed
    assert client.get(path).status_code == 200
    done = post(client, path, {"new_password": NEW_PASSWORD, "repeated": NEW_PASSWORD}, path)
    assert at_login(done)
    assert at_login(elsewhere.get("/"))  # the reset ended the other sessions
    with any_services.db.session() as session:  # the raw link is not kept in the outbox either
        assert list(session.scalars(select(Notification.link).where(
            Notification.user_id == user.id))) == [None]
    login(any_app.test_client(), user, NEW_PASSWORD)
    assert client.get(path).status_code == 400  # used once
    again = client.post(path, data={"new_password": "ett tredje lösenord",
                                    "repeated": "ett tredje lösenord",
                                    "csrf_token": csrf_token(client, "/login")})
    assert again.status_code == 400
    login(any_app.test_client(), user, NEW_PASSWORD)


def test_the_answer_to_a_reset_request_is_the_same_for_unknown_addresses(app, make_user):
    user = make_user(Role.COMMS)
    client = app.test_client()
    pages = []
    for email in (user.email, "ingen@example.org"):
        response = post(client, "/password/forgot", {"email": email}, "/password/forgot")
        pages.append((response.status_code, response.location,
                      client.get(response.location).get_data(as_text=True)))
    assert pages[0] == pages[1]


def test_reset_requests_cannot_flood_an_inbox_or_go_on_forever(app, services, make_user,
                                                               smtp_server):  # noqa: F811
    user = make_user(Role.COMMS)
    asker = from_address(app.test_client(), "198.51.100.20")
    limit = services.settings.login_client_max_failures
    answers = [post(asker, "/password/forgot", {"email": user.email}, "/password/forgot")
               .status_code for _ in range(limit + 1)]
    assert answers[:limit] == [302] * limit and answers[limit] == 429
    send_pending(services.db, MailSender(smtp_server.url, base_url="http://megafon.test"))
    assert len(smtp_server.messages(to=user.email)) == 3  # at most three open links


def test_behind_a_trusted_proxy_each_client_is_throttled_on_its_own(services):
    proxied = create_app(dataclasses.replace(services.settings, trusted_proxies=1), services)
    guesser, other = proxied.test_client(), proxied.test_client()
    guesser.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.77"
    other.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.78"
    for n in range(services.settings.login_client_max_failures):
        try_login(guesser, f"person{n}@example.org", "gissning 123")
    assert try_login(guesser, "sista@example.org", "gissning 123").status_code == 429
    assert try_login(other, "sista@example.org", "gissning 123").status_code == 400


def test_an_expired_reset_link_is_refused(app, services, make_user, smtp_server):  # noqa: F811
    user = make_user(Role.COMMS)
    client = app.test_client()
    post(client, "/password/forgot", {"email": user.email}, "/password/forgot")
    path = reset_link(smtp_server, services, user.email)
    with services.db.session() as session:
        session.execute(update(PasswordReset).values(expires_at=utcnow() - timedelta(minutes=1)))
    assert client.get(path).status_code == 400
    response = post(client, path, {"new_password": NEW_PASSWORD, "repeated": NEW_PASSWORD},
                    "/login")
    assert response.status_code == 400
    login(app.test_client(), user)  # the password is unchanged


def test_the_first_start_admin_must_choose_a_password_of_their_own(app, services):
    email, printed = _first_admin(services.db)
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": printed,
                                           "csrf_token": csrf_token(client)})
    assert urlsplit(response.location).path == "/password"
    for path in ("/", "/admin/users", "/compose"):
        assert urlsplit(client.get(path).location).path == "/password", path
    response = post(client, "/password", {"current_password": printed,
                                          "new_password": NEW_PASSWORD,
                                          "repeated": NEW_PASSWORD}, "/password")
    assert response.status_code == 302
    assert client.get("/admin/users").status_code == 200
    bad = app.test_client().post("/login", data={"email": email, "password": printed})
    assert bad.status_code == 400


def test_an_admin_switches_a_user_off_and_on_and_forces_a_new_password(app, make_user,
                                                                       logged_in, db):
    admin_client, _admin = logged_in(Role.ADMIN)
    user = make_user(Role.COMMS)
    their = app.test_client()
    login(their, user)
    with db.session() as session:
        organisation_id = session.get(User, user.id).organisation_id
    form = {"name": "Åsa Larsson", "role": "comms", "organisation_id": organisation_id}
    path = f"/admin/users/{user.id}"
    assert post(admin_client, path, form, path).status_code == 302  # not active: switched off
    assert at_login(their.get("/"))
    refused = their.post("/login", data={"email": user.email, "password": PASSWORD,
                                         "csrf_token": csrf_token(their)})
    assert refused.status_code == 400
    assert post(admin_client, path, {**form, "active": "y", "must_change_password": "y"},
                path).status_code == 302
    response = their.post("/login", data={"email": user.email, "password": PASSWORD,
                                          "csrf_token": csrf_token(their)})
    assert urlsplit(response.location).path == "/password"
    page = admin_client.get(path).get_data(as_text=True)
    assert page.count('data-testid="user-event"') == 4
    assert "switched off" in page and "switched on" in page and "Åsa Larsson" in page


# --- 3. Throttling that does not lock the owner out ---------------------------------------


def from_address(client: FlaskClient, address: str) -> FlaskClient:
    client.environ_base["REMOTE_ADDR"] = address
    return client


def try_login(client: FlaskClient, email: str, password: str) -> TestResponse:
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": csrf_token(client)})


def test_a_strangers_wrong_passwords_do_not_keep_the_owner_out(app, make_user, services):
    owner = make_user(Role.ADMIN)
    laptop = from_address(app.test_client(), "192.0.2.10")
    login(laptop, owner)  # the owner's browser has logged in before: it holds a device cookie
    assert post(laptop, "/logout", {}).status_code == 302
    stranger = from_address(app.test_client(), "198.51.100.66")
    answers = [try_login(stranger, owner.email, f"gissning {n:03d}").status_code
               for n in range(services.settings.login_max_failures + 3)]
    assert answers[0] == 400 and answers[-1] == 429
    assert try_login(stranger, owner.email, PASSWORD).status_code == 429  # no guessing on
    assert try_login(laptop, owner.email, PASSWORD).status_code == 302  # the owner gets in
    assert laptop.get("/").status_code == 200


def test_guesses_spread_over_many_addresses_from_one_client_are_throttled(app, services):
    guesser = from_address(app.test_client(), "203.0.113.9")
    limit = services.settings.login_client_max_failures
    for n in range(limit):
        assert try_login(guesser, f"person{n}@example.org", "gissning 123").status_code == 400
    guesser.set_cookie(LANGUAGE_COOKIE, "en")
    throttled = try_login(guesser, "person-sista@example.org", "gissning 123")
    assert throttled.status_code == 429
    assert "Too many failed logins from your connection" in throttled.get_data(as_text=True)
    other = from_address(app.test_client(), "203.0.113.10")
    assert try_login(other, "person-sista@example.org", "gissning 123").status_code == 400


# --- 10. The least power by default; editing users --------------------------------------


def test_the_new_user_form_starts_at_board_of_the_district(logged_in, make_org, db):
    make_org("Vänsterpartiet Arvika")
    client, _ = logged_in(Role.ADMIN)
    page = client.get("/admin/users").get_data(as_text=True)
    assert re.search(r'<option selected value="board">|<option value="board" selected', page)
    with db.session() as session:
        home = district(session).id
    assert re.search(rf'<option selected value="{home}">|<option value="{home}" selected', page)


def test_granting_admin_needs_a_confirmation(logged_in, db):
    client, _ = logged_in(Role.ADMIN)
    with db.session() as session:
        home = district(session).id
    form = {"name": "Ny", "email": "ny-admin@example.org", "password": PASSWORD,
            "role": "admin", "organisation_id": home}
    assert post(client, "/admin/users", form, "/admin/users").status_code == 400
    with db.session() as session:
        assert session.scalar(select(User).where(User.email == "ny-admin@example.org")) is None
    assert post(client, "/admin/users", {**form, "confirm_admin": "y"},
                "/admin/users").status_code == 302
    with db.session() as session:
        made = session.scalar(select(User).where(User.email == "ny-admin@example.org"))
        assert made is not None and made.role is Role.ADMIN


def test_an_admin_edits_a_users_role_organisation_and_name(logged_in, make_user, make_org, db):
    client, admin = logged_in(Role.ADMIN)
    arvika = make_org("Vänsterpartiet Arvika")
    user = make_user(Role.BOARD)
    path = f"/admin/users/{user.id}"
    form = {"name": "Bo Ek", "role": "comms", "organisation_id": arvika.id, "active": "y"}
    assert post(client, path, form, path).status_code == 302
    promote = {**form, "role": "admin"}
    assert post(client, path, promote, path).status_code == 400  # not confirmed
    with db.session() as session:
        changed = session.get(User, user.id)
        assert (changed.name, changed.role, changed.organisation_id) == (
            "Bo Ek", Role.COMMS, arvika.id)
        history = list(session.scalars(select(UserEvent).where(UserEvent.user_id == user.id)
                                       .order_by(UserEvent.id)))
        assert [e.change for e in history] == [
            "name: Board Testsson → Bo Ek", "role: board → comms",
            "organisation: Distriktet → Vänsterpartiet Arvika"]
        assert {e.actor_id for e in history} == {admin.id}
    own = f"/admin/users/{admin.id}"
    with db.session() as session:
        own_org = session.get(User, admin.id).organisation_id
    demote = {"name": "Jag", "role": "board", "organisation_id": own_org, "active": "y"}
    assert post(client, own, demote, own).status_code == 400  # no admin demotes themselves
    assert client.get("/admin/users/999999").status_code == 404


def test_only_admins_reach_user_editing(logged_in, make_user):
    client, _ = logged_in(Role.COMMS)
    other = make_user(Role.BOARD)
    assert client.get(f"/admin/users/{other.id}").status_code == 403



def test_a_nul_byte_in_an_address_or_name_is_refused_clearly(any_app, any_services):
    """PostgreSQL refuses NUL in text: it must never reach a query (issue 14, finding 7)."""
    user = person(any_services, Role.ADMIN)
    client = any_app.test_client()
    assert try_login(client, "ad\x00min@example.org", "gissning 123").status_code == 400
    forgot = post(client, "/password/forgot", {"email": "a\x00b@example.org"}, "/password/forgot")
    assert forgot.status_code == 400  # said at the field, like any other form
    login(client, user)
    path = f"/admin/users/{user.id}"
    with any_services.db.session() as session:
        organisation_id = session.get(User, user.id).organisation_id
    response = post(client, path, {"name": "Å\x00sa", "role": "admin", "active": "y",
                                   "organisation_id": organisation_id}, path)
    assert response.status_code == 400
    added = post(client, "/admin/users", {"name": "Ny", "email": "n\x00y@example.org",
                                          "password": PASSWORD, "role": "board",
                                          "organisation_id": organisation_id}, "/admin/users")
    assert added.status_code == 400


def test_an_associations_admin_manages_only_that_associations_users(logged_in, make_user,
                                                                    make_org, db):
    arvika, kil = make_org("Vänsterpartiet Arvika"), make_org("Vänsterpartiet Kil")
    client, _ = logged_in(Role.ADMIN, organisation=arvika)
    own, other = make_user(Role.BOARD, organisation=arvika), make_user(Role.BOARD, organisation=kil)
    page = client.get("/admin/users").get_data(as_text=True)
    assert own.email in page and other.email not in page
    assert "Vänsterpartiet Kil" not in page
    assert client.get(f"/admin/users/{other.id}").status_code == 404
    path = f"/admin/users/{own.id}"
    moved = {"name": "Bo", "role": "board", "organisation_id": kil.id, "active": "y"}
    assert post(client, path, moved, path).status_code in (400, 403)  # not offered, refused
    into_kil = {"name": "Ny", "email": "ny-kil@example.org", "password": PASSWORD,
                "role": "board", "organisation_id": kil.id}
    assert post(client, "/admin/users", into_kil, "/admin/users").status_code in (400, 403)
    with db.session() as session:
        assert session.scalar(select(User).where(User.email == "ny-kil@example.org")) is None
        assert session.get(User, own.id).organisation_id == arvika.id

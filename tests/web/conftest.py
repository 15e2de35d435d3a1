"""Web fixtures: the real app over the test services, a logged-in client per role."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from core.users import Role, User
from tests.conftest import PASSWORD
from tests.web.browser import LiveMegafon, live_megafon, require_chromium
from web import create_app


@pytest.fixture
def app(services) -> Flask:
    app = create_app(services.settings, services)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client: FlaskClient, user: User, password: str = PASSWORD) -> None:
    response = client.post("/login", data={"email": user.email, "password": password,
                                           "csrf_token": csrf_token(client)})
    assert response.status_code == 302, response.get_data(as_text=True)


@pytest.fixture
def logged_in(app: Flask, make_user) -> Callable[..., tuple[FlaskClient, User]]:
    """A fresh client logged in as a new user with the given role (and organisation)."""

    def make(role: Role = Role.ADMIN, organisation=None) -> tuple[FlaskClient, User]:
        user = make_user(role, organisation=organisation)
        client = app.test_client()
        login(client, user)
        return client, user

    return make


@pytest.fixture
def megafon(tmp_path: Path, sandbox) -> Iterator[LiveMegafon]:
    """Megafon serving on loopback for a browser test (Chromium required, in CI never skipped)."""
    require_chromium()
    with live_megafon(tmp_path, sandbox.url) as live:
        yield live

"""The new pages' query strings, as a person or a crawler might mistype them: a year 1 or 9999,
huge numbers, a NUL byte, wrong words. Each answers with the page (perhaps saying what is
wrong) or 400/404, never a 5xx."""

from __future__ import annotations

import pytest

from core.users import Role
from tests.web.conftest import csrf_token

ODD = ["²", "0001-01-01", "9999-12-31", "2026-02-30", "9" * 30, "-1", "\x00", "ö", "x" * 3000]
PAGES = {
    "/calendar": ["date", "view", "account", "organisation", "campaign", "state", "author"],
    "/county": ["from", "until"],
    "/election": [],
    "/events": ["municipality", "when"],
    "/reviews": [],
    "/admin/audit": ["actor", "action", "object_type", "organisation", "since", "until"],
    "/drafts": [],
    "/mentions": ["watchlist", "account", "person"],
    "/compose": ["draft"],
}


@pytest.mark.parametrize("path", sorted(PAGES))
def test_odd_values_never_give_a_server_error(path, logged_in):
    client, _ = logged_in(Role.ADMIN)
    assert client.get(path).status_code == 200
    for name in PAGES[path]:
        for value in ODD:
            response = client.get(path, query_string={name: value})
            assert response.status_code in (200, 400, 404, 422), (path, name, value[:20])


def test_an_odd_notification_id_is_refused_not_a_server_error(logged_in):
    client, _ = logged_in(Role.COMMS)
    token = csrf_token(client, "/notifications")
    for value in ("²", "9" * 30, "-1"):
        response = client.post("/notifications/read", data={"csrf_token": token, "id": value})
        assert response.status_code == 400, value

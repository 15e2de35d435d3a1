"""The main pages render for an admin, in Swedish by default and in English on request."""

from core.users import Role
from tests.web.conftest import csrf_token


def test_every_page_renders_for_an_admin(logged_in):
    client, _ = logged_in(Role.ADMIN)
    for path in ("/", "/compose", "/accounts/", "/admin/users"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "Megafon" in response.get_data(as_text=True)


def test_anonymous_is_sent_to_login(client):
    response = client.get("/compose")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_language_choice_is_remembered_for_the_user(logged_in):
    client, _ = logged_in(Role.COMMS)
    token = csrf_token(client, "/")
    client.post("/language/en", data={"csrf_token": token})
    assert "New post" in client.get("/").get_data(as_text=True)

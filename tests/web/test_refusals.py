"""A refusal from the domain (core.auth.NotAllowed) reaches the user as one 403 page, in their
language, from the one handler in web/errors.py; nothing of the refused request is kept."""

from __future__ import annotations

import io

from sqlalchemy import select

from core.auth import NotAllowed
from core.users import Role
from publisher.models import Account, MediaFile, Platform, Post
from tests.factories import count
from tests.media_images import picture
from tests.web.conftest import csrf_token


def test_a_view_that_lets_a_refusal_through_answers_403(app, db, logged_in):
    """No view catches NotAllowed: whatever a service refuses becomes the 403 page here."""

    @app.get("/refuses")
    def refuses() -> str:
        raise NotAllowed("organisation not in your scope")

    client, _ = logged_in(Role.ADMIN)
    response = client.get("/refuses")
    assert response.status_code == 403
    assert "Du har inte behörighet att göra det." in response.text
    assert "organisation not in your scope" not in response.text  # the reason stays inside


def test_a_refused_role_gets_the_403_page_in_swedish(logged_in):
    client, _ = logged_in(Role.BOARD)
    response = client.get("/compose")
    assert response.status_code == 403
    assert "Du har inte behörighet att göra det." in response.text
    client.post("/language/en", data={"csrf_token": csrf_token(client, "/")})
    assert "You do not have permission to do that." in client.get("/admin/users").text


def test_a_service_refusing_another_associations_account_answers_403(db, logged_in, make_org,
                                                                     make_account):
    own, other = make_org(), make_org()
    theirs, _ = make_account(Platform.FACEBOOK, organisation=other)
    client, _ = logged_in(Role.COMMS, organisation=own)
    response = client.post(f"/accounts/{theirs.id}/disconnect",
                           data={"csrf_token": csrf_token(client, "/")})
    assert response.status_code == 403
    assert "Du har inte behörighet att göra det." in response.text
    with db.session() as session:
        assert session.scalar(select(Account.active).where(Account.id == theirs.id))


def test_a_post_refused_for_scope_answers_403_and_leaves_no_picture(services, db, logged_in,
                                                                     make_org, make_account):
    own, other = make_org(), make_org()
    theirs, _ = make_account(Platform.X, organisation=other)
    client, _ = logged_in(Role.COMMS, organisation=own)
    response = client.post("/compose", content_type="multipart/form-data", data={
        "csrf_token": csrf_token(client, "/compose"), "text": "Intrång",
        "accounts": [str(theirs.id)], "images-0-file": (io.BytesIO(picture()), "affisch.png"),
        "images-0-alt_text": "Affisch"})
    assert response.status_code == 403
    assert "Du har inte behörighet att göra det." in response.text
    assert count(db, Post) == 0 and count(db, MediaFile) == 0
    assert list((services.settings.instance_path / "media").rglob("*.png")) == []

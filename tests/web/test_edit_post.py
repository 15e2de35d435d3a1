"""Changing a queued post from the overview: the form comes filled in, bad changes are shown
and saved nothing, good ones are what goes out."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update

from core.clock import STOCKHOLM
from core.users import Role
from publisher.models import Delivery, DeliveryState, Platform, Post
from tests.factories import queue_post
from tests.web.conftest import csrf_token


def tomorrow_at(hour: int, minute: int = 0) -> datetime:
    day = datetime.now(STOCKHOLM) + timedelta(days=1)
    return day.replace(hour=hour, minute=minute, second=0, microsecond=0, tzinfo=None)


def test_a_queued_post_is_changed_from_the_overview(services, logged_in, make_account):
    x, _ = make_account(Platform.X)
    fb, _ = make_account(Platform.FACEBOOK)
    client, user = logged_in(Role.COMMS)
    post = queue_post(services.db, user, [x, fb], text="Torgmöte kl 12",
                      at_local=tomorrow_at(12))
    overview = client.get("/").get_data(as_text=True)
    assert f'href="/posts/{post.id}/edit"' in overview and ">Ändra<" in overview

    form = client.get(f"/posts/{post.id}/edit").get_data(as_text=True)
    assert "Ändra inlägg" in form and "Torgmöte kl 12" in form
    assert f'value="{tomorrow_at(12):%Y-%m-%dT%H:%M}"' in form
    assert "Bilder och konton ändras inte" in form

    token = csrf_token(client, f"/posts/{post.id}/edit")
    refused = client.post(f"/posts/{post.id}/edit", data={
        "csrf_token": token, "text": "x" * 300,
        "scheduled_at": f"{tomorrow_at(13):%Y-%m-%dT%H:%M}"})
    assert refused.status_code == 400 and "För långt för X" in refused.get_data(as_text=True)

    saved = client.post(f"/posts/{post.id}/edit", data={
        "csrf_token": token, "text": "Torgmöte kl 13 – med fika",
        "scheduled_at": f"{tomorrow_at(13, 30):%Y-%m-%dT%H:%M}"}, follow_redirects=True)
    assert "Inlägget är ändrat." in saved.get_data(as_text=True)
    with services.db.session() as session:
        changed = session.get(Post, post.id)
        assert changed.text == "Torgmöte kl 13 – med fika"
        assert {d.due_at for d in changed.deliveries} == {changed.scheduled_at}
        assert changed.scheduled_at.astimezone(STOCKHOLM).strftime("%H:%M") == "13:30"
    history = client.get(f"/deliveries/{post.deliveries[0].id}").get_data(as_text=True)
    assert f"ändrat av {user.name}" in history


def test_a_post_already_out_somewhere_cannot_be_changed(services, logged_in, make_account):
    x, _ = make_account(Platform.X)
    fb, _ = make_account(Platform.FACEBOOK)
    client, user = logged_in(Role.COMMS)
    post = queue_post(services.db, user, [x, fb], text="Ute på X", at_local=tomorrow_at(9))
    with services.db.session() as session:
        session.execute(update(Delivery).where(Delivery.account_id == x.id)
                        .values(state=DeliveryState.PUBLISHED))
    page = client.get(f"/posts/{post.id}/edit", follow_redirects=True).get_data(as_text=True)
    assert "Inlägget kan inte ändras längre" in page
    response = client.post(f"/posts/{post.id}/edit", data={
        "csrf_token": csrf_token(client, "/"), "text": "Ändrad ändå"}, follow_redirects=True)
    assert "Inlägget kan inte ändras längre" in response.get_data(as_text=True)
    with services.db.session() as session:
        assert session.get(Post, post.id).text == "Ute på X"

"""Changing a queued post from the overview: the form comes filled in, bad changes are shown
and saved nothing, good ones are what goes out."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta

from sqlalchemy import select, update

from core.clock import STOCKHOLM
from core.users import Role, User
from publisher.media import store_image
from publisher.models import Delivery, DeliveryState, MediaFile, Platform, Post
from publisher.posts import DraftImage, PostDraft, create_post
from tests.factories import queue_post
from tests.media_images import picture
from tests.web.conftest import csrf_token


def tomorrow_at(hour: int, minute: int = 0) -> datetime:
    day = datetime.now(STOCKHOLM) + timedelta(days=1)
    return day.replace(hour=hour, minute=minute, second=0, microsecond=0, tzinfo=None)


def at(local: datetime) -> dict[str, str]:
    """The composer's time fields as a person types them."""
    return {"when": "at", "scheduled_date": f"{local:%Y-%m-%d}", "scheduled_time": f"{local:%H:%M}"}


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
    assert f'value="{tomorrow_at(12):%Y-%m-%d}"' in form and 'value="12:00"' in form
    assert form.count('name="accounts"') == 2
    assert len(re.findall(r'name="accounts" value="\d+"[^>]* checked', form)) == 2

    token = csrf_token(client, f"/posts/{post.id}/edit")
    refused = client.post(f"/posts/{post.id}/edit", data={
        "csrf_token": token, "text": "x" * 300, "accounts": [x.id, fb.id],
        **at(tomorrow_at(13))})
    assert refused.status_code == 400 and "För långt för X" in refused.get_data(as_text=True)

    saved = client.post(f"/posts/{post.id}/edit", data={
        "csrf_token": token, "text": "Torgmöte kl 13 – med fika", "accounts": [x.id, fb.id],
        **at(tomorrow_at(13, 30))}, follow_redirects=True)
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
        waiting = session.scalar(select(Delivery.id).where(Delivery.account_id == fb.id))
    # No "Ändra" leads to a refusal: the waiting Facebook row offers none, only "cancel".
    overview = client.get("/").get_data(as_text=True)
    assert f'data-delivery="{waiting}"' in overview and 'data-testid="edit-post"' not in overview
    details = client.get(f"/deliveries/{waiting}").get_data(as_text=True)
    assert 'data-testid="edit-post"' not in details and "Avbryt" in details
    page = client.get(f"/posts/{post.id}/edit", follow_redirects=True).get_data(as_text=True)
    assert "Inlägget kan inte ändras längre" in page
    response = client.post(f"/posts/{post.id}/edit", data={
        "csrf_token": csrf_token(client, "/"), "text": "Ändrad ändå"}, follow_redirects=True)
    assert "Inlägget kan inte ändras längre" in response.get_data(as_text=True)
    with services.db.session() as session:
        assert session.get(Post, post.id).text == "Ute på X"


def test_pictures_and_accounts_are_changed_in_the_same_form(services, logged_in, make_account):
    x, _ = make_account(Platform.X)
    karlstad, _ = make_account(Platform.FACEBOOK)
    arvika, _ = make_account(Platform.FACEBOOK)
    client, user = logged_in(Role.COMMS)
    with services.db.session() as session:
        kept, dropped = (store_image(session, services.settings.instance_path,
                                     picture("PNG", (40 + n, 30)), name=f"bild{n}.png",
                                     user_id=user.id).id for n in range(2))
        post = create_post(session, session.get(User, user.id), PostDraft(
            text="Bilder från torget", account_ids=[x.id, karlstad.id],
            scheduled_local=tomorrow_at(10),
            media=[DraftImage(kept, "Gammal beskrivning"), DraftImage(dropped, "Ska bort")]))
        session.commit()

    form = client.get(f"/posts/{post.id}/edit").text
    assert form.count('data-testid="kept-image"') == 2 and "Gammal beskrivning" in form
    assert 'name="kept-1-remove"' in form and "Ta bort bilden" in form
    assert form.count('accept="image/*"') == 2  # four pictures at most, two are there

    saved = client.post(f"/posts/{post.id}/edit", content_type="multipart/form-data", data={
        "csrf_token": csrf_token(client, f"/posts/{post.id}/edit"), "text": "Bilder från torget",
        "accounts": [str(x.id), str(arvika.id)],
        **at(tomorrow_at(10)),
        "kept-0-alt_text": "Tre personer vid Stora torget",
        "kept-1-alt_text": "Ska bort", "kept-1-remove": "y",
        "images-0-file": (io.BytesIO(picture("PNG", (60, 30))), "banderoll.png"),
        "images-0-alt_text": "En banderoll"}, follow_redirects=True)
    assert "Inlägget är ändrat." in saved.text
    with services.db.session() as session:
        changed = session.get(Post, post.id)
        assert [(m.file.width, m.alt_text) for m in changed.media] == [
            (40, "Tre personer vid Stora torget"), (60, "En banderoll")]
        assert {d.account_id: d.state for d in changed.deliveries} == {
            x.id: DeliveryState.SCHEDULED, karlstad.id: DeliveryState.CANCELLED,
            arvika.id: DeliveryState.SCHEDULED}


def test_a_refused_change_keeps_the_form_as_written_and_the_new_picture_for_the_next_try(
        services, logged_in, make_account):
    x, _ = make_account(Platform.X)
    fb, _ = make_account(Platform.FACEBOOK)
    client, user = logged_in(Role.COMMS)
    post = queue_post(services.db, user, [fb], text="Bara Facebook", at_local=tomorrow_at(9))
    refused = client.post(f"/posts/{post.id}/edit", content_type="multipart/form-data", data={
        "csrf_token": csrf_token(client, f"/posts/{post.id}/edit"), "text": "x" * 300,
        "accounts": [str(x.id), str(fb.id)], **at(tomorrow_at(9)),
        "images-0-file": (io.BytesIO(picture("PNG", (61, 30))), "ny.png")})
    assert refused.status_code == 400
    assert "För långt för X" in refused.text
    # both accounts, as the author left them
    assert len(re.findall(r'name="accounts" value="\d+"[^>]* checked', refused.text)) == 2
    with services.db.session() as session:
        held = session.scalar(select(MediaFile.id).where(MediaFile.width == 61))
        assert f'name="held-0-media_id" type="hidden" value="{held}"' in refused.text
        assert session.get(Post, post.id).media == []  # the post itself is as it was
        assert [d.account_id for d in session.get(Post, post.id).deliveries] == [fb.id]

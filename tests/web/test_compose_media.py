"""Pictures, threads and first comments through the real compose form (multipart, CSRF)."""

from __future__ import annotations

import html
import io
import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from core.users import Organisation, OrganisationKind, Role
from publisher.models import MediaFile, Platform, Post
from tests.factories import count
from tests.media_images import jpeg_with_gps, noise, picture
from tests.web.browser import Megafon, chromium, live_megafon, require_chromium
from tests.web.conftest import csrf_token

ALT = "Två personer håller upp en banderoll om kollektivtrafik."


def field_errors(page: str) -> list[str]:
    found = re.findall(r'<p class="field-error"[^>]*>(.*?)</p>', page, re.S)
    return [html.unescape(m).strip() for m in found]


def send(client: FlaskClient, accounts, text: str = "Bilder från torget", *,
         files: list[tuple[bytes, str]] = (), alts: list[str] = (), **fields) -> object:
    data: dict[str, object] = {"csrf_token": csrf_token(client, "/compose"), "text": text,
                               "accounts": [str(a.id) for a in accounts], **fields}
    for n, (content, name) in enumerate(files):
        data[f"images-{n}-file"] = (io.BytesIO(content), name)
    for n, alt in enumerate(alts):
        data[f"images-{n}-alt_text"] = alt
    return client.post("/compose", data=data, content_type="multipart/form-data")


def media_files(services) -> list[Path]:
    return sorted((services.settings.instance_path / "media").rglob("*.*"))


def test_the_compose_page_offers_images_a_thread_and_a_first_comment(logged_in, make_account):
    make_account(Platform.X)
    client, _ = logged_in(Role.COMMS)
    page = client.get("/compose").text
    assert 'enctype="multipart/form-data"' in page
    assert page.count('accept="image/*"') == 4 and 'name="images-3-alt_text"' in page
    assert "Tråd på X" in page and 'name="thread-0"' in page and 'id="add-part"' in page
    assert "Första kommentar (Facebook)" in page


def test_an_uploaded_picture_is_saved_with_its_alt_text_and_can_be_previewed(
        services, logged_in, make_account):
    x, _ = make_account(Platform.X)
    fb, _ = make_account(Platform.FACEBOOK)
    client, _ = logged_in(Role.COMMS)
    response = send(client, [x, fb], files=[(jpeg_with_gps(), "torget.jpg"),
                                            (picture("PNG"), "karta.jpg")],
                    alts=[ALT, "Karta"], **{"thread-0": "Fler bilder i kväll",
                                            "first_comment": "Alla bilder: https://example.org"})
    assert response.status_code == 302, field_errors(response.text)

    with services.db.session() as session:
        post = session.scalars(select(Post)).unique().one()
        assert [(m.position, m.alt_text, m.file.mime) for m in post.media] == [
            (1, ALT, "image/jpeg"), (2, "Karta", "image/png")]
        assert [p.text for p in post.parts] == ["Fler bilder i kväll"]
        assert post.first_comment == "Alla bilder: https://example.org"
        stored = post.media[0].file
        media_id, path = stored.id, services.settings.instance_path / stored.path
    assert b"Spyphone" not in path.read_bytes()  # the camera's EXIF (and GPS) is gone

    preview = client.get(f"/media/{media_id}")
    assert preview.status_code == 200 and preview.mimetype == "image/jpeg"
    assert preview.data == path.read_bytes()


def test_a_picture_is_not_shown_to_another_association(services, logged_in, make_account,
                                                      db):
    x, _ = make_account(Platform.X)
    client, _ = logged_in(Role.COMMS)
    assert send(client, [x], files=[(picture("GIF"), "a.gif")], alts=["Ett rött fält"]
                ).status_code == 302
    with db.session() as session:
        media_id = session.scalar(select(MediaFile.id))
        district = session.scalar(select(Organisation).where(
            Organisation.kind == OrganisationKind.DISTRICT))
        other = Organisation(name="Annan förening", kind=OrganisationKind.ASSOCIATION,
                             parent=district)
        session.add(other)
        session.flush()
        session.expunge(other)
    outsider, _ = logged_in(Role.COMMS, organisation=other)
    assert outsider.get(f"/media/{media_id}").status_code == 404
    assert client.get(f"/media/{media_id}").status_code == 200


def test_a_text_file_named_png_is_refused_and_the_good_picture_is_kept_for_the_next_try(
        services, logged_in, make_account):
    x, _ = make_account(Platform.X)
    client, _ = logged_in(Role.COMMS)
    response = send(client, [x], files=[(picture("PNG"), "bra.png"),
                                        (b"inte en bild\n" * 40, "affisch.png")],
                    alts=["Bra bild", "Affischen"])
    assert response.status_code == 400
    errors = field_errors(response.text)
    assert ("affisch.png är ingen bild som Megafon kan publicera. Använd en JPEG-, PNG-, GIF- "
            "eller WebP-bild.") in errors
    assert count(services.db, Post) == 0
    # The good picture is not chosen again: it comes back, described, ready to be queued.
    with services.db.session() as session:
        [held] = session.scalars(select(MediaFile)).all()
        held_id = held.id
    assert len(media_files(services)) == 1
    assert f'name="held-0-media_id" type="hidden" value="{held_id}"' in response.text
    assert "Bra bild" in response.text and f"/media/{held_id}" in response.text

    again = client.post("/compose", data={
        "csrf_token": csrf_token(client, "/compose"), "text": "Bilder från torget",
        "accounts": [str(x.id)], "held-0-media_id": str(held_id), "held-0-file_name": "bra.png",
        "held-0-alt_text": "Bra bild, beskriven"}, content_type="multipart/form-data")
    assert again.status_code == 302, field_errors(again.text)
    with services.db.session() as session:
        post = session.scalars(select(Post)).unique().one()
        assert [(m.media_id, m.alt_text) for m in post.media] == [(held_id, "Bra bild, beskriven")]


def test_pictures_come_back_when_the_text_has_a_problem_and_can_be_taken_out(
        services, logged_in, make_account):
    x, _ = make_account(Platform.X)
    client, _ = logged_in(Role.COMMS)
    response = send(client, [x], text="", files=[(picture("PNG"), "a.png"),
                                                 (picture("GIF"), "b.gif")], alts=["A", "B"])
    assert response.status_code == 400
    assert response.text.count('data-testid="held-image"') == 2
    with services.db.session() as session:
        first, second = session.scalars(select(MediaFile.id).order_by(MediaFile.id)).all()
    again = client.post("/compose", data={
        "csrf_token": csrf_token(client, "/compose"), "text": "Nu med text",
        "accounts": [str(x.id)], "held-0-media_id": str(first), "held-0-alt_text": "A",
        "held-1-media_id": str(second), "held-1-alt_text": "B", "held-1-remove": "y"},
        content_type="multipart/form-data")
    assert again.status_code == 302, field_errors(again.text)
    with services.db.session() as session:
        post = session.scalars(select(Post)).unique().one()
        assert [m.media_id for m in post.media] == [first]


def test_another_persons_held_picture_cannot_be_borrowed(services, logged_in, make_account):
    x, _ = make_account(Platform.X)
    client, _ = logged_in(Role.COMMS)
    send(client, [x], text="", files=[(picture("PNG"), "min.png")], alts=["Min"])
    with services.db.session() as session:
        media_id = session.scalar(select(MediaFile.id))
    other, _ = logged_in(Role.COMMS)
    response = other.post("/compose", data={
        "csrf_token": csrf_token(other, "/compose"), "text": "Lånad bild",
        "accounts": [str(x.id)], "held-0-media_id": str(media_id), "held-0-alt_text": "Min"},
        content_type="multipart/form-data")
    assert response.status_code == 302
    with services.db.session() as session:
        assert session.scalars(select(Post)).unique().one().media == []


def test_a_held_picture_nobody_queued_is_removed_after_two_days(services, logged_in,
                                                                make_account):
    from datetime import timedelta

    from core.clock import utcnow
    from publisher.media import forget_unattached

    x, _ = make_account(Platform.X)
    client, _ = logged_in(Role.COMMS)
    send(client, [x], text="", files=[(picture("PNG"), "glömd.png")], alts=["Glömd"])
    assert send(client, [x], text="Med bild", files=[(picture("GIF"), "använd.gif")],
                alts=["Använd"]).status_code == 302
    root = services.settings.instance_path
    with services.db.session() as session:
        assert forget_unattached(session, root, utcnow() + timedelta(days=1)) == 0
        assert forget_unattached(session, root, utcnow() + timedelta(days=3)) == 1
        session.commit()
    with services.db.session() as session:
        used = session.scalars(select(Post)).unique().one().media[0].file
        assert session.scalars(select(MediaFile.id)).all() == [used.id]
    assert media_files(services) == [root / used.path]


def test_a_picture_too_large_for_x_is_refused_at_compose(services, logged_in, make_account):
    x, _ = make_account(Platform.X)
    client, _ = logged_in(Role.COMMS)
    response = send(client, [x], files=[(noise(6), "affisch.png")], alts=["Affischen"])
    assert response.status_code == 400
    assert ("affisch.png är 6.0 MB, större än vad X tar emot (5 MB). Välj en mindre bild, "
            "eller publicera inte inlägget på X.") in field_errors(response.text)
    assert count(services.db, Post) == 0
    # kept on the server and shown again: the author may take it out or leave X out
    assert response.text.count('data-testid="held-image"') == 1


def test_a_picture_over_8_mb_is_refused(services, logged_in, make_account):
    fb, _ = make_account(Platform.FACEBOOK)
    client, _ = logged_in(Role.COMMS)
    response = send(client, [fb], files=[(noise(8.5), "stor.png")])
    assert response.status_code == 400
    assert "stor.png är för stor: bilder får vara högst 8 MB." in field_errors(response.text)
    assert count(services.db, Post) == 0


def test_a_thread_without_an_x_account_is_refused_next_to_the_thread(services, logged_in,
                                                                     make_account):
    fb, _ = make_account(Platform.FACEBOOK)
    client, _ = logged_in(Role.COMMS)
    response = send(client, [fb], **{"thread-0": "Del två", "thread-1": "Del tre"})
    assert response.status_code == 400
    assert ("En tråd publiceras bara på X: välj ett X-konto, eller ta bort fortsättningarna."
            in field_errors(response.text))
    assert 'name="thread-1"' in response.text and "Del tre" in response.text
    assert count(services.db, Post) == 0


def test_a_picture_without_a_description_is_queued_with_a_warning(services, logged_in,
                                                                  make_account):
    x, _ = make_account(Platform.X)
    client, _ = logged_in(Role.COMMS)
    response = send(client, [x], files=[(picture("WEBP"), "utan.webp")])
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).text
    assert "Ingen beskrivning för utan.webp" in html.unescape(page)
    assert count(services.db, Post) == 1


@pytest.mark.browser
def test_in_a_browser_parts_are_added_counted_and_removed_and_pictures_previewed(
        tmp_path: Path, sandbox):
    from playwright.sync_api import expect

    require_chromium()
    image = tmp_path / "torget.png"
    image.write_bytes(picture("PNG", (300, 200)))
    with live_megafon(tmp_path, sandbox.url) as live, chromium() as browser:
        person = Megafon(browser.new_page(), live)
        page = person.page
        person.log_in()
        person.switch_language()  # English
        person.open("/accounts/")
        person.connect_sandbox_account("x", f"Tråd {tmp_path.name[-6:]}")
        person.open("/compose")

        slots = page.locator(".image-slot")
        expect(slots.nth(0)).to_be_visible()
        expect(slots.nth(1)).to_be_hidden()
        page.set_input_files("#images-0-file", str(image))
        expect(page.locator("#preview-1")).to_be_visible()
        expect(slots.nth(1)).to_be_visible()
        page.fill("#images-0-alt_text", "A square full of people")

        page.fill("#text", "A thread 1/3")
        page.locator("ul.checks input").first.check()
        page.fill("#thread-0", "Second part 2/3")
        expect(page.locator(".part-count").first).to_have_text("15 / 280")
        page.click("#add-part")
        page.fill("#thread-1", "b" * 281)
        expect(page.locator(".part-count").nth(1)).to_have_text("281 / 280")
        expect(page.locator("label[for=thread-1]")).to_have_text("Part 3")
        page.click("#add-part")
        page.locator(".remove-part").nth(1).click()  # the one that was too long
        expect(page.locator(".thread-part")).to_have_count(2)
        expect(page.locator("#thread-1")).to_have_value("")
        page.fill("#thread-1", "Third part 3/3")
        page.click("form.compose button[type=submit]")
        page.wait_for_load_state()
        expect(page.locator(".flash-success")).to_contain_text("queued")

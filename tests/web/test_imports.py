"""Importing posts from a file in the web app (issue 17, point 7): upload, a preview with every
row's problems in Swedish, nothing queued until the confirmation, then the valid rows; a real
Chromium test with the CSV Swedish Excel writes."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from core.clock import STOCKHOLM, to_local
from core.db import Database
from core.users import Role
from publisher.bulk_import import PostImport
from publisher.models import Delivery, Platform, Post
from tests.factories import count
from tests.media_images import picture
from tests.web.browser import LiveMegafon, Megafon, artifact, chromium
from tests.web.conftest import csrf_token


def day_after_tomorrow(hour: int = 12) -> str:
    moment = datetime.now(STOCKHOLM) + timedelta(days=2)
    return f"{moment:%Y-%m-%d} {hour:02d}:15"


def swedish_excel_csv(x_name: str, fb_name: str) -> bytes:
    """What Swedish Excel's "CSV (semikolonavgränsad)" writes: semicolons, Windows-1252."""
    yesterday = datetime.now(STOCKHOLM) - timedelta(days=1)
    lines = [
        "Konto;Tid;Text;Länk;Bild;Alt-text",
        f"{x_name};{day_after_tomorrow(9)};Välkommen på öppet möte om äldreomsorgen!;;;",
        f"Okänt konto;{day_after_tomorrow(10)};Till ett konto som inte finns;;;",
        f"{x_name};{yesterday:%Y-%m-%d} 10:00;Det här är redan passerat;;;",
        f"{fb_name};{day_after_tomorrow(11)};Skolan i Kil – kom och säg din mening;"
        "https://example.org/skola;;",
        f"{x_name};{day_after_tomorrow(12)};{'Kollektivtrafik ' * 20};;;",
    ]
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def upload(client, data: bytes, name: str = "inlagg.csv", **extra):
    token = csrf_token(client, "/compose/import")
    return client.post("/compose/import", data={"csrf_token": token,
                                                "file": (io.BytesIO(data), name), **extra},
                       content_type="multipart/form-data")


def imports(db) -> list[PostImport]:
    with db.session() as session:
        found = list(session.scalars(select(PostImport).order_by(PostImport.id)))
        session.expunge_all()
        return found


def test_the_preview_names_each_rows_problem_in_swedish_and_queues_nothing(
        db, logged_in, make_account):
    x, _ = make_account(Platform.X, name="Kil X")
    facebook, _ = make_account(Platform.FACEBOOK, name="Kil FB")
    client, _ = logged_in(Role.COMMS)
    response = upload(client, swedish_excel_csv("Kil X", "Kil FB"))
    [record] = imports(db)
    assert response.status_code == 302
    assert response.location.endswith(f"/compose/import/{record.id}")
    page = client.get(f"/compose/import/{record.id}").text
    assert "5 rader: <strong>2 giltiga</strong>, 3 med fel" in page
    assert "Rad 3, kolumn Konto: Inget konto heter Okänt konto" in page
    assert "Rad 4, kolumn Tid:" in page and "har redan passerat" in page
    assert "Rad 6, kolumn Text: För långt för X: 320 tecken av högst 280" in page
    assert "Importera de 2 giltiga raderna" in page
    assert count(db, Post) == 0


def test_confirming_queues_the_valid_rows_once(db, logged_in, make_account):
    make_account(Platform.X, name="Kil X")
    make_account(Platform.FACEBOOK, name="Kil FB")
    client, _ = logged_in(Role.COMMS)
    upload(client, swedish_excel_csv("Kil X", "Kil FB"))
    [record] = imports(db)
    token = csrf_token(client, f"/compose/import/{record.id}")
    response = client.post(f"/compose/import/{record.id}/confirm",
                           data={"csrf_token": token, "expected": "2"})
    assert response.status_code == 302
    assert "2 inlägg från filen är köade" in client.get(response.location).text
    with db.session() as session:
        assert sorted(session.scalars(select(Post.text))) == [
            "Skolan i Kil – kom och säg din mening", "Välkommen på öppet möte om äldreomsorgen!"]
        due = session.scalar(select(Delivery.due_at).join(Post).where(
            Post.text.startswith("Välkommen")))
    assert f"{to_local(due):%Y-%m-%d %H:%M}" == day_after_tomorrow(9)
    again = client.post(f"/compose/import/{record.id}/confirm",
                        data={"csrf_token": token, "expected": "2"})
    assert "redan importerad" in client.get(again.location).text
    assert count(db, Post) == 2


def test_a_count_that_does_not_match_the_preview_queues_nothing(db, logged_in, make_account):
    make_account(Platform.X, name="Kil X")
    make_account(Platform.FACEBOOK, name="Kil FB")
    client, _ = logged_in(Role.COMMS)
    upload(client, swedish_excel_csv("Kil X", "Kil FB"))
    [record] = imports(db)
    token = csrf_token(client, f"/compose/import/{record.id}")
    response = client.post(f"/compose/import/{record.id}/confirm",
                           data={"csrf_token": token, "expected": "5"})  # not what was shown
    assert "inget importerades" in client.get(response.location).text
    assert count(db, Post) == 0
    assert client.post(f"/compose/import/{record.id}/confirm",
                       data={"csrf_token": token, "expected": "två"}).status_code == 400


def test_an_xlsx_file_with_english_headers(db, logged_in, make_account):
    make_account(Platform.X, name="Kil X")
    client, _ = logged_in(Role.COMMS)
    book = Workbook()
    book.active.append(["account", "time", "text", "link", "image", "alt"])
    when = datetime.now(STOCKHOLM).replace(tzinfo=None, second=0, microsecond=0) \
        + timedelta(days=3)
    book.active.append(["Kil X", when, "Från Excel", None, None, None])
    out = io.BytesIO()
    book.save(out)
    response = upload(client, out.getvalue(), "inlagg.xlsx")
    [record] = imports(db)
    assert response.status_code == 302 and len(record.valid_rows) == 1
    assert "1 rad: <strong>1 giltig</strong>" in client.get(response.location).text


def test_bad_files_are_refused_at_the_field_and_nothing_is_kept(db, logged_in):
    client, _ = logged_in(Role.COMMS)
    token = csrf_token(client, "/compose/import")
    empty = client.post("/compose/import", data={"csrf_token": token})
    assert empty.status_code == 400 and "Välj en CSV- eller Excelfil" in empty.text
    missing = upload(client, b"konto;text\nKil X;Hej\n")
    assert missing.status_code == 400 and "Saknas: tid (time)" in missing.text
    not_zip = upload(client, b"konto;tid;text\n",
                     pictures=(io.BytesIO(b"inte en zip"), "bilder.zip"))
    assert not_zip.status_code == 400 and "är ingen zip-fil" in not_zip.text
    huge = upload(client, b"konto;tid;text\n" + b"x" * (10 * 1024 * 1024))
    assert huge.status_code == 400 and "för stor" in huge.text
    assert imports(db) == []


def test_another_associations_import_is_not_found(db, logged_in, make_org, make_account):
    own, other = make_org(), make_org()
    make_account(Platform.X, organisation=own, name="Egna X")
    theirs_client, _ = logged_in(Role.COMMS, organisation=own)
    upload(theirs_client, f"konto;tid;text\nEgna X;{day_after_tomorrow()};Hej\n".encode())
    [record] = imports(db)
    stranger, _ = logged_in(Role.COMMS, organisation=other)
    token = csrf_token(stranger, "/compose/import")
    assert stranger.get(f"/compose/import/{record.id}").status_code == 404
    assert stranger.post(f"/compose/import/{record.id}/confirm",
                         data={"csrf_token": token, "expected": "1"}).status_code == 404
    assert count(db, Post) == 0
    board, _ = logged_in(Role.BOARD, organisation=own)
    assert board.get("/compose/import").status_code == 403


def test_the_preview_of_many_rows_is_paged(db, logged_in, make_account):
    make_account(Platform.X, name="Kil X")
    client, _ = logged_in(Role.COMMS)
    lines = [f"Kil X;{day_after_tomorrow()};Inlägg nummer {n}" for n in range(250)]
    upload(client, ("konto;tid;text\n" + "\n".join(lines)).encode())
    [record] = imports(db)
    first = client.get(f"/compose/import/{record.id}").text
    assert "Sida 1 av 3" in first and first.count('data-valid="yes"') == 100
    last = client.get(f"/compose/import/{record.id}?page=3").text
    assert "Inlägg nummer 249" in last and last.count('data-valid="yes"') == 50
    assert client.get(f"/compose/import/{record.id}?page=x").status_code == 200


def test_pictures_come_from_the_uploaded_zip_or_through_the_ssrf_guard(db, logged_in,
                                                                       make_account):
    make_account(Platform.X, name="Kil X")
    client, _ = logged_in(Role.COMMS)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as packed:
        packed.writestr("affisch.png", picture())
    when = day_after_tomorrow()
    data = (f"konto;tid;text;bild;alt\nKil X;{when};Med bild;affisch.png;Affisch\n"
            f"Kil X;{when};Från en intern adress;http://127.0.0.1:9/bild.png;Bild\n").encode()
    response = upload(client, data, pictures=(io.BytesIO(archive.getvalue()), "bilder.zip"))
    [record] = imports(db)
    page = client.get(response.location).text
    assert "Rad 3, kolumn bild: Blockerad: 127.0.0.1 är en privat adress" in page
    assert [r["row"] for r in record.valid_rows] == [2]
    token = csrf_token(client, response.location)
    client.post(f"/compose/import/{record.id}/confirm",
                data={"csrf_token": token, "expected": "1"})
    with db.session() as session:
        post = session.scalar(select(Post))
        assert post.text == "Med bild" and [m.alt_text for m in post.media] == ["Affisch"]


@pytest.mark.browser
def test_a_swedish_excel_file_is_previewed_then_confirmed_in_chromium(megafon: LiveMegafon,
                                                                       tmp_path: Path):
    from playwright.sync_api import expect

    tag = tmp_path.name[-6:]
    x_name, fb_name = f"Import X {tag}", f"Import FB {tag}"
    csv_file = tmp_path / "inlagg.csv"
    csv_file.write_bytes(swedish_excel_csv(x_name, fb_name))
    database = Database(megafon.database_url)
    try:
        with chromium() as browser:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            person = Megafon(context.new_page(), megafon)
            page = person.page
            person.log_in()
            person.open("/accounts/")
            person.connect_sandbox_account("x", x_name)
            person.connect_sandbox_account("facebook", fb_name)
            person.open("/compose")
            page.get_by_test_id("import-link").click()
            page.set_input_files("#file", str(csv_file))
            page.get_by_test_id("import-preview").click()
            page.wait_for_load_state()
            expect(page.get_by_test_id("import-counts")).to_contain_text("2 giltiga")
            expect(page.locator("tr[data-valid=no]")).to_have_count(3)
            expect(page.locator("tr[data-row='3']")).to_contain_text("Inget konto heter")
            expect(page.locator("tr[data-row='4']")).to_contain_text("har redan passerat")
            expect(page.locator("tr[data-row='6']")).to_contain_text("För långt för X")
            page.screenshot(path=artifact("import-preview.png"), full_page=True)
            with database.session() as session:  # nothing yet
                assert session.scalar(select(func.count()).select_from(Post).where(
                    Post.text.like("%äldreomsorgen%"))) == 0
            page.get_by_test_id("import-confirm").click()
            page.wait_for_load_state()
            expect(page.get_by_test_id("import-done")).to_be_visible()
            expect(page.locator(".flash-success")).to_contain_text("2 inlägg")
            page.screenshot(path=artifact("import-confirmed.png"), full_page=True)
            context.close()
        with database.session() as session:
            queued = session.execute(select(Post.text, Delivery.due_at).join(Delivery)
                                     .order_by(Delivery.due_at)).all()
        texts = [text for text, _ in queued]
        assert "Välkommen på öppet möte om äldreomsorgen!" in texts
        assert "Skolan i Kil – kom och säg din mening" in texts
        assert not any(re.search("passerat|inte finns|Kollektivtrafik", t) for t in texts)
    finally:
        database.dispose()

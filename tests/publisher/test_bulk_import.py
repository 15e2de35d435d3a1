"""Bulk import of posts (issue 17, point 7): every encoding and separator people's programs
write, a problem per row and column, nothing queued before the confirmation, then every valid
row or none, within the importer's scope. Both databases; the clock is fixed in 2031."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from core.clock import to_local
from core.i18n import UserError
from core.users import Role, User
from monitor.fetch import FetchError, SafeFetcher
from publisher.bulk_import import (
    ImportChanged,
    PostImport,
    confirm_import,
    import_for,
    preview_import,
    recheck_import,
)
from publisher.models import Account, Delivery, DeliveryState, Platform, Post
from publisher.services import Services
from tests.media_images import picture
from tests.monitor.feedserver import FeedServer

NOW = datetime(2031, 3, 1, 9, 0, tzinfo=UTC)  # Stockholm 10:00, winter time
HEADER = "konto;tid;text;länk;bild;alt-text"


@pytest.fixture
def services(services_on_any_db: Services) -> Services:
    return services_on_any_db


@pytest.fixture
def world(services, make_user, make_account, make_org):
    own = make_org("Kils förening")
    other = make_org("Arvikas förening")
    x, _ = make_account(Platform.X, organisation=own, name="Kil på X")
    facebook, _ = make_account(Platform.FACEBOOK, organisation=own, name="Kil på Facebook")
    theirs, _ = make_account(Platform.X, organisation=other, name="Arvika på X")
    writer = make_user(Role.COMMS, organisation=own)
    return {"x": x, "facebook": facebook, "theirs": theirs, "writer": writer, "own": own,
            "other": other}


def preview(services, user, data: bytes, name: str = "inlagg.csv", **kw) -> PostImport:
    with services.db.session() as session:
        record = preview_import(session, session.get(User, user.id), data, name,
                                media_root=services.settings.instance_path, now=NOW, **kw)
        session.flush()
        session.expunge(record)
        return record


def posts(services) -> list[Post]:
    with services.db.session() as session:
        found = list(session.scalars(select(Post).order_by(Post.id)))
        session.expunge_all()
        return found


def problems(record: PostImport) -> dict[int, list[tuple[str, str]]]:
    return {row["row"]: [(p["column"], p["msgid"] % p["params"] if p["params"] else p["msgid"])
                         for p in row["problems"]] for row in record.rows}


def csv_text(*lines: str, header: str = HEADER) -> str:
    return "\r\n".join([header, *lines]) + "\r\n"


GOOD = ["Kil på X;2031-03-02 14:30;Bussarna i Kil ska gå i tid;;;",
        "Kil på Facebook;2031-03-03 08:00;Skolan i Kil behöver fler lärare – kom på mötet!;"
        "https://example.org/skola;;"]


@pytest.mark.parametrize("encoding, separator", [
    ("utf-8", ";"), ("utf-8-sig", ";"), ("cp1252", ";"), ("utf-8", ","), ("utf-8-sig", ","),
    ("cp1252", ","), ("utf-8", "\t")])
def test_each_encoding_and_separator_reads_the_same_rows(services, world, encoding, separator):
    text = csv_text(*(line.replace(";", separator) if separator != "," else
                      '"' + line.replace(";", '","') + '"' for line in GOOD),
                    header=HEADER.replace(";", separator))
    record = preview(services, world["writer"], text.encode(encoding))
    assert problems(record) == {2: [], 3: []}
    assert [r["cells"]["text"] for r in record.rows] == [
        "Bussarna i Kil ska gå i tid", "Skolan i Kil behöver fler lärare – kom på mötet!"]
    assert [r["account"] for r in record.rows] == ["Kil på X (X)", "Kil på Facebook (Facebook)"]


def test_english_headers_and_an_xlsx_file(services, world):
    book = Workbook()
    sheet = book.active
    sheet.append(["Account", "Time", "Text", "Link", "Image", "Alt"])
    sheet.append(["Kil på X", datetime(2031, 3, 2, 14, 30), "Från ett kalkylark", None, None,
                  None])
    sheet.append(["kil PÅ x", "2031-03-02 15:00", "Med små bokstäver i kontot", "", "", ""])
    out = io.BytesIO()
    book.save(out)
    record = preview(services, world["writer"], out.getvalue(), "inlagg.xlsx")
    assert problems(record) == {2: [], 3: []}
    assert record.rows[0]["cells"]["time"] == "2031-03-02 14:30"


def test_a_file_that_cannot_be_read_says_why(services, world):
    writer = world["writer"]
    with pytest.raises(UserError, match=r"Missing: tid \(time\)"):
        preview(services, writer, "konto;text\nKil på X;Hej\n".encode())
    with pytest.raises(UserError, match="empty"):
        preview(services, writer, b"\xef\xbb\xbf\r\n")
    with pytest.raises(UserError, match="characters in"):
        preview(services, writer, HEADER.encode() + b"\nKil p\x81 X;2031-03-02 14:30;x;;;\n")
    with pytest.raises(UserError, match="old Excel"):
        preview(services, writer, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "a.xls")
    with pytest.raises(UserError, match="not a spreadsheet"):
        preview(services, writer, b"PK\x03\x04 not really a zip", "a.xlsx")
    with services.db.session() as session:
        assert session.scalar(select(func.count()).select_from(PostImport)) == 0


def test_every_problem_is_named_by_row_and_column(services, world):
    long_text = "Kollektivtrafik " * 20  # 320 characters: too long for X, fine for Facebook
    record = preview(services, world["writer"], csv_text(
        "Kil på X;2031-03-02 14:30;Bra rad;;;",                           # 2
        "Ingen sådan;2031-03-02 14:30;Okänt konto;;;",                     # 3
        "Arvika på X;2031-03-02 14:30;Inte vårt konto;;;",                 # 4
        "Kil på X;2031-02-27 14:30;Redan passerat;;;",                     # 5
        "Kil på X;2031-03-30 02:30;I vårens lucka;;;",                     # 6
        "Kil på X;2031-10-26 02:30;Höstens dubbla timme;;;",               # 7
        f"Kil på X;2031-03-02 14:30;{long_text};;;",                       # 8
        f"Kil på Facebook;2031-03-02 14:30;{long_text};;;",                # 9
        "Kil på X;2031-03-02 14:30;Dålig länk;ftp://example.org;;",        # 10
        "Kil på X;2/3 2031;Konstig tid;;;",                                # 11
        "Kil på X;2031-10-26 02:30 vintertid;Andra gången;;;",             # 12
        ";;;;;",                                                           # 13: empty, skipped
        "Kil på X;2031-03-02 14:30;;;;",                                   # 14
        "Kil på X;2031-03-02 14:30;Noll\x00byte;;;",                       # 15
    ).encode("cp1252"), "inl\x00agg.csv")
    found = problems(record)
    assert found[2] == [] and 13 not in found
    assert found[3] == [("account", "No account is called Ingen sådan. Write its name as the "
                                    "accounts page shows it.")]
    assert found[4] == [("account", "Arvika på X is not one of your organisation's accounts.")]
    assert [c for c, _ in found[5]] == ["time"] and "already passed" in found[5][0][1]
    assert found[6] == [("time", "2031-03-30 02:30 does not exist in Swedish time: the clocks "
                                 "jump from 02:00 to 03:00 that night. Choose another time.")]
    assert [c for c, _ in found[7]] == ["time"] and "sommartid" in found[7][0][1]
    assert found[8] == [("text", "Too long for X: 320 of 280 characters (every link counts as "
                                 "23).")]
    assert found[9] == []
    assert [c for c, _ in found[10]] == ["link"]
    assert [c for c, _ in found[11]] == ["time"] and "YYYY-MM-DD" in found[11][0][1]
    assert found[12] == []
    assert [c for c, _ in found[14]] == ["text"]
    assert [c for c, _ in found[15]] == ["text"] and "control characters" in found[15][0][1]
    assert record.file_name == "inlagg.csv"
    winter = next(r for r in record.rows if r["row"] == 12)
    assert winter["cells"]["time"].endswith("vintertid")
    assert posts(services) == []  # nothing queued by the preview


def test_confirming_queues_every_valid_row_and_nothing_else(services, world):
    record = preview(services, world["writer"], csv_text(
        *GOOD, "Arvika på X;2031-03-02 14:30;Inte vårt;;;").encode("utf-8-sig"))
    assert len(record.valid_rows) == 2 and len(record.refused_rows) == 1
    with services.db.session() as session:
        done = confirm_import(session, session.get(User, world["writer"].id), record.id, 2,
                              now=NOW)
    assert len(done.post_ids) == 2 and not done.already
    queued = posts(services)
    assert [p.text for p in queued] == ["Bussarna i Kil ska gå i tid",
                                        "Skolan i Kil behöver fler lärare – kom på mötet!"]
    assert queued[1].link == "https://example.org/skola"
    with services.db.session() as session:
        rows = session.execute(select(Delivery.account_id, Delivery.state, Delivery.due_at)
                               .order_by(Delivery.id)).all()
    assert [(a, s) for a, s, _ in rows] == [(world["x"].id, DeliveryState.SCHEDULED),
                                            (world["facebook"].id, DeliveryState.SCHEDULED)]
    assert f"{to_local(rows[0][2]):%Y-%m-%d %H:%M}" == "2031-03-02 14:30"
    with services.db.session() as session:  # twice queues nothing more
        again = confirm_import(session, session.get(User, world["writer"].id), record.id, 2,
                               now=NOW)
    assert again.already and len(posts(services)) == 2


def test_what_changed_since_the_preview_is_shown_again_and_nothing_queued(services, world):
    record = preview(services, world["writer"], csv_text(
        "Kil på X;2031-03-01 10:30;Snart;;;", "Kil på X;2031-03-05 10:30;Senare;;;"
    ).encode())
    assert len(record.valid_rows) == 2
    later = NOW + timedelta(hours=1)  # 10:30 Stockholm has passed
    with services.db.session() as session:
        user = session.get(User, world["writer"].id)
        with pytest.raises(ImportChanged):
            confirm_import(session, user, record.id, 2, now=later)
        session.rollback()
        recheck_import(session, user, record.id, now=later)
    assert posts(services) == []
    with services.db.session() as session:
        stored = session.get(PostImport, record.id)
        assert [r["row"] for r in stored.valid_rows] == [3] and stored.confirmed_at is None
        assert "already passed" in problems(stored)[2][0][1]
        user = session.get(User, world["writer"].id)
        with pytest.raises(ImportChanged):  # the person was shown 1, not 2
            confirm_import(session, user, record.id, 2, now=later)
        session.rollback()
        done = confirm_import(session, user, record.id, 1, now=later)
    assert len(done.post_ids) == 1
    assert [p.text for p in posts(services)] == ["Senare"]


def test_all_or_nothing_an_account_gone_since_the_preview_queues_no_row(services, world):
    """The Facebook page is disconnected between the preview and the confirmation: its row is
    no longer valid, so not even the X row (still valid) is queued until the person confirms
    the new count."""
    record = preview(services, world["writer"], csv_text(*GOOD).encode())
    with services.db.session() as session:
        session.get(Account, world["facebook"].id).active = False
    with services.db.session() as session:
        user = session.get(User, world["writer"].id)
        with pytest.raises(ImportChanged):  # the X row was saved first, then the refusal
            confirm_import(session, user, record.id, 2, now=NOW)
        session.rollback()
        recheck_import(session, user, record.id, now=NOW)
    assert posts(services) == []
    with services.db.session() as session:
        stored = session.get(PostImport, record.id)
        assert problems(stored)[3] == [("account", "No account is called Kil på Facebook. "
                                                   "Write its name as the accounts page shows "
                                                   "it.")]
        assert stored.confirmed_at is None
        confirm_import(session, session.get(User, world["writer"].id), record.id, 1,
                       now=NOW)
    assert [p.text for p in posts(services)] == ["Bussarna i Kil ska gå i tid"]


def test_another_associations_import_is_out_of_reach(services, world, make_user):
    record = preview(services, world["writer"], csv_text(*GOOD).encode())
    stranger = make_user(Role.COMMS, organisation=world["other"])
    district_writer = make_user(Role.COMMS)
    board = make_user(Role.BOARD, organisation=world["own"])
    with services.db.session() as session:
        with pytest.raises(LookupError):
            import_for(session, session.get(User, stranger.id), record.id)
        with pytest.raises(LookupError):
            confirm_import(session, session.get(User, stranger.id), record.id, 2, now=NOW)
        assert import_for(session, session.get(User, district_writer.id), record.id).id
        from core.auth import NotAllowed

        with pytest.raises(NotAllowed):
            import_for(session, session.get(User, board.id), record.id)
        with pytest.raises(NotAllowed):
            preview_import(session, session.get(User, board.id), b"konto;tid;text\n", "a.csv",
                           media_root=services.settings.instance_path, now=NOW)
    assert posts(services) == []


def zipped(**files: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in files.items():
            archive.writestr(f"bilder/{name}", data)
    return out.getvalue()


def test_pictures_from_a_zip_are_checked_by_their_content(services, world):
    record = preview(services, world["writer"], csv_text(
        "Kil på X;2031-03-02 14:30;Med bild;;affisch.png;Affisch för stormötet",
        "Kil på X;2031-03-02 15:30;Utan alt-text;;AFFISCH.PNG;",
        "Kil på X;2031-03-02 16:30;Inte en bild;;falsk.jpg;Något",
        "Kil på X;2031-03-02 17:30;Saknas;;saknas.png;Något",
    ).encode(), pictures=zipped(**{"affisch.png": picture(), "falsk.jpg": b"<html>hej</html>"}),
        pictures_name="bilder.zip")
    found = problems(record)
    assert found[2] == [] and found[3] == []
    assert [w["column"] for w in record.rows[1]["warnings"]] == ["alt"]
    assert found[4][0][0] == "image" and "not a picture" in found[4][0][1]
    assert found[5] == [("image", "saknas.png is not in the zip file of pictures.")]
    with services.db.session() as session:
        done = confirm_import(session, session.get(User, world["writer"].id), record.id, 2,
                              now=NOW)
    with services.db.session() as session:
        first = session.get(Post, done.post_ids[0])
        assert [m.alt_text for m in first.media] == ["Affisch för stormötet"]
        assert (services.settings.instance_path / first.media[0].file.path).is_file()


def test_pictures_from_the_web_go_through_the_ssrf_guard(services, world, tmp_path: Path):
    def guarded(fetcher: SafeFetcher):
        def fetch(url: str) -> bytes:
            try:
                return fetcher.fetch(url).body
            except FetchError as exc:
                raise UserError(exc.msgid, field="image", **exc.params) from None
        return fetch

    with FeedServer() as server:
        url = server.add("/affisch.png", body=picture(), content_type="image/png", gzip=False)
        lines = (f"Kil på X;2031-03-02 14:30;Från webben;;{url};Affisch",)
        blocked = SafeFetcher(timeout=5)  # loopback is not the open web
        allowed = SafeFetcher(allow=["127.0.0.1"], timeout=5)
        try:
            refused = preview(services, world["writer"], csv_text(*lines).encode(),
                              fetch_image=guarded(blocked))
            fetched = preview(services, world["writer"], csv_text(*lines).encode(),
                              fetch_image=guarded(allowed))
        finally:
            blocked.close()
            allowed.close()
    [(column, message)] = problems(refused)[2]
    assert column == "image" and "Blocked" in message
    assert problems(fetched)[2] == [] and fetched.rows[0]["media_id"]


def test_imported_posts_follow_the_approval_rules(services, world):
    """An association whose posts need approval: its imported posts wait for a reviewer like
    composed ones, and no worker claims them."""
    from sqlalchemy import update

    from core.users import Organisation
    from publisher.deliveries import claim_due

    with services.db.session() as session:
        session.execute(update(Organisation).where(Organisation.id == world["own"].id)
                        .values(posts_need_approval=True))
    record = preview(services, world["writer"], csv_text(*GOOD).encode("utf-8"))
    with services.db.session() as session:
        confirm_import(session, session.get(User, world["writer"].id), record.id, 2, now=NOW)
    with services.db.session() as session:
        states = session.scalars(select(Delivery.state).order_by(Delivery.id)).all()
    assert states == [DeliveryState.AWAITING_APPROVAL] * 2
    assert claim_due(services.db, "w1", now=NOW + timedelta(days=400)) == []

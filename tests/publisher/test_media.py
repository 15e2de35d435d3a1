"""Uploaded images: recognised by content, never by name; hidden metadata removed; stored once."""

import io
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin
from sqlalchemy import select

from core.i18n import UserError
from publisher.media import MAX_STORED_BYTES, forget_unused, read_upload, store_image
from publisher.models import MediaFile
from tests.media_images import GPS_IFD, exif_with_gps, jpeg_with_gps, noise, picture, png_bomb


@pytest.fixture
def root(services) -> Path:
    return services.settings.instance_path


def store(db, root: Path, data: bytes, name: str = "bild.png") -> MediaFile:
    with db.session() as session:
        return store_image(session, root, data, name=name, user_id=None)


def stored_bytes(root: Path, media: MediaFile) -> bytes:
    return (root / media.path).read_bytes()


def test_a_png_named_jpg_is_stored_as_the_png_it_is(db, root):
    media = store(db, root, picture("PNG", (64, 48)), name="semester.jpg")
    assert (media.mime, media.width, media.height) == ("image/png", 64, 48)
    assert media.path == f"media/{media.sha256[:2]}/{media.sha256}.png"
    assert Image.open(root / media.path).format == "PNG"


def test_a_text_file_named_png_is_refused_with_its_name(db, root):
    with pytest.raises(UserError) as refused:
        store(db, root, "Hej, det här är en anteckning.\n".encode() * 20, name="affisch.png")
    assert refused.value.field == "media"
    assert str(refused.value) == ("affisch.png is not a picture Megafon can publish. Use a JPEG, "
                                  "PNG, GIF or WebP image.")
    assert not (root / "media").exists()


def test_other_image_formats_and_broken_pictures_are_refused(db, root):
    for name, data in (("scan.bmp", picture("BMP")), ("cut.jpg", picture("JPEG")[:300])):
        with pytest.raises(UserError, match="is not a picture Megafon can publish"):
            store(db, root, data, name=name)


def test_an_image_over_8_mb_is_refused_before_it_is_read_whole(db, root):
    big = noise(8.5)
    assert len(big) > MAX_STORED_BYTES
    with pytest.raises(UserError) as refused:
        read_upload(io.BytesIO(big), "demo.png")
    assert str(refused.value) == "demo.png is too large: images may be at most 8 MB."
    with pytest.raises(UserError, match="at most 8 MB"):
        store(db, root, big, name="demo.png")


def test_a_picture_claiming_billions_of_pixels_is_refused(db, root):
    with pytest.raises(UserError, match="has too many pixels"):
        store(db, root, png_bomb(), name="bomb.png")


def test_gps_and_camera_exif_are_stripped_from_a_jpeg_without_re_encoding(db, root):
    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)
    media = store(db, root, original, name="demo.jpg")
    kept = stored_bytes(root, media)
    assert Image.open(io.BytesIO(kept)).getexif() == {}
    assert b"Exif" not in kept and b"Spyphone" not in kept
    # Lossless: the compressed picture itself is copied byte for byte.
    assert kept[kept.index(b"\xff\xda"):] == original[original.index(b"\xff\xda"):]
    assert media.size == len(kept) < len(original)


def test_a_sideways_jpeg_is_turned_upright_before_its_exif_goes(db, root):
    media = store(db, root, jpeg_with_gps(size=(80, 40), orientation=6), name="mobil.jpg")
    kept = Image.open(root / media.path)
    assert kept.size == (40, 80) == (media.width, media.height)
    assert kept.getexif() == {}


def test_text_and_exif_chunks_are_stripped_from_png_and_webp(db, root):
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "Mötesplats: Storgatan 1")
    out = io.BytesIO()
    Image.new("RGB", (20, 20), (1, 2, 3)).save(out, "PNG", exif=exif_with_gps(), pnginfo=info)
    png = stored_bytes(root, store(db, root, out.getvalue(), name="karta.png"))
    assert b"Spyphone" not in png and b"Storgatan" not in png
    webp_out = io.BytesIO()
    Image.new("RGB", (20, 20), (1, 2, 3)).save(webp_out, "WEBP", exif=exif_with_gps())
    webp = stored_bytes(root, store(db, root, webp_out.getvalue(), name="bild.webp"))
    assert b"Spyphone" not in webp and Image.open(io.BytesIO(webp)).size == (20, 20)


def test_the_same_picture_twice_is_one_file_and_one_row(db, root):
    first = store(db, root, picture("GIF"), name="a.gif")
    second = store(db, root, picture("GIF"), name="b.gif")
    assert first.id == second.id and first.mime == "image/gif"
    assert len(list((root / "media").rglob("*.gif"))) == 1


def test_files_of_a_refused_compose_are_forgotten(db, root):
    with db.session() as session:
        media = store_image(session, root, picture("PNG"), name="x.png", user_id=None)
        pair = (media.sha256, media.path)
        session.rollback()
        forget_unused(session, root, [pair])
        assert session.scalar(select(MediaFile)) is None
    assert not (root / pair[1]).exists()

"""Images for posts: recognised by their content, stripped of hidden metadata, stored once.

An upload is accepted only when Pillow can open and decode it as a JPEG, PNG, GIF or WebP picture;
its name and the browser's content type are never trusted. Before it is stored, metadata that can
give a person away (EXIF with GPS position, camera serial numbers, XMP, IPTC, comments, appended
preview pictures) is removed losslessly at the byte level; a JPEG is re-encoded only when its EXIF
orientation must be applied to the pixels, because without EXIF the picture would show sideways.

Files live in `<instance>/media/<sha256[:2]>/<sha256>.<ext>`, named by the hash of the stored
bytes, so the same picture uploaded twice is one file and one `MediaFile` row.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import and_, delete, exists, select
from sqlalchemy.orm import Session

from core.auth import NotAllowed, in_scope
from core.clock import utcnow
from core.db import Base
from core.i18n import N_, UserError, ValidationErrors
from core.users import User
from publisher.adapters.base import MediaRef
from publisher.models import Account, Delivery, MediaFile, Platform, Post, PostMedia

MB = 1024 * 1024
# What Megafon keeps at most; each platform accepts less (checked when the post is composed).
MAX_STORED_BYTES = 8 * MB
PLATFORM_IMAGE_LIMITS = {Platform.X: 5 * MB, Platform.FACEBOOK: 4 * MB}
MAX_IMAGES = 4  # per post, on X (its limit) and on Facebook (ours)
X_ALT_TEXT_MAX = 1000
MEDIA_DIR = "media"
FORMATS = {  # Pillow's format name -> (MIME type, file extension)
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "GIF": ("image/gif", "gif"),
    "WEBP": ("image/webp", "webp"),
}
FIELD = "media"

T = TypeVar("T")


@dataclass(frozen=True)
class CheckedImage:
    data: bytes  # as it will be stored: metadata removed
    mime: str
    ext: str
    width: int
    height: int


def megabytes(size: int) -> str:
    return f"{size / MB:.1f}"


def read_upload(stream: BinaryIO, name: str) -> bytes:
    """The upload's bytes, refusing (without reading it all) anything over MAX_STORED_BYTES."""
    data = stream.read(MAX_STORED_BYTES + 1)
    if len(data) > MAX_STORED_BYTES:
        raise UserError(N_("%(name)s is too large: images may be at most %(limit)s MB."),
                        field=FIELD, name=name, limit=MAX_STORED_BYTES // MB)
    return data


def check_image(data: bytes, name: str) -> CheckedImage:
    """Open and decode the bytes as a picture; refuse anything else. Returns the bytes to store."""
    if len(data) > MAX_STORED_BYTES:
        raise UserError(N_("%(name)s is too large: images may be at most %(limit)s MB."),
                        field=FIELD, name=name, limit=MAX_STORED_BYTES // MB)
    not_an_image = UserError(
        N_("%(name)s is not a picture Megafon can publish. Use a JPEG, PNG, GIF or WebP image."),
        field=FIELD, name=name)
    try:
        with warnings.catch_warnings():
            # A small file that decodes to gigapixels would exhaust memory: refuse it.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                fmt = probe.format or ""
                if fmt not in FORMATS:
                    raise not_an_image
                probe.verify()
            with Image.open(io.BytesIO(data)) as image:
                image.load()  # verify() does not decode; a truncated file fails here
                width, height = image.size
                orientation = image.getexif().get(0x0112, 1) if fmt == "JPEG" else 1
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise UserError(N_("%(name)s has too many pixels. Make the picture smaller."),
                        field=FIELD, name=name) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise not_an_image from None
    mime, ext = FORMATS[fmt]
    stripped = strip_metadata(data, fmt, orientation)
    if fmt == "JPEG" and orientation not in (1, None):
        width, height = _size(stripped) or (width, height)
    return CheckedImage(stripped, mime, ext, width, height)


def _size(data: bytes) -> tuple[int, int] | None:
    with Image.open(io.BytesIO(data)) as image:
        return image.size


def store_image(session: Session, root: Path, data: bytes, *, name: str,
                user_id: int | None) -> MediaFile:
    """Check, strip and store an uploaded picture; the same picture twice is stored once."""
    checked = check_image(data, name)
    digest = hashlib.sha256(checked.data).hexdigest()
    relative = f"{MEDIA_DIR}/{digest[:2]}/{digest}.{checked.ext}"
    _write_once(root / relative, checked.data)
    existing = session.scalar(select(MediaFile).where(MediaFile.sha256 == digest))
    if existing is not None:
        return existing
    media = MediaFile(sha256=digest, path=relative, mime=checked.mime, width=checked.width,
                      height=checked.height, size=len(checked.data), created_by_id=user_id)
    session.add(media)
    session.flush()
    return media


def _write_once(target: Path, data: bytes) -> None:
    if target.is_file() and target.stat().st_size == len(data):
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def forget_unused(session: Session, root: Path, stored: Iterable[tuple[str, str]]) -> None:
    """After a refused compose (rolled back): delete the files of (sha256, path) pairs that no
    MediaFile row refers to, so a picture that was never posted does not stay on the server."""
    for digest, relative in stored:
        if session.scalar(select(MediaFile.id).where(MediaFile.sha256 == digest)) is None:
            (root / relative).unlink(missing_ok=True)


# A picture chosen for a post the author has not queued yet (the form came back with a problem)
# is kept this long for them to try again; then it goes, unless something uses it.
UNATTACHED_KEPT = timedelta(days=2)


def holds(user: User, media: MediaFile) -> bool:
    """A picture its uploader may put in a post again without uploading it anew."""
    return media.created_by_id == user.id


def forget_unattached(session: Session, root: Path, now: datetime | None = None,
                      kept: timedelta = UNATTACHED_KEPT) -> int:
    """Delete pictures nothing refers to (no post, campaign message or any other row with a
    foreign key to them) once `kept` has passed, with their files; how many. Every table that
    refers to media_files is found in the models' metadata, so a new use is respected."""
    now = now or utcnow()
    return _forget(session, root, MediaFile.created_at < now - kept)


def forget_pictures(session: Session, root: Path, media_ids: Iterable[int]) -> int:
    """Delete these pictures at once, those nothing refers to (a refused post's new ones)."""
    ids = list(media_ids)
    return _forget(session, root, MediaFile.id.in_(ids)) if ids else 0


def _unused() -> list[Any]:
    media_table = MediaFile.__table__
    return [~exists().where(fk.parent == media_table.c.id)
            for table in Base.metadata.tables.values()
            for fk in table.foreign_keys if fk.column.table is media_table]


def _forget(session: Session, root: Path, which: Any) -> int:
    rows = session.execute(select(MediaFile.id, MediaFile.path).where(
        and_(which, *_unused()))).all()
    if not rows:
        return 0
    session.execute(delete(MediaFile).where(MediaFile.id.in_([row.id for row in rows])))
    session.flush()
    for row in rows:
        (root / row.path).unlink(missing_ok=True)
    return len(rows)


def save_with_new_pictures(session: Session, root: Path, stored: Sequence[tuple[str, str]],
                           save: Callable[[], T], *, pictures_chosen: bool) -> T:
    """Save a post (`save`: create or edit) that uses pictures just stored for it.

    When the domain refuses the post (NotAllowed, or its problems), nothing is kept: the session
    is rolled back, the new files no row refers to any more are deleted (`stored`: sha256 and
    path, as `store_image` wrote them), and, if the author had chosen pictures, the problems
    say to choose them again. The refusal is raised on, for the caller to show.
    """
    try:
        return save()
    except (NotAllowed, ValidationErrors) as refused:
        session.rollback()
        forget_unused(session, root, stored)
        if isinstance(refused, ValidationErrors) and pictures_chosen:
            refused.errors.append(UserError(
                N_("Pictures are not kept when the post has problems: choose them again "
                   "before you queue the post. Their descriptions are kept."), field=FIELD))
        raise


def visible_to(session: Session, user: User, media: MediaFile) -> bool:
    """Who may look at a stored picture: whoever uploaded it, and whoever may see a post that
    carries it (one of its accounts is in their organisation's reach)."""
    if media.created_by_id == user.id:
        return True
    organisations = session.scalars(
        select(Account.organisation_id).join(Delivery, Delivery.account_id == Account.id)
        .join(PostMedia, PostMedia.post_id == Delivery.post_id)
        .where(PostMedia.media_id == media.id).distinct())
    return any(in_scope(user, organisation) for organisation in organisations)


def media_refs(post: Post, root: Path | None) -> tuple[MediaRef, ...]:
    """What an adapter needs to upload the post's images, in order."""
    base = root or Path()
    return tuple(MediaRef(path=str(base / item.file.path), mime=item.file.mime,
                          alt_text=item.alt_text or "", name=f"image {item.position}")
                 for item in post.media)


# -- removing metadata without re-encoding ------------------------------------------------------

def strip_metadata(data: bytes, fmt: str, orientation: int | None = 1) -> bytes:
    if fmt == "JPEG":
        if orientation not in (1, None):
            return _reencode_jpeg(data)
        return _strip_jpeg(data) or _reencode_jpeg(data)
    if fmt == "PNG":
        return _strip_png(data) or data
    if fmt == "WEBP":
        return _strip_webp(data) or data
    return data  # GIF carries no EXIF


def _reencode_jpeg(data: bytes) -> bytes:
    """Turn the pixels the way EXIF said, then save without any metadata but the colour profile."""
    with Image.open(io.BytesIO(data)) as image:
        icc = image.info.get("icc_profile")
        upright = ImageOps.exif_transpose(image)
        out = io.BytesIO()
        options = {"quality": 92, "optimize": True}
        if icc:
            options["icc_profile"] = icc
        upright.save(out, "JPEG", **options)
        return out.getvalue()


def _keep_jpeg_segment(marker: int, body: bytes) -> bool:
    if marker == 0xFE:  # comment
        return False
    if 0xE0 <= marker <= 0xEF:  # APPn
        if marker == 0xE0:  # JFIF
            return True
        if marker == 0xE2:  # ICC colour profile only (not FlashPix or MPF preview pictures)
            return body[2:14] == b"ICC_PROFILE\x00"
        return marker == 0xEE  # Adobe (colour transform); EXIF, XMP, IPTC and the rest go
    return True


def _strip_jpeg(data: bytes) -> bytes | None:
    """Copy the JPEG without metadata segments and without anything after its end marker
    (phones append preview pictures with their own EXIF). None when it cannot be parsed."""
    if data[:2] != b"\xff\xd8":
        return None
    out = bytearray(b"\xff\xd8")
    i, n = 2, len(data)
    while i < n:
        if data[i] != 0xFF:
            return None
        while i < n and data[i] == 0xFF:  # fill bytes
            i += 1
        if i >= n:
            return None
        marker = data[i]
        i += 1
        if marker == 0xD9:  # end of image
            out += b"\xff\xd9"
            return bytes(out)
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # markers without a length
            out += bytes((0xFF, marker))
            continue
        if i + 2 > n:
            return None
        length = int.from_bytes(data[i:i + 2], "big")
        if length < 2 or i + length > n:
            return None
        body = data[i:i + length]
        i += length
        if _keep_jpeg_segment(marker, body):
            out += bytes((0xFF, marker)) + body
        if marker == 0xDA:  # start of scan: entropy-coded data runs to the next real marker
            start = i
            while True:
                j = data.find(b"\xff", i)
                if j < 0 or j + 1 >= n:
                    return None
                following = data[j + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7:
                    i = j + 2
                    continue
                break
            out += data[start:j]
            i = j
    return None


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_METADATA = {b"eXIf", b"tEXt", b"zTXt", b"iTXt", b"tIME"}


def _strip_png(data: bytes) -> bytes | None:
    if data[:8] != PNG_SIGNATURE:
        return None
    out, i, n = bytearray(PNG_SIGNATURE), 8, len(data)
    while i + 12 <= n:
        length = int.from_bytes(data[i:i + 4], "big")
        kind = data[i + 4:i + 8]
        end = i + 12 + length
        if end > n:
            return None
        if kind not in PNG_METADATA:
            out += data[i:end]
        i = end
        if kind == b"IEND":
            return bytes(out)
    return None


def _strip_webp(data: bytes) -> bytes | None:
    """Drop the EXIF and XMP chunks of an extended WebP and clear their flags."""
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return None
    chunks, i, n = bytearray(), 12, len(data)
    while i + 8 <= n:
        kind = data[i:i + 4]
        size = int.from_bytes(data[i + 4:i + 8], "little")
        end = i + 8 + size + (size & 1)
        if end > n:
            return None
        chunk = bytearray(data[i:end])
        if kind == b"VP8X":
            chunk[8] &= ~0x0C & 0xFF  # EXIF (0x08) and XMP (0x04) present flags
        if kind not in (b"EXIF", b"XMP "):
            chunks += chunk
        i = end
    return b"RIFF" + (len(chunks) + 4).to_bytes(4, "little") + b"WEBP" + bytes(chunks)

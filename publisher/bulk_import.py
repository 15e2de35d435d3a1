"""Importing many posts from a file: a preview that checks every row, then all valid rows at once.

The file (CSV or XLSX, read by publisher.import_files) has a row per post: account, Stockholm
time (ÅÅÅÅ-MM-DD TT:MM; in the doubled autumn hour followed by "sommartid" or "vintertid"),
text, link, a picture (a web address, fetched through the SSRF-guarded fetcher web/ hands in, or
a file name in an uploaded zip) and its alt text. Every row is checked by the composer's own
rules (`publisher.posts.check_post`), and the preview is kept in `post_imports`: the confirm
step reads the rows from there, never from the browser. Nothing is queued until the person
confirms; then every row is checked again and, if the valid rows are still the ones the
person saw, all of them are queued in one transaction through `create_post` (so any rule a
composed post meets, an imported one meets too), or none.

Problems are kept per row and column as msgids and their values, translated when shown. An
import belongs to the organisation of the person who uploaded it: whoever may compose for that
organisation may look at it and confirm it (the posts are then theirs, checked with their scope).
Pictures are checked by content and stored at the preview (publisher.media), like the composer's.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.auth import Action, NotAllowed, can, in_scope, require
from core.clock import utcnow
from core.db import Base, UTCDateTime
from core.entered_time import SUMMER_TIME, WINTER_TIME, EnteredTime
from core.i18n import N_, UserError, ValidationErrors
from core.text import CONTROL_CHARACTERS, CONTROL_MESSAGE
from core.users import User
from publisher.import_files import COLUMNS, UNREADABLE, ReadFile, read_posts_file
from publisher.media import MAX_STORED_BYTES, MB, store_image
from publisher.models import Account, MediaFile, Platform
from publisher.posts import DraftImage, PostDraft, check_post, create_post

MAX_ZIP_BYTES = 35 * MB  # the request itself is at most 40 MB (web/__init__.py)
MAX_ZIP_MEMBERS = 2000
FILE_NAME_LENGTH = 255
URL_SHAPE = re.compile(r"^[a-z][a-z0-9+.\-]*://", re.IGNORECASE)
READING_WORDS = {"sommartid": SUMMER_TIME, "summer": SUMMER_TIME, "cest": SUMMER_TIME,
                 "vintertid": WINTER_TIME, "winter": WINTER_TIME, "cet": WINTER_TIME}
PLATFORM_WORDS = {"x": Platform.X, "twitter": Platform.X, "facebook": Platform.FACEBOOK,
                  "fb": Platform.FACEBOOK}
# create_post's fields, as the file's columns
COLUMN_OF_FIELD = {"text": "text", "link": "link", "accounts": "account", "media": "image",
                   "scheduled_at": "time", "scheduled_at_reading": "time"}

# The problems a row can have besides the composer's own (the columns are named when shown).
NO_ACCOUNT = N_("Write the name of the account to post to.")
UNKNOWN_ACCOUNT = N_("No account is called %(name)s. Write its name as the accounts page "
                     "shows it.")
OUT_OF_SCOPE = N_("%(name)s is not one of your organisation's accounts.")
AMBIGUOUS_ACCOUNT = N_("Several accounts are called %(name)s: write %(name)s (X) or %(name)s "
                       "(Facebook).")
DOUBLED_HOUR = N_("%(time)s happens twice that night: the clocks go back from 03:00 to 02:00. "
                  "Write sommartid (the first time) or vintertid (the second) after the time.")
UNKNOWN_READING = N_("After the time write only sommartid or vintertid, e.g. 2027-10-31 02:30 "
                     "vintertid.")
IMAGE_ADDRESS = N_("The picture's address must start with https:// or http://.")
NO_PICTURES = N_("%(name)s is not a web address, and no zip file of pictures was uploaded.")
NOT_IN_ZIP = N_("%(name)s is not in the zip file of pictures.")
PICTURE_TOO_LARGE = N_("%(name)s is too large: images may be at most %(limit)s MB.")
NO_ALT_TEXT = N_("The picture has no alt text: people who use a screen reader will not know "
                 "what it shows.")
ALT_WITHOUT_IMAGE = N_("There is alt text but no picture.")
NOT_A_ZIP = N_("%(name)s is not a zip file. Pack the pictures in a zip file, or give their web "
               "addresses in the file.")
ZIP_TOO_LARGE = N_("The zip file of pictures is too large: at most %(limit)s MB.")
IGNORED_COLUMNS = N_("These columns are not ones Megafon knows and were left out: %(names)s.")

FetchImage = Callable[[str], bytes]  # a picture's bytes, or UserError saying why not


class PostImport(Base):
    """An uploaded file of posts as its preview found it, until it is confirmed (or left)."""

    __tablename__ = "post_imports"
    __table_args__ = (Index("ix_post_imports_user_created", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    file_name: Mapped[str] = mapped_column(String(FILE_NAME_LENGTH), default="")
    # [{"row", "cells", "account_id", "account", "media_id", "image_problem", "problems",
    #   "warnings", "post_id"}]: problems and warnings as {"column", "msgid", "params"}
    rows: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # {"headers": column -> the file's header, "messages": [{"msgid", "params"}]}
    notes: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def valid_rows(self) -> list[dict[str, Any]]:
        return [row for row in self.rows if not row["problems"]]

    @property
    def refused_rows(self) -> list[dict[str, Any]]:
        return [row for row in self.rows if row["problems"]]


def _problem(column: str, msgid: str, **params: object) -> dict[str, Any]:
    return {"column": column, "msgid": msgid,
            "params": {k: v if isinstance(v, int | float | str) else str(v)
                       for k, v in params.items()}}


def _from_error(column: str, error: UserError) -> dict[str, Any]:
    return _problem(column, error.message, **error.params)


# -- accounts ------------------------------------------------------------------------------------

class _Accounts:
    """Active accounts by name (case and spacing ignored), "Name (X)" naming the platform."""

    def __init__(self, session: Session, user: User) -> None:
        self.user = user
        self.by_name: dict[str, list[Account]] = {}
        for account in session.scalars(select(Account).where(Account.active.is_(True))):
            self.by_name.setdefault(_key(account.name), []).append(account)

    def find(self, raw: str) -> tuple[Account | None, dict[str, Any] | None]:
        name = " ".join(raw.split())
        if not name:
            return None, _problem("account", NO_ACCOUNT)
        found = self.by_name.get(_key(name), [])
        platform_named = re.fullmatch(r"(.+?)\s*\((\w+)\)", name)
        if not found and platform_named and platform_named.group(2).lower() in PLATFORM_WORDS:
            platform = PLATFORM_WORDS[platform_named.group(2).lower()]
            found = [a for a in self.by_name.get(_key(platform_named.group(1)), [])
                     if a.platform is platform]
        if not found:
            return None, _problem("account", UNKNOWN_ACCOUNT, name=name)
        mine = [a for a in found if in_scope(self.user, a.organisation_id)]
        if not mine:
            return None, _problem("account", OUT_OF_SCOPE, name=name)
        if len(mine) > 1:
            return None, _problem("account", AMBIGUOUS_ACCOUNT, name=name)
        return mine[0], None


def _key(name: str) -> str:
    return " ".join(name.split()).casefold()


def account_label(account: Account) -> str:
    return f"{account.name} ({'X' if account.platform is Platform.X else 'Facebook'})"


# -- time ----------------------------------------------------------------------------------------

def entered(raw: str) -> tuple[EnteredTime, dict[str, Any] | None]:
    """"ÅÅÅÅ-MM-DD TT:MM" (a T between them too), perhaps followed by sommartid or vintertid."""
    words = raw.replace("T", " ", 1).split() if re.match(r"\d{4}-\d{1,2}-\d{1,2}T", raw.strip()) \
        else raw.split()
    date_text = words[0] if words else ""
    time_text = words[1] if len(words) > 1 else ""
    if len(time_text) == 8 and time_text.count(":") == 2 and time_text.endswith(":00"):
        time_text = time_text[:5]  # 14:30:00, as a spreadsheet may write it
    reading = ""
    if len(words) > 2:
        reading = READING_WORDS.get(" ".join(words[2:]).strip("()").casefold(), "")
        if len(words) > 3 or not reading:
            return EnteredTime(date_text, time_text), _problem("time", UNKNOWN_READING)
    return EnteredTime(date_text, time_text, reading), None


# -- pictures ------------------------------------------------------------------------------------

class _Pictures:
    """Each picture named in the file, found once (in the zip or on the web), checked by its
    content and stored; its MediaFile id, or the problem."""

    def __init__(self, session: Session, user: User, media_root: Path,
                 archive: zipfile.ZipFile | None, fetch_image: FetchImage | None) -> None:
        self.session, self.user, self.root = session, user, media_root
        self.archive, self.fetch_image = archive, fetch_image
        self.members: dict[str, zipfile.ZipInfo] = {}
        if archive is not None:
            for info in archive.infolist()[:MAX_ZIP_MEMBERS]:
                path = PurePosixPath(info.filename)
                if info.is_dir() or "__MACOSX" in path.parts or path.name.startswith("."):
                    continue
                self.members.setdefault(path.name.casefold(), info)
        self.found: dict[str, tuple[int | None, dict[str, Any] | None]] = {}

    def get(self, raw: str) -> tuple[int | None, dict[str, Any] | None]:
        value = raw.strip()
        if value not in self.found:
            self.found[value] = self._find(value)
        return self.found[value]

    def _find(self, value: str) -> tuple[int | None, dict[str, Any] | None]:
        try:
            if URL_SHAPE.match(value):
                if not value.lower().startswith(("http://", "https://")) or \
                        self.fetch_image is None:
                    return None, _problem("image", IMAGE_ADDRESS)
                data = self.fetch_image(value)
                name = PurePosixPath(value.split("?", 1)[0]).name or value
            else:
                if self.archive is None:
                    return None, _problem("image", NO_PICTURES, name=value)
                info = self.members.get(PurePosixPath(value.replace("\\", "/")).name.casefold())
                if info is None:
                    return None, _problem("image", NOT_IN_ZIP, name=value)
                if info.file_size > MAX_STORED_BYTES:
                    return None, _problem("image", PICTURE_TOO_LARGE, name=value,
                                          limit=MAX_STORED_BYTES // MB)
                try:
                    data = self.archive.read(info)
                except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError,
                        RuntimeError):
                    return None, _problem("image", N_("%(name)s is not a picture Megafon can "
                                                      "publish. Use a JPEG, PNG, GIF or WebP "
                                                      "image."), name=value)
                name = value
            media = store_image(self.session, self.root, data, name=name, user_id=self.user.id)
            return media.id, None
        except UserError as problem:
            return None, _from_error("image", problem)


def _open_zip(data: bytes | None, name: str) -> zipfile.ZipFile | None:
    if not data:
        return None
    if len(data) > MAX_ZIP_BYTES:
        raise UserError(ZIP_TOO_LARGE, field="pictures", limit=MAX_ZIP_BYTES // MB)
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError):
        raise UserError(NOT_A_ZIP, field="pictures", name=name) from None


# -- rows ----------------------------------------------------------------------------------------

@dataclass
class _Checker:
    session: Session
    user: User
    accounts: _Accounts
    now: datetime

    def row(self, number: int, cells: Mapping[str, str], media_id: int | None,
            image_problem: dict[str, Any] | None) -> dict[str, Any]:
        """One row checked by the composer's rules; what it needs to be queued later."""
        problems: list[dict[str, Any]] = [
            _problem(column, CONTROL_MESSAGE) for column, value in cells.items()
            if UNREADABLE in value]
        warnings: list[dict[str, Any]] = []
        account, account_problem = self.accounts.find(cells.get("account", ""))
        if account_problem:
            problems.append(account_problem)
        when, time_problem = entered(cells.get("time", ""))
        if time_problem:
            problems.append(time_problem)
        if image_problem:
            problems.append(image_problem)
        image, alt = cells.get("image", "").strip(), cells.get("alt", "").strip()
        if image and not alt:
            warnings.append(_problem("alt", NO_ALT_TEXT))
        if alt and not image:
            warnings.append(_problem("alt", ALT_WITHOUT_IMAGE))
        draft = _draft(cells, account.id if account else None, media_id, when)
        for error in check_post(self.session, self.user, draft, self.now):
            column = COLUMN_OF_FIELD.get(error.field or "", "text")
            if column == "account" and account_problem:
                continue  # "choose an account": said already, better
            if column == "time" and time_problem:
                continue
            if error.field == "scheduled_at_reading":
                problems.append(_problem("time", DOUBLED_HOUR, **error.params))
            else:
                problems.append(_from_error(column, error))
        problems.sort(key=lambda p: COLUMNS.index(p["column"]))  # as the file has them
        return {"row": number, "cells": dict(cells),
                "account_id": account.id if account else None,
                "account": account_label(account) if account else "",
                "media_id": media_id, "image_problem": image_problem,
                "problems": problems, "warnings": warnings, "post_id": None}


def _draft(cells: Mapping[str, str], account_id: int | None, media_id: int | None,
           when: EnteredTime) -> PostDraft:
    image = cells.get("image", "").strip()
    media = [DraftImage(media_id, cells.get("alt", "").strip(), PurePosixPath(image).name)] \
        if media_id is not None else []
    return PostDraft(text=cells.get("text", ""), account_ids=[account_id] if account_id else [],
                     link=cells.get("link", "").strip() or None, entered_time=when, media=media)


def _allowed(user: User) -> None:
    if not can(user, Action.COMPOSE):
        raise NotAllowed("role may not compose posts")


def preview_import(session: Session, user: User, data: bytes, file_name: str, *,
                   media_root: Path, pictures: bytes | None = None, pictures_name: str = "",
                   fetch_image: FetchImage | None = None, now: datetime | None = None
                   ) -> PostImport:
    """Read and check every row of the file; keep the preview (nothing is queued). UserError
    when the file (or the zip of pictures) cannot be read at all."""
    require(user, Action.COMPOSE, user.organisation_id)
    now = now or utcnow()
    read: ReadFile = read_posts_file(data, file_name)
    archive = _open_zip(pictures, pictures_name)
    images = _Pictures(session, user, media_root, archive, fetch_image)
    checker = _Checker(session, user, _Accounts(session, user), now)
    rows = []
    for number, cells in read.rows:
        media_id, image_problem = images.get(cells["image"]) if cells.get("image", "").strip() \
            else (None, None)
        rows.append(checker.row(number, cells, media_id, image_problem))
    messages = []
    if read.ignored:
        messages.append({"msgid": IGNORED_COLUMNS, "params": {"names": ", ".join(read.ignored)}})
    record = PostImport(user_id=user.id, organisation_id=user.organisation_id,
                        file_name=CONTROL_CHARACTERS.sub("", file_name)[:FILE_NAME_LENGTH],
                        rows=rows,
                        notes={"headers": read.headers, "messages": messages}, created_at=now)
    session.add(record)
    session.flush()
    return record


def import_for(session: Session, user: User, import_id: int) -> PostImport:
    """An import the user may see: made in an organisation they compose for. LookupError if
    there is none (or it is another organisation's)."""
    _allowed(user)
    record = session.get(PostImport, import_id)
    if record is None or not in_scope(user, record.organisation_id):
        raise LookupError(import_id)
    return record


@dataclass(frozen=True)
class Confirmed:
    """What confirming did: the posts queued, or nothing (`already` confirmed before)."""

    post_ids: list[int]
    already: bool = False


class ImportChanged(Exception):
    """Something changed since the preview: a row the person saw as valid is refused now, or
    they confirmed another number of rows than the preview has. Nothing may be kept: the caller
    rolls back, then `recheck_import` shows the rows as they are now."""


def _recheck(session: Session, user: User, record: PostImport, now: datetime
             ) -> list[dict[str, Any]]:
    checker = _Checker(session, user, _Accounts(session, user), now)
    rows = []
    for old in record.rows:
        media_id, image_problem = old["media_id"], old["image_problem"]
        if media_id is not None and session.get(MediaFile, media_id) is None:
            media_id, image_problem = None, _problem(
                "image", N_("Image %(name)s could not be found: choose it again."),
                name=old["cells"].get("image", ""))
        rows.append(checker.row(old["row"], old["cells"], media_id, image_problem))
    return rows


def recheck_import(session: Session, user: User, import_id: int, now: datetime | None = None
                   ) -> PostImport:
    """Check every row of an unconfirmed import again and keep what is found (after a refused
    confirmation: time has passed, an account was disconnected, ...)."""
    record = import_for(session, user, import_id)
    if record.confirmed_at is None:
        record.rows = _recheck(session, user, record, now or utcnow())
        session.flush()
    return record


def confirm_import(session: Session, user: User, import_id: int, expected: int,
                   now: datetime | None = None) -> Confirmed:
    """Queue every row the preview found valid, in the caller's one transaction, or none.

    Each row goes through `create_post`, which checks it again as it saves it: if any is
    refused now, or `expected` is not the number of valid rows the preview shows,
    ImportChanged is raised and the caller must roll back (nothing is kept) and call
    `recheck_import`. A second confirmation queues nothing (`already`); of two at once, the
    import's row decides which one queues.
    """
    now = now or utcnow()
    record = import_for(session, user, import_id)
    if record.confirmed_at is not None:
        return Confirmed([], already=True)
    valid = record.valid_rows
    if len(valid) != expected or not valid:
        raise ImportChanged(import_id)
    claimed = session.execute(
        update(PostImport).where(PostImport.id == record.id, PostImport.confirmed_at.is_(None))
        .values(confirmed_at=now).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        return Confirmed([], already=True)
    rows = [dict(row) for row in record.rows]
    post_ids = []
    for row in rows:
        if row["problems"]:
            continue
        when, _ = entered(row["cells"].get("time", ""))
        draft = _draft(row["cells"], row["account_id"], row["media_id"], when)
        if row["account_id"] is None or (
                row["media_id"] is not None and session.get(MediaFile, row["media_id"]) is None):
            raise ImportChanged(import_id)
        try:
            post = create_post(session, user, draft, now)
        except (ValidationErrors, NotAllowed):
            raise ImportChanged(import_id) from None
        row["post_id"] = post.id
        post_ids.append(post.id)
    record.rows = rows
    record.confirmed_at = now
    session.flush()
    return Confirmed(post_ids)

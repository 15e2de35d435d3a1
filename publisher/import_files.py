"""Reading a file of posts to import: CSV or XLSX, its header in Swedish or English.

CSV as people's programs write it: UTF-8 with or without a byte-order mark, or Windows-1252
(what Swedish Excel's "CSV (semikolonavgränsad)" writes), separated by semicolons, commas or
tabs. The separator is the one that splits the header into the most known column names. An
XLSX file is read with openpyxl (its first sheet); a date-and-time cell reads as the
Stockholm time ÅÅÅÅ-MM-DD TT:MM it shows.

What this module returns is text, cell by cell, with the row number a spreadsheet shows (the
header is row 1); what the text means is publisher.bulk_import's business. A file that cannot be
read at all raises UserError (a msgid) saying why.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time

from core.i18n import N_, UserError
from core.text import CONTROL_CHARACTERS

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 10_000
MAX_CELL = 10_000  # far above any post; a guard against a runaway cell
FIELD = "file"

# The columns, by the names people give them (compared without case, spaces, "-" or "_").
COLUMNS = ("account", "time", "text", "link", "image", "alt")
REQUIRED = ("account", "time", "text")
REQUIRED_NAMES = {"account": "konto (account)", "time": "tid (time)", "text": "text"}
HEADER_NAMES: dict[str, str] = {
    **dict.fromkeys(("konto", "account", "kanal", "channel"), "account"),
    **dict.fromkeys(("tid", "time", "tidpunkt", "datumochtid", "datetime", "when", "publiceras",
                     "publish", "scheduled"), "time"),
    **dict.fromkeys(("text", "inlägg", "inlagg", "post", "message", "meddelande"), "text"),
    **dict.fromkeys(("länk", "lank", "link", "url"), "link"),
    **dict.fromkeys(("bild", "image", "bildurl", "imageurl", "bildfil", "imagefile", "picture",
                     "fil", "file"), "image"),
    **dict.fromkeys(("alttext", "alt", "bildtext", "bildbeskrivning", "description",
                     "imagedescription", "alternativetext"), "alt"),
}
SEPARATORS = (";", ",", "\t")
UNREADABLE = "\ufffd"


@dataclass
class ReadFile:
    """The rows of a file: per row its number and its cells by column (missing ones "")."""

    rows: list[tuple[int, dict[str, str]]]
    headers: dict[str, str]  # column -> the header as the file wrote it
    ignored: list[str] = field(default_factory=list)  # headers Megafon does not know


def column_of(header: str) -> str | None:
    key = re.sub(r"[\s_\-./()]+", "", unicodedata.normalize("NFC", header).strip().lower())
    return HEADER_NAMES.get(key)


def read_posts_file(data: bytes, name: str) -> ReadFile:
    """The file's rows, or UserError saying why it cannot be read."""
    if not data.strip():
        raise UserError(N_("The file %(name)s is empty."), field=FIELD, name=name)
    if len(data) > MAX_FILE_BYTES:
        raise UserError(N_("The file is too large: at most %(limit)s MB."), field=FIELD,
                        limit=MAX_FILE_BYTES // (1024 * 1024))
    if data[:4] == b"PK\x03\x04":
        table = _xlsx_rows(data, name)
    elif data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise UserError(N_("%(name)s is an old Excel file (.xls). Save it as .xlsx or as CSV "
                           "and upload it again."), field=FIELD, name=name)
    else:
        table = _csv_rows(_decode(data, name))
    return _with_header(table, name)


def _decode(data: bytes, name: str) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")  # Windows-1252: Swedish Excel's CSV
    except UnicodeDecodeError:
        raise UserError(N_("The characters in %(name)s could not be read. Save the file as "
                           "CSV UTF-8 (or as .xlsx) and upload it again."),
                        field=FIELD, name=name) from None


def _csv_rows(text: str) -> list[list[str]]:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    first_line = text.split("\n", 1)[0]
    best, best_known = ";", -1
    for separator in SEPARATORS:
        try:
            header = next(csv.reader([first_line], delimiter=separator), [])
        except csv.Error:
            continue
        known = sum(1 for cell in header if column_of(cell))
        if known > best_known:
            best, best_known = separator, known
    rows: list[list[str]] = []
    try:
        for row in csv.reader(io.StringIO(text), delimiter=best):
            rows.append(row)
            if len(rows) > MAX_ROWS + 1:
                break
    except csv.Error:
        raise UserError(N_("The file is not a CSV file Megafon can read: check its quotation "
                           "marks."), field=FIELD) from None
    return rows


def _xlsx_rows(data: bytes, name: str) -> list[list[str]]:
    from openpyxl import load_workbook  # only when an XLSX file comes

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError):
        raise UserError(N_("%(name)s is not a spreadsheet Megafon can read. Upload a CSV or "
                           "an .xlsx file."), field=FIELD, name=name) from None
    try:
        sheet = workbook.worksheets[0]
        rows: list[list[str]] = []
        for values in sheet.iter_rows(values_only=True):
            rows.append([_cell_text(v) for v in values])
            if len(rows) > MAX_ROWS + 1:
                break
        return rows
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError, IndexError):
        raise UserError(N_("%(name)s is not a spreadsheet Megafon can read. Upload a CSV or "
                           "an .xlsx file."), field=FIELD, name=name) from None
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, date):
        return f"{value:%Y-%m-%d}"
    if isinstance(value, time):
        return f"{value:%H:%M}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _with_header(table: list[list[str]], name: str) -> ReadFile:
    while table and not any(cell.strip() for cell in table[0]):
        table = table[1:]
    if not table:
        raise UserError(N_("The file %(name)s is empty."), field=FIELD, name=name)
    header, body = table[0], table[1:]
    positions: dict[str, int] = {}
    headers: dict[str, str] = {}
    ignored: list[str] = []
    for position, cell in enumerate(header):
        column = column_of(cell)
        if column is None or column in positions:
            if cell.strip():
                ignored.append(cell.strip())
            continue
        positions[column], headers[column] = position, cell.strip()
    missing = [column for column in REQUIRED if column not in positions]
    if missing:
        raise UserError(N_("The first row must name the columns: konto (account), tid (time) "
                           "and text, and if you like länk (link), bild (image) and alt-text. "
                           "Missing: %(missing)s."), field=FIELD,
                        missing=", ".join(REQUIRED_NAMES[c] for c in missing))
    if len(body) > MAX_ROWS:
        raise UserError(N_("At most %(limit)s posts can be imported at once: split the file."),
                        field=FIELD, limit=MAX_ROWS)
    rows = []
    for number, cells in enumerate(body, 2):
        if not any((cell or "").strip() for cell in cells):
            continue  # an empty line between posts
        rows.append((number, {column: _cut(cells[position]) if position < len(cells) else ""
                              for column, position in positions.items()}))
    return ReadFile(rows, headers, ignored)


def _cut(cell: str | None) -> str:
    """The cell as stored in the preview: control characters (which no database keeps) shown as
    U+FFFD, for publisher.bulk_import to refuse with the composer's message."""
    return CONTROL_CHARACTERS.sub(UNREADABLE, (cell or "")[:MAX_CELL])

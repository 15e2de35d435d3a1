"""Importing posts from a file: upload, a preview of every row, then confirm all valid rows."""

from __future__ import annotations

from collections.abc import Callable
from math import ceil
from pathlib import PurePath
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf.file import FileField
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response
from wtforms import HiddenField
from wtforms.validators import DataRequired, Regexp

from core.auth import Action
from core.i18n import N_, UserError, ValidationErrors
from core.text import row_id
from monitor.fetch import FetchError, SafeFetcher
from publisher.bulk_import import (
    MAX_ZIP_BYTES,
    ImportChanged,
    PostImport,
    confirm_import,
    import_for,
    preview_import,
    recheck_import,
)
from publisher.import_files import MAX_FILE_BYTES, MAX_ROWS
from publisher.media import MAX_STORED_BYTES, MB
from web.context import db_session, services
from web.forms import Rendered, SafeForm, submit
from web.permissions import requires

bp = Blueprint("imports", __name__)
PER_PAGE = 100


class ImportForm(SafeForm):
    file = FileField(_l("File of posts (CSV or Excel .xlsx)"))
    pictures = FileField(_l("Pictures in a zip file (if the file names pictures by file name)"))


class ConfirmImportForm(SafeForm):
    expected = HiddenField(validators=[DataRequired(), Regexp(r"^\d{1,6}$")])


def _read(upload: FileStorage | None, field: str, limit: int) -> tuple[bytes, str]:
    """An upload's bytes and name, refusing (without reading it all) what is over `limit`."""
    if upload is None or not upload.filename:
        return b"", ""
    name = PurePath(upload.filename).name[:200]
    data = upload.stream.read(limit + 1)
    if len(data) > limit:
        raise UserError(N_("The file is too large: at most %(limit)s MB."), field=field,
                        limit=limit // MB)
    return data, name


class _Fetcher:
    """The SSRF-guarded fetcher (monitor.fetch), made on the first picture from the web."""

    def __init__(self) -> None:
        self.fetcher: SafeFetcher | None = None

    def __call__(self, url: str) -> bytes:
        if self.fetcher is None:
            settings = services().settings
            self.fetcher = SafeFetcher(allow=settings.fetch_allow_list,
                                       timeout=settings.fetch_timeout_seconds,
                                       max_bytes=MAX_STORED_BYTES)
        try:
            return self.fetcher.fetch(url).body
        except FetchError as exc:
            raise UserError(exc.msgid, field="image", **exc.params) from None

    def close(self) -> None:
        if self.fetcher is not None:
            self.fetcher.close()


def _preview(form: ImportForm) -> Callable[[Session], PostImport]:
    def change(session: Session) -> PostImport:
        fetch = _Fetcher()
        try:
            data, name = _read(form.file.data, "file", MAX_FILE_BYTES)
            if not data:
                raise UserError(N_("Choose a CSV or Excel file of posts."), field="file")
            pictures, pictures_name = _read(form.pictures.data, "pictures", MAX_ZIP_BYTES)
            return preview_import(session, current_user, data, name,
                                  media_root=services().settings.instance_path,
                                  pictures=pictures or None, pictures_name=pictures_name,
                                  fetch_image=fetch)
        except UserError as problem:
            raise ValidationErrors([problem]) from None
        finally:
            fetch.close()

    return change


@bp.route("/compose/import", methods=["GET", "POST"])
@requires(Action.COMPOSE)
def upload() -> Response | Rendered:
    form = ImportForm()

    def page(errors: ValidationErrors | None) -> Rendered:
        return render_template("compose/import.html", form=form, errors=errors,
                               max_mb=MAX_FILE_BYTES // MB, max_zip_mb=MAX_ZIP_BYTES // MB,
                               max_rows=MAX_ROWS), 400 if errors else 200

    return submit(form, _preview(form),
                  lambda record: redirect(url_for("imports.preview", import_id=record.id)), page)


@bp.get("/compose/import/<int:import_id>")
@requires(Action.COMPOSE)
def preview(import_id: int) -> str:
    try:
        record = import_for(db_session(), current_user, import_id)
    except LookupError:
        abort(404)
    only_problems = request.args.get("show") == "problems"
    rows = record.refused_rows if only_problems else record.rows
    pages = max(1, ceil(len(rows) / PER_PAGE))
    number = request.args.get("page", "1")
    current = min(row_id(number) or 1, pages)
    current = max(current, 1)
    shown = rows[(current - 1) * PER_PAGE:current * PER_PAGE]
    form = ConfirmImportForm(expected=str(len(record.valid_rows)))
    return render_template("compose/import_preview.html", record=record, rows=shown,
                           page=current, pages=pages, only_problems=only_problems, form=form,
                           headers=_headers(record), counts=_counts(record))


def _headers(record: PostImport) -> dict[str, str]:
    named = {"account": _l("account"), "time": _l("time"), "text": _l("text"),
             "link": _l("link"), "image": _l("image"), "alt": _l("alt text")}
    return {column: (record.notes.get("headers") or {}).get(column) or str(label)
            for column, label in named.items()}


def _counts(record: PostImport) -> dict[str, Any]:
    return {"total": len(record.rows), "valid": len(record.valid_rows),
            "refused": len(record.refused_rows),
            "warned": sum(1 for row in record.rows if row["warnings"] and not row["problems"])}


@bp.post("/compose/import/<int:import_id>/confirm")
@requires(Action.COMPOSE)
def confirm(import_id: int) -> Response | tuple[str, int]:
    form = ConfirmImportForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        for field in (form.expected,):
            for error in field.errors:
                flash(str(error), "error")
        return preview(import_id), 400
    session = db_session()
    back = redirect(url_for("imports.preview", import_id=import_id))
    try:
        done = confirm_import(session, current_user, import_id, int(form.expected.data))
    except LookupError:
        session.rollback()
        abort(404)
    except ImportChanged:
        session.rollback()  # nothing of it is kept
        recheck_import(session, current_user, import_id)
        session.commit()
        flash(_("Something changed since the preview, so nothing was imported. The rows are "
                "checked again below: look them over and confirm again."), "warning")
        return back
    session.commit()
    if done.already:
        flash(_("This file has already been imported."), "warning")
        return back
    flash(ngettext("%(num)s post from the file is queued.",
                   "%(num)s posts from the file are queued.", len(done.post_ids)), "success")
    return back

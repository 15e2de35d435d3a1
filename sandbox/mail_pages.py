"""/sandbox/mail: the e-mail Megafon sent while the sandbox stood in for a mail server."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, jsonify, render_template

from sandbox.mailbox import Letter, Mailbox

bp = Blueprint("mail", __name__, url_prefix="/sandbox", template_folder="templates")


def current_mailbox() -> Mailbox:
    return current_app.config["SANDBOX_MAILBOX"]


def _letter(letter_id: int) -> Letter:
    found = current_mailbox().get(letter_id)
    if found is None:
        abort(404)
    return found


@bp.get("/mail")
def mailbox() -> str:
    return render_template("mailbox.html", letters=current_mailbox().letters())


@bp.get("/mail/<int:letter_id>")
def letter(letter_id: int) -> str:
    return render_template("letter.html", letter=_letter(letter_id))


@bp.get("/mail/<int:letter_id>/attachments/<int:number>")
def attachment(letter_id: int, number: int) -> Response:
    found = _letter(letter_id)
    if not 0 <= number < len(found.attachments):
        abort(404)
    part = found.attachments[number]
    safe = "".join(c for c in part.filename if c.isalnum() or c in "-_.") or "attachment"
    return Response(part.data, mimetype=part.content_type,
                    headers={"Content-Disposition": f'attachment; filename="{safe}"'})


@bp.get("/api/mail")
def mail_json() -> Response:
    """The letters as JSON, newest first, for tests and scripts."""
    return jsonify([{"id": x.id, "from": x.mail_from, "to": list(x.to), "subject": x.subject,
                     "text": x.text, "received_at": x.received_at.isoformat(),
                     "attachments": [{"filename": a.filename, "content_type": a.content_type,
                                      "size": len(a.data)} for a in x.attachments]}
                    for x in current_mailbox().letters()])

"""Tokens: each user makes and revokes their own API tokens; the secret is shown once."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from core import tokens
from core.auth import NotAllowed
from core.i18n import ValidationErrors
from web.context import db_session
from web.forms import EmptyForm, TokenForm

bp = Blueprint("tokens", __name__)


@bp.get("/tokens")
@login_required
def index() -> str:
    return _page(TokenForm())


def _page(form: TokenForm, secret: str | None = None, status: int = 200) -> str:
    found = tokens.tokens_of(db_session(), current_user)
    return render_template("tokens/index.html", form=form, tokens=found, secret=secret,
                           revoke=EmptyForm()), status  # type: ignore[return-value]


@bp.post("/tokens")
@login_required
def create() -> str | Response:
    form = TokenForm()
    if not form.validate_on_submit():
        return _page(form, status=400)
    session = db_session()
    try:
        made = tokens.create_token(session, current_user, current_user, form.name.data or "",
                                   form.scope.data or "")
    except ValidationErrors as errors:
        session.rollback()
        for error in errors.errors:
            flash(_(error.message, **error.params), "error")
        return _page(form, status=400)
    session.commit()
    return _page(TokenForm(formdata=None), secret=made.secret)


@bp.post("/tokens/<int:token_id>/revoke")
@login_required
def revoke(token_id: int) -> Response:
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("tokens.index"))
    session = db_session()
    try:
        token = tokens.revoke_token(session, current_user, token_id)
    except NotAllowed:  # another's token, or none: the same answer (it is not shown here)
        session.rollback()
        flash(_("There is no such token of yours."), "error")
        return redirect(url_for("tokens.index"))
    session.commit()
    flash(_("The token “%(name)s” no longer works.", name=token.name), "success")
    return redirect(url_for("tokens.index"))

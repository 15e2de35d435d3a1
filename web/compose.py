"""Writing and queueing a post."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from core.auth import Action
from core.i18n import ValidationErrors
from publisher.accounts import NotAllowed, visible_accounts
from publisher.posts import PostDraft, create_post
from publisher.text_rules import X_MAX_WEIGHTED
from web.context import db_session
from web.forms import ComposeForm
from web.permissions import requires

bp = Blueprint("compose", __name__)


@bp.route("/compose", methods=["GET", "POST"])
@requires(Action.COMPOSE)
def compose() -> str | Response | tuple[str, int]:
    session = db_session()
    accounts = visible_accounts(session, current_user)
    form = ComposeForm()
    form.accounts.choices = [(a.id, a.name) for a in accounts]
    errors: ValidationErrors | None = None
    if form.validate_on_submit():
        draft = PostDraft(text=form.text.data or "", link=form.link.data,
                          account_ids=list(form.accounts.data or []),
                          scheduled_local=form.scheduled_at.data)
        try:
            post = create_post(session, current_user, draft)
        except NotAllowed:
            session.rollback()
            abort(403)
        except ValidationErrors as exc:
            session.rollback()
            errors = exc
        else:
            session.commit()
            flash(_("The post is queued for %(count)s account(s).", count=len(post.deliveries)),
                  "success")
            return redirect(url_for("dashboard.index"))
    elif form.errors:
        errors = ValidationErrors([])
    status = 400 if errors is not None else 200
    return render_template("compose/compose.html", form=form, accounts=accounts, errors=errors,
                           x_limit=X_MAX_WEIGHTED), status

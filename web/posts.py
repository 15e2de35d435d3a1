"""A post's own page: every delivery's state and history, its link and numbers, the review
thread, and a failed delivery changed and queued again in one step."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms import TextAreaField

from core.auth import Action, NotAllowed, can
from core.clock import utcnow
from core.entered_time import AT, SOON, EnteredTime
from core.i18n import ValidationErrors
from publisher import approval, deliveries
from publisher.metrics import metrics_summary
from publisher.models import DeliveryState, Post
from publisher.posts import PAST_GRACE, Fixed, editable, fix_and_send_again, post_for
from publisher.user_messages import explain
from web.context import db_session
from web.forms import SafeForm, submit
from web.permissions import requires
from web.reviews import ApproveForm, CommentForm, ReturnForm, TimeFields

bp = Blueprint("posts", __name__)


class FixForm(TimeFields, SafeForm):
    text = TextAreaField(_l("Text"))


def _fix_form(post: Post, delivery_id: int, formdata: Any = None) -> FixForm:
    form = FixForm(prefix=f"fix{delivery_id}", formdata=formdata)
    if formdata is None:
        form.text.data = post.text
        form.when.data = SOON
    return form


def _approve_form(post: Post) -> ApproveForm:
    """Its own time while that is to come; once passed, empty fields the reviewer must fill
    (or choose as soon as possible): approving as it stands answers with the reason."""
    form = ApproveForm(formdata=None)
    form.when.data = AT
    if post.scheduled_at >= utcnow() - PAST_GRACE:
        shown = EnteredTime.showing(post.scheduled_at)
        form.scheduled_date.data, form.scheduled_time.data = shown.date, shown.time
        form.scheduled_reading.data = shown.reading or None
    return form


def post_page(post_id: int, errors: ValidationErrors | None = None, *,
              approve_form: ApproveForm | None = None, return_form: ReturnForm | None = None,
              comment_form: CommentForm | None = None, fix_form: FixForm | None = None,
              fixing: int | None = None, errors_in: str | None = None) -> tuple[str, int]:
    session = db_session()
    try:
        post = post_for(session, current_user, post_id)
    except NotAllowed:
        abort(404)
    session.refresh(post)
    rows = [{"delivery": d, "events": deliveries.history(session, d.id),
             "metrics": metrics_summary(session, d.id), "explanation": explain(d)}
            for d in post.deliveries]
    waiting = [d for d in post.deliveries if d.state is DeliveryState.AWAITING_APPROVAL]
    reviewing = bool(waiting) and approval.may_review(current_user) \
        and post.author_id != current_user.id
    fixes = {d.id: (fix_form if d.id == fixing and fix_form is not None
                    else _fix_form(post, d.id))
             for d in post.deliveries if d.state is DeliveryState.FAILED}
    page = render_template(
        "posts/detail.html", post=post, rows=rows, thread=approval.thread(session, post.id),
        waiting=waiting, reviewing=reviewing, errors=errors,
        time_passed=post.scheduled_at < utcnow() - PAST_GRACE,
        approve_form=approve_form or _approve_form(post),
        return_form=return_form or ReturnForm(formdata=None),
        comment_form=comment_form or CommentForm(formdata=None),
        may_comment=approval.may_comment(current_user, post),
        can_change=can(current_user, Action.COMPOSE) and editable(post),
        fixes=fixes if can(current_user, Action.COMPOSE) else {}, fixing=fixing,
        errors_in=errors_in or ("fix" if fixing else None))
    return page, 400 if errors is not None else 200


@bp.get("/posts/<int:post_id>")
@requires(Action.VIEW_DASHBOARD)
def detail(post_id: int) -> tuple[str, int]:
    return post_page(post_id)


@bp.post("/deliveries/<int:delivery_id>/fix")
@requires(Action.COMPOSE)
def fix(delivery_id: int) -> Any:
    """A failed delivery's new words and time, queued again at once."""
    session = db_session()
    try:
        delivery = deliveries.delivery_for(session, current_user, delivery_id)
    except NotAllowed:
        abort(404)
    post_id = delivery.post_id
    if not deliveries.can_send_again(delivery) or delivery.state is not DeliveryState.FAILED:
        flash(_("Only a failed delivery can be changed and sent again here."), "error")
        return redirect(url_for("posts.detail", post_id=post_id))
    form = FixForm(prefix=f"fix{delivery_id}")

    def done(fixed: Fixed) -> Response:
        waits = any(d.state is DeliveryState.AWAITING_APPROVAL for d in fixed.post.deliveries)
        if fixed.new_post:
            flash(_("The rest of the post has gone out, so the new version is a new post, "
                    "queued for %(account)s.", account=delivery.account.name), "success")
        else:
            flash(_("The post is changed and queued again."), "success")
        if waits:
            flash(_("It waits for approval before it goes out."), "warning")
        return redirect(url_for("posts.detail", post_id=fixed.post.id))

    return submit(form, lambda s: fix_and_send_again(s, current_user, delivery_id,
                                                     form.text.data or "", form.entered()),
                  done, lambda errors: post_page(post_id, errors, fix_form=form,
                                                 fixing=delivery_id))

"""The dashboard: what goes out next and what happened lately, with each delivery's history."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from core.auth import Action, NotAllowed
from publisher import approval, deliveries, queue
from publisher.metrics import metrics_summary
from publisher.retry import RetryPolicy
from publisher.user_messages import explain
from web.context import db_session, services
from web.forms import EmptyForm
from web.permissions import requires

bp = Blueprint("dashboard", __name__)
SHOWN = 50  # rows per list: what a person reads at a glance; the counts say how many there are


@bp.context_processor
def state_rules() -> dict[str, object]:
    """What may be done with a delivery, as the domain says (templates list no states)."""
    return {"can_cancel": deliveries.can_cancel, "can_send_again": deliveries.can_send_again,
            "can_edit_post": lambda d: deliveries.can_edit(d.post.deliveries),
            "shows_next_try": deliveries.shows_next_try, "is_explained": deliveries.is_explained}


@bp.get("/")
@requires(Action.VIEW_DASHBOARD)
def index() -> str:
    session = db_session()
    upcoming = queue.upcoming(session, current_user, limit=SHOWN)
    recent = queue.recent(session, current_user, limit=SHOWN)
    return render_template("dashboard/index.html", upcoming=upcoming, recent=recent,
                           open_count=queue.open_count(session, current_user),
                           counts=queue.recent_counts(session, current_user), form=EmptyForm(),
                           explain=explain)


@bp.get("/deliveries/<int:delivery_id>")
@requires(Action.VIEW_DASHBOARD)
def delivery(delivery_id: int) -> str:
    session = db_session()
    try:
        found = deliveries.delivery_for(session, current_user, delivery_id)
    except NotAllowed:
        abort(404)
    return render_template("dashboard/delivery.html", delivery=found,
                           events=deliveries.history(session, delivery_id), form=EmptyForm(),
                           explanation=explain(found),
                           gives_up_at=RetryPolicy.from_settings(
                               services().settings).gives_up_at(found.due_at),
                           metrics=metrics_summary(session, delivery_id))


@bp.post("/deliveries/<int:delivery_id>/requeue")
@requires(Action.COMPOSE)
def requeue(delivery_id: int) -> Response:
    if EmptyForm().validate_on_submit():
        if approval.send_again_for(db_session(), current_user, delivery_id):
            db_session().commit()
            flash(_("The delivery is queued again and goes out now."), "success")
        else:
            flash(_("Only a failed or cancelled delivery can be sent again."), "error")
    return redirect(url_for("dashboard.delivery", delivery_id=delivery_id))


@bp.post("/deliveries/<int:delivery_id>/cancel")
@requires(Action.COMPOSE)
def cancel(delivery_id: int) -> Response:
    if EmptyForm().validate_on_submit():
        if deliveries.cancel_for(db_session(), current_user, delivery_id):
            db_session().commit()
            flash(_("The delivery was cancelled."), "success")
        else:
            flash(_("Too late to cancel: the delivery is being sent, checked or is done."),
                  "error")
    return redirect(url_for("dashboard.delivery", delivery_id=delivery_id))

"""Reviewing posts that need approval (publisher.approval): the reviewers' list, approving,
sending back and commenting, and the admin's rules of which accounts need approval."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response
from wtforms import TextAreaField
from wtforms.validators import Length

from core.auth import Action
from core.clock import utcnow
from core.entered_time import AT, SOON, EnteredTime
from core.i18n import ValidationErrors
from core.users import Organisation, OrganisationKind
from publisher import approval
from publisher.accounts import visible_accounts
from publisher.posts import PAST_GRACE
from web.context import db_session
from web.forms import CheckboxListField, SafeForm, WhenFields, submit
from web.permissions import requires

bp = Blueprint("reviews", __name__)


class TimeFields(WhenFields):
    """The composer's time fields, for a time given anew (approving, fixing a failed delivery).
    """

    def entered(self) -> EnteredTime | None:
        """The time given, or None when the fields were left as they were offered: empty."""
        if self.when.data not in (SOON, AT):  # type: ignore[attr-defined]
            return None
        return EnteredTime.chosen(self.when.data, self.scheduled_date.data,  # type: ignore
                                  self.scheduled_time.data, self.scheduled_reading.data)


class ApproveForm(TimeFields, SafeForm):
    comment = TextAreaField(_l("Comment (optional)"), validators=[Length(max=4000)])


class ReturnForm(SafeForm):
    comment = TextAreaField(_l("What should change?"), validators=[Length(max=4000)])


class CommentForm(SafeForm):
    comment = TextAreaField(_l("Comment"), validators=[Length(max=4000)])


class ApprovalRulesForm(SafeForm):
    accounts = CheckboxListField(_l("Accounts whose posts need approval"), coerce=int,
                                 validate_choice=False)
    organisations = CheckboxListField(_l("Associations whose posts all need approval"),
                                      coerce=int, validate_choice=False)


@bp.app_context_processor
def review_badge() -> dict[str, Any]:
    def reviews_waiting() -> int:
        if not current_user.is_authenticated:
            return 0
        try:
            return approval.waiting_count(db_session(), current_user)
        except SQLAlchemyError:  # an error page must still render when the database is down
            return 0

    def may_review() -> bool:
        return current_user.is_authenticated and approval.may_review(current_user)

    return {"reviews_waiting": reviews_waiting, "may_review": may_review,
            "needs_approval": approval.needs_approval}


@bp.get("/reviews")
@requires(Action.APPROVE_POSTS)
def index() -> str:
    session = db_session()
    posts = approval.waiting_list(session, current_user)
    return render_template("reviews/index.html", posts=posts, passed=utcnow() - PAST_GRACE,
                           awaiting={p.id: [d for d in p.deliveries
                                            if d.state.value == "awaiting_approval"]
                                     for p in posts})


def _back(post_id: int) -> Response:
    return redirect(url_for("posts.detail", post_id=post_id))


def _post_page(post_id: int, errors_in: str, **forms: Any) -> Any:
    from web.posts import post_page  # the post page shows the review forms with their errors

    return lambda errors: post_page(post_id, errors=errors, errors_in=errors_in, **forms)


@bp.post("/posts/<int:post_id>/approve")
@requires(Action.APPROVE_POSTS)
def approve(post_id: int) -> Any:
    form = ApproveForm()

    def done(result: object) -> Response:
        flash(_("The post is approved and queued."), "success")
        return _back(post_id)

    return submit(form, lambda session: approval.approve(
        session, current_user, post_id, comment=form.comment.data, entered=form.entered()),
        done, _post_page(post_id, "approve", approve_form=form))


@bp.post("/posts/<int:post_id>/return")
@requires(Action.APPROVE_POSTS)
def send_back(post_id: int) -> Any:
    form = ReturnForm()

    def done(result: object) -> Response:
        flash(_("The post is sent back to its author with your comment."), "success")
        return _back(post_id)

    return submit(form, lambda session: approval.send_back(
        session, current_user, post_id, form.comment.data or ""),
        done, _post_page(post_id, "return", return_form=form))


@bp.post("/posts/<int:post_id>/comment")
@requires(Action.VIEW_DASHBOARD)
def comment(post_id: int) -> Any:
    form = CommentForm()

    def done(result: object) -> Response:
        flash(_("Your comment is added."), "success")
        return _back(post_id)

    return submit(form, lambda session: approval.add_comment(
        session, current_user, post_id, form.comment.data or ""),
        done, _post_page(post_id, "comment", comment_form=form))


def rules_form() -> ApprovalRulesForm:
    """The admin's form, filled with the rules as they stand (the accounts page shows it)."""
    session = db_session()
    form = ApprovalRulesForm()
    accounts = visible_accounts(session, current_user)
    associations = list(session.scalars(
        select(Organisation).where(Organisation.kind == OrganisationKind.ASSOCIATION)
        .order_by(Organisation.name)))
    form.accounts.choices = [(a.id, a.name) for a in accounts]
    form.organisations.choices = [(o.id, o.name) for o in associations]
    if not form.is_submitted():
        form.accounts.data = [a.id for a in accounts if a.needs_approval]
        form.organisations.data = [o.id for o in associations if o.posts_need_approval]
    return form


@bp.post("/accounts/approval")
@requires(Action.SET_APPROVAL_RULES)
def rules() -> Any:
    form = rules_form()

    def done(result: object) -> Response:
        flash(_("Which posts need approval is saved."), "success")
        return redirect(url_for("accounts.index") + "#approval")

    def page(errors: ValidationErrors | None) -> Any:
        from web.accounts import _page

        return _page(errors)

    return submit(form, lambda session: approval.set_rules(
        session, current_user, form.accounts.data or [], form.organisations.data or []),
        done, page)

"""Connecting and disconnecting X accounts and Facebook Pages."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from core.auth import Action, organisations_for
from core.i18n import ValidationErrors
from monitor.own import mark_own_mentions
from publisher.accounts import connect_account, disconnect_account, visible_accounts
from publisher.adapters.base import PlatformError
from publisher.adapters.sandbox_directory import SandboxDirectory
from publisher.approval import may_set_rules
from publisher.models import Platform
from web.context import db_session, services
from web.forms import ConnectFacebookForm, ConnectXForm, EmptyForm, SandboxAccountForm
from web.permissions import requires
from web.reviews import rules_form

bp = Blueprint("accounts", __name__, url_prefix="/accounts")


def _forms() -> dict[str, FlaskForm]:
    choices = [(o.id, o.name) for o in organisations_for(db_session(), current_user)]
    forms: dict[str, FlaskForm] = {
        "x_form": ConnectXForm(prefix="x"),
        "fb_form": ConnectFacebookForm(prefix="fb"),
        "sandbox_form": SandboxAccountForm(prefix="sb"),
    }
    for form in forms.values():
        form.organisation_id.choices = choices
    return forms


def _page(errors: ValidationErrors | None = None, active: str | None = None,
          forms: dict[str, FlaskForm] | None = None) -> tuple[str, int]:
    session = db_session()
    forms = forms or _forms()
    sandbox = services().platforms.sandbox_url
    rules = rules_form() if may_set_rules(current_user) else None
    return render_template(
        "accounts/index.html", accounts=visible_accounts(session, current_user),
        errors=errors, active=active, sandbox_url=sandbox, empty_form=EmptyForm(),
        rules_form=rules, **forms,
    ), 400 if errors else 200


@bp.get("/")
@requires(Action.VIEW_DASHBOARD)
def index() -> tuple[str, int]:
    return _page()


def _connect(platform: Platform, form: FlaskForm, credentials: dict[str, str], active: str,
             forms: dict[str, FlaskForm]) -> Response | tuple[str, int]:
    session = db_session()
    svc = services()
    try:
        account = connect_account(
            session, box=svc.box, platforms=svc.platforms, user=current_user, platform=platform,
            name=form.name.data or "", organisation_id=form.organisation_id.data,
            credentials=credentials)
    except ValidationErrors as exc:
        session.rollback()
        return _page(exc, active, forms)
    mark_own_mentions(session, account.id)  # what it posted before is ours, not coverage
    session.commit()
    flash(_("%(name)s is connected and verified.", name=account.name), "success")
    return redirect(url_for("accounts.index"))


@bp.post("/connect/x")
@requires(Action.MANAGE_ACCOUNTS)
def connect_x() -> Response | tuple[str, int]:
    forms = _forms()
    form = forms["x_form"]
    if not form.validate_on_submit():
        return _page(ValidationErrors([]), "x", forms)
    fields = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
    return _connect(Platform.X, form, {f: getattr(form, f).data or "" for f in fields}, "x",
                    forms)


@bp.post("/connect/facebook")
@requires(Action.MANAGE_ACCOUNTS)
def connect_facebook() -> Response | tuple[str, int]:
    forms = _forms()
    form = forms["fb_form"]
    if not form.validate_on_submit():
        return _page(ValidationErrors([]), "facebook", forms)
    creds = {"page_id": form.page_id.data or "", "page_access_token": form.page_access_token.data
             or ""}
    return _connect(Platform.FACEBOOK, form, creds, "facebook", forms)


@bp.post("/connect/sandbox")
@requires(Action.MANAGE_ACCOUNTS)
def connect_sandbox() -> Response | tuple[str, int]:
    sandbox = services().platforms.sandbox_url
    if not sandbox:
        abort(404)
    forms = _forms()
    form = forms["sandbox_form"]
    if not form.validate_on_submit():
        return _page(ValidationErrors([]), "sandbox", forms)
    try:
        creds = SandboxDirectory(sandbox).create_account(form.platform.data, form.name.data)
    except PlatformError as exc:
        flash(_("The sandbox did not answer: %(reason)s", reason=exc.message), "error")
        return redirect(url_for("accounts.index"))
    return _connect(Platform(form.platform.data), form, creds, "sandbox", forms)


@bp.post("/<int:account_id>/disconnect")
@requires(Action.MANAGE_ACCOUNTS)
def disconnect(account_id: int) -> Response:
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    session = db_session()
    account = disconnect_account(session, current_user, account_id)
    session.commit()
    flash(_("%(name)s is disconnected.", name=account.name), "success")
    return redirect(url_for("accounts.index"))

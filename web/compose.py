"""Writing and queueing a post."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path, PurePath
from textwrap import shorten

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from core.auth import Action, NotAllowed
from core.entered_time import EnteredTime
from core.i18n import N_, UserError, ValidationErrors
from core.text import row_id
from monitor.models import Mention
from monitor.respond import link_response, mention_to_answer, response_prefill
from publisher.accounts import visible_accounts
from publisher.clashes import clashes
from publisher.deliveries import WAITING
from publisher.drafts import Draft, discard_draft, draft_for, save_draft
from publisher.media import (
    MAX_STORED_BYTES,
    MB,
    X_ALT_TEXT_MAX,
    forget_pictures,
    holds,
    read_upload,
    store_image,
    visible_to,
)
from publisher.models import Account, MediaFile, Post
from publisher.posting_slots import NO_FREE_SLOT, next_free_slot
from publisher.posts import (
    DraftImage,
    PostDraft,
    create_post,
    edit_post,
    editable,
    post_for,
)
from publisher.text_rules import X_MAX_WEIGHTED
from web.ask_compose import AskInComposer, asked_for
from web.context import db_session, services
from web.filters import localtime
from web.forms import ComposeForm, entered_time, show_time
from web.permissions import requires

bp = Blueprint("compose", __name__)


@bp.route("/compose", methods=["GET", "POST"])
@requires(Action.COMPOSE)
def compose() -> str | Response | tuple[str, int]:
    session = db_session()
    accounts = visible_accounts(session, current_user)
    asked = asked_for(session)  # answering a campaign ask: its association's accounts only
    if asked is not None:
        accounts = asked.narrow(accounts)
    form = ComposeForm()
    form.accounts.choices = [(a.id, a.name) for a in accounts]
    errors: ValidationErrors | None = None
    if asked is not None and request.method == "GET":
        asked.fill(form)
    # answering a mention in the log
    mention = mention_to_answer(session, current_user, request.values.get("mention", ""))
    if mention is not None and request.method == "GET":
        form.text.data, form.link.data = response_prefill(mention)
    draft = _draft_asked_for(session)
    if draft is not None and request.method == "GET":
        _prefill_from_draft(form, draft)
    if request.method == "POST" and request.form.get("action") == "draft":
        return _keep_as_draft(session, form, accounts, draft, mention)
    if request.method == "POST" and request.form.get("action") == "next_slot":
        return _with_next_slot(session, form, accounts, draft, mention)
    if form.validate_on_submit():
        images = _chosen_pictures(session, form)
        save = asked.saver(session) if asked is not None else (
            lambda draft: create_post(session, current_user, draft))
        kept = asked.kept_images(form) if asked is not None else []
        outcome = _save(session, save, _draft(form, kept + images, _refused_uploads(form)),
                        form.uploaded_ids)
        if isinstance(outcome, ValidationErrors):
            errors = outcome
            _hold(form, images)
        else:
            post = outcome
            if mention is not None:
                link_response(session, current_user, mention.id, post.id)
            if draft is not None:
                discard_draft(session, current_user, draft.id)
            session.commit()
            flash(ngettext("The post is queued for %(num)s account.",
                           "The post is queued for %(num)s accounts.", len(post.deliveries)),
                  "success")
            undescribed = [image.name for image in images if not image.alt_text.strip()]
            if undescribed:
                flash(_("No description for %(names)s: people who cannot see the pictures will "
                        "not know what they show. Describe pictures when you add them.",
                        names=", ".join(undescribed)), "warning")
            _warn_about_clashes(session, post)
            return redirect(url_for("dashboard.index"))
    elif form.errors:
        errors = ValidationErrors([])
    return _composer(form, accounts, errors, mention=mention, draft=draft, ask=asked)


def _draft_asked_for(session: Session) -> Draft | None:
    """The writer's draft the composer continues (`?draft=` or the form's draft_id); 404 for
    another's or one that is gone."""
    raw = (request.values.get("draft_id") or request.values.get("draft") or "").strip()
    if not raw:
        return None
    if row_id(raw) is None:
        abort(404)
    try:
        return draft_for(session, current_user, int(raw))
    except LookupError:
        abort(404)


def _keep_as_draft(session: Session, form: ComposeForm, accounts: list[Account],
                   draft: Draft | None, mention: Mention | None) -> Response | tuple[str, int]:
    """"Save as draft": what the form holds, unchecked, kept for later (works without JS)."""
    raw = {name: request.form.getlist(name) for name in request.form if name != "csrf_token"}
    try:
        kept = save_draft(session, current_user, raw, draft.id if draft else None)
    except UserError as problem:
        session.rollback()
        form.validate()
        return _composer(form, accounts, ValidationErrors([problem]), mention=mention,
                         draft=draft)
    session.commit()
    flash(_("The draft is saved. Find it again under Drafts."), "success")
    return redirect(url_for("compose.compose", draft=kept.id))


def _with_next_slot(session: Session, form: ComposeForm, accounts: list[Account],
                    draft: Draft | None, mention: Mention | None) -> tuple[str, int]:
    """"Next free time": the chosen accounts' next posting time no post holds, put in the
    time fields (the page again, nothing saved; works without JS)."""
    chosen = list(form.accounts.data or [])
    found = next_free_slot(session, current_user, chosen) if chosen else None
    if found is not None:
        show_time(form, EnteredTime.showing(found))
        return _composer(form, accounts, None, mention=mention, draft=draft)
    problem = (UserError(NO_FREE_SLOT, field="scheduled_at") if chosen
               else UserError(N_("Choose at least one account."), field="accounts"))
    return _composer(form, accounts, ValidationErrors([problem]), mention=mention, draft=draft)


def _prefill_from_draft(form: ComposeForm, draft: Draft) -> None:
    fields = draft.fields or {}
    form.text.data = fields.get("text", "")
    form.text_x.data = fields.get("text_x", "")
    form.text_facebook.data = fields.get("text_facebook", "")
    form.link.data = fields.get("link", "")
    form.first_comment.data = fields.get("first_comment", "")
    form.accounts.data = [n for a in fields.get("accounts", []) if (n := row_id(str(a)))]
    form.when.data = fields.get("when") or form.when.data
    form.scheduled_date.data = fields.get("scheduled_date", "")
    form.scheduled_time.data = fields.get("scheduled_time", "")
    form.scheduled_reading.data = fields.get("scheduled_reading") or None
    parts = fields.get("thread") or [""]
    while form.thread.entries:
        form.thread.pop_entry()
    for part in parts[:form.thread.max_entries or len(parts)]:
        form.thread.append_entry(part)


@bp.route("/posts/<int:post_id>/edit", methods=["GET", "POST"])
@requires(Action.COMPOSE)
def edit(post_id: int) -> str | Response | tuple[str, int]:
    """Change a queued post: words, pictures, accounts, thread, comment or time."""
    session = db_session()
    try:
        post = post_for(session, current_user, post_id)
    except NotAllowed:
        abort(404)
    if not editable(post):
        flash(_("This post can no longer be changed: it has gone out, or is going out, on at "
                "least one account. Cancel what is still waiting and write a new post."), "error")
        return redirect(url_for("dashboard.index"))
    accounts = visible_accounts(session, current_user)
    form = ComposeForm()
    form.accounts.choices = [(a.id, a.name) for a in accounts]
    errors: ValidationErrors | None = None
    if request.method != "POST":
        _prefill(form, post)
    elif form.validate_on_submit():
        kept = _kept_images(form, post)
        images = _chosen_pictures(session, form)
        outcome = _save(session, lambda draft: edit_post(session, current_user, post_id, draft),
                        _draft(form, kept + images, _refused_uploads(form)),
                        form.uploaded_ids)
        if isinstance(outcome, ValidationErrors):
            errors = outcome
            _hold(form, images)
            post = post_for(session, current_user, post_id)  # as saved, after the rollback
        else:
            post = outcome
            session.commit()
            flash(_("The post is changed."), "success")
            _warn_about_clashes(session, post)
            return redirect(url_for("dashboard.index"))
    else:
        errors = ValidationErrors([])
    return _composer(form, accounts, errors, editing=post)


MAX_CLASH_WARNINGS = 3


def _warn_about_clashes(session: Session, post: Post) -> None:
    """After saving: the same words again, or another post minutes apart, on its accounts."""
    found = clashes(session, post)
    for clash in found[:MAX_CLASH_WARNINGS]:
        if clash.same_words:
            flash(_("%(account)s already has a post with the same words at %(time)s. X refuses "
                    "a repeated text, and on Facebook it looks like a mistake: change the words "
                    "or one of the posts.", account=clash.account, time=localtime(clash.at)),
                  "warning")
        else:
            flash(_("%(account)s has another post at %(time)s, close to this one: "
                    "“%(text)s”. The later post may bury the earlier one.",
                    account=clash.account, time=localtime(clash.at),
                    text=shorten(clash.text, 60, placeholder=" …")), "warning")
    if len(found) > MAX_CLASH_WARNINGS:
        rest = len(found) - MAX_CLASH_WARNINGS
        flash(ngettext("…and %(num)s more such post.", "…and %(num)s more such posts.", rest),
              "warning")


def _kept_images(form: ComposeForm, post: Post) -> list[DraftImage]:
    """The post's pictures as the form leaves them: described anew, or taken out."""
    kept = []
    for number, item in enumerate(post.media):
        entry = form.kept.entries[number] if number < len(form.kept.entries) else None
        if entry is not None and entry.remove.data:
            continue
        alt_text = entry.alt_text.data if entry is not None else item.alt_text
        kept.append(DraftImage(item.media_id, alt_text or "", f"#{item.position}"))
    return kept


def _draft(form: ComposeForm, media: list[DraftImage], upload_errors: list[UserError]
           ) -> PostDraft:
    return PostDraft(text=form.text.data or "", link=form.link.data,
                     text_x=form.text_x.data, text_facebook=form.text_facebook.data,
                     account_ids=list(form.accounts.data or []),
                     entered_time=entered_time(form), errors=upload_errors, media=media,
                     thread=list(form.thread.data or []), first_comment=form.first_comment.data)


def _save(session: Session, save: Callable[[PostDraft], Post], draft: PostDraft,
          uploaded: list[int]) -> Post | ValidationErrors:
    """The domain's verdict on a draft: the post, or its problems to show (a refusal of the
    user, NotAllowed, goes on to the 403 page). Refused, nothing of the post is kept; the
    pictures chosen for it are, for the next try (`_hold`)."""
    try:
        return save(draft)
    except ValidationErrors as problems:
        session.rollback()
        return problems
    except NotAllowed:  # an account not theirs: nothing is kept, the new pictures neither
        session.rollback()
        forget_pictures(session, _media_root(), uploaded)
        session.commit()
        raise


def _chosen_pictures(session: Session, form: ComposeForm) -> list[DraftImage]:
    """The pictures chosen for this post and not yet in it: those held from an earlier try,
    then those uploaded now. Stored and committed before the post is checked, so that a post
    sent back with a problem does not lose them (publisher.media.forget_unattached removes
    what is never used)."""
    held = []
    for entry in form.held:
        raw = (entry.media_id.data or "").strip()
        media = session.get(MediaFile, number) if (number := row_id(raw)) else None
        if media is None or not holds(current_user, media) or entry.remove.data:
            continue
        held.append(DraftImage(media.id, entry.alt_text.data or "",
                               (entry.file_name.data or "")[:120] or f"#{media.id}"))
    uploaded = _store_uploads(session, form)
    session.commit()
    form.uploaded_ids = [image.media_id for image in uploaded]
    return held + uploaded


def _hold(form: ComposeForm, images: list[DraftImage]) -> None:
    """The form shows the chosen pictures again, kept, with what was written about them."""
    while form.held.entries:
        form.held.pop_entry()
    for image in images:
        form.held.append_entry({"media_id": str(image.media_id), "file_name": image.name,
                                "alt_text": image.alt_text})
    for slot in form.images:
        slot.alt_text.data = ""


def _refused_uploads(form: ComposeForm) -> list[UserError]:
    return list(getattr(form, "refused_uploads", []))


def _composer(form: ComposeForm, accounts: list[Account], errors: ValidationErrors | None,
              *, mention: Mention | None = None, editing: Post | None = None,
              draft: Draft | None = None, ask: AskInComposer | None = None
              ) -> tuple[str, int]:
    """The compose page, for a new post or a queued one; 400 when it shows problems."""
    page = render_template("compose/compose.html", form=form, accounts=accounts, errors=errors,
                           mention=mention, editing=editing, draft=draft, answering_ask=ask,
                           x_limit=X_MAX_WEIGHTED,
                           alt_limit=X_ALT_TEXT_MAX, max_image_mb=MAX_STORED_BYTES // MB)
    return page, 400 if errors is not None else 200


def _prefill(form: ComposeForm, post: Post) -> None:
    form.accounts.data = [d.account_id for d in post.deliveries if d.state in WAITING]
    form.text.data, form.link.data = post.text, post.link
    form.text_x.data, form.text_facebook.data = post.text_x or "", post.text_facebook or ""
    form.first_comment.data = post.first_comment
    show_time(form, EnteredTime.showing(post.scheduled_at))
    while form.thread.entries:
        form.thread.pop_entry()
    for part in post.parts or [None]:
        form.thread.append_entry(part.text if part else "")
    for item in post.media:
        form.kept.append_entry({"alt_text": item.alt_text})


def _media_root() -> Path:
    return services().settings.instance_path


def _store_uploads(session: Session, form: ComposeForm) -> list[DraftImage]:
    """Check and store the uploaded pictures (by content, in publisher.media): the draft's
    images; the refusals are left on the form (`refused_uploads`) for the domain to report."""
    images, refused = [], []
    for number, slot in enumerate(form.images, 1):
        upload = slot.file.data
        if not upload:
            continue
        name = PurePath(upload.filename or "").name[:120] or f"#{number}"
        try:
            media = store_image(session, _media_root(), read_upload(upload.stream, name),
                                name=name, user_id=current_user.id)
        except UserError as exc:
            refused.append(exc)
            continue
        images.append(DraftImage(media.id, slot.alt_text.data or "", name))
    form.refused_uploads = refused
    return images


@bp.get("/media/<int:media_id>")
@requires(Action.VIEW_DASHBOARD)
def media(media_id: int) -> Response:
    """A stored picture, for previews: to its uploader and to whoever may see a post with it."""
    session = db_session()
    stored = session.get(MediaFile, media_id)
    if stored is None or not visible_to(session, current_user, stored):
        abort(404)
    path = services().settings.instance_path / stored.path
    if not path.is_file():
        abort(404)
    return send_file(path, mimetype=stored.mime, max_age=3600, conditional=True)

"""Kampanjer: campaign leads create campaigns, roll them out and follow the coverage.

Views read a form, call one service of campaigns/ and render; the services check who may do
what (core.auth), so a board member or another association's user is refused there.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import PurePath
from typing import Any, TypeVar

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy.orm import Session
from wtforms import RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from campaigns import asks, coverage, reminders
from campaigns import campaigns as service
from campaigns.models import Campaign, CampaignAsk, TargetKind
from core.auth import Action
from core.entered_time import EnteredTime
from core.i18n import UserError, ValidationErrors
from core.text import row_id
from publisher.media import read_upload, save_with_new_pictures, store_image
from publisher.models import Platform
from publisher.posts import DraftImage
from web.context import db_session, services
from web.filters import localtime
from web.forms import Rendered, SafeForm, submit
from web.permissions import requires

bp = Blueprint("campaigns", __name__)
T = TypeVar("T")


class _Checkboxes(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class MessageForm(SafeForm):
    """One message of a campaign: a text per network, hashtags, a link, a picture."""

    text_x = TextAreaField(_l("Text for X"))
    text_facebook = TextAreaField(_l("Text for Facebook"))
    hashtags = StringField(_l("Hashtags"), validators=[Length(max=500)])
    link = StringField(_l("Link"), validators=[Length(max=2000)])
    image = FileField(_l("Image"))
    alt_text = TextAreaField(_l("Description for people who cannot see the image (alt text)"))


class CampaignForm(MessageForm):
    """A new campaign and its first message."""

    name = StringField(_l("Name"), validators=[Length(max=200)])
    slug = StringField(_l("Short name in links (utm_campaign)"), validators=[Length(max=80)])
    description = TextAreaField(_l("Description"))
    starts_on = StringField(_l("First day"))
    ends_on = StringField(_l("Last day"))
    deadline_date = StringField(_l("Deadline: date"))
    deadline_time = StringField(_l("Deadline: time (24-hour clock)"))
    target_kind = RadioField(_l("Accounts"), default=TargetKind.DISTRICT.value,
                             validate_choice=False, choices=[
                                 SelectChoice(TargetKind.DISTRICT.value,
                                              _l("The district's accounts")),
                                 SelectChoice(TargetKind.ALL.value, _l("All accounts")),
                                 SelectChoice(TargetKind.ASSOCIATIONS.value,
                                              _l("The chosen associations' accounts"))])
    association_ids = _Checkboxes(_l("Associations"), coerce=int, validate_choice=False)
    utm_source_x = StringField(_l("utm_source on X"), default="x", validators=[Length(max=100)])
    utm_source_facebook = StringField(_l("utm_source on Facebook"), default="facebook",
                                      validators=[Length(max=100)])
    utm_medium = StringField(_l("utm_medium"), default="social", validators=[Length(max=100)])


class RolloutForm(SafeForm):
    message_id = SelectField(_l("Message"), coerce=int, validate_choice=False)
    start_date = StringField(_l("From: date"))
    start_time = StringField(_l("From: time"))
    end_date = StringField(_l("Until: date"))
    end_time = StringField(_l("Until: time"))


class UtmForm(SafeForm):
    utm_source_x = StringField(_l("utm_source on X"), validators=[Length(max=100)])
    utm_source_facebook = StringField(_l("utm_source on Facebook"),
                                      validators=[Length(max=100)])
    utm_medium = StringField(_l("utm_medium"), validators=[Length(max=100)])
    utm_campaign = StringField(_l("utm_campaign"), validators=[Length(max=100)])


class LinkForm(SafeForm):
    post_id = StringField(_l("The post's address or number"),
                          validators=[Optional(), Length(max=2000)])


def _message(form: CampaignForm | MessageForm, session: Session,
             stored: list[tuple[str, str]]) -> service.MessageDraft:
    """The message as typed, its picture checked and stored by publisher.media (what was
    written to disk is noted in `stored`, to be deleted again if the campaign is refused)."""
    images, refused = [], []
    upload = form.image.data
    if upload:
        name = PurePath(upload.filename or "").name[:120] or "#1"
        try:
            media = store_image(session, services().settings.instance_path,
                                read_upload(upload.stream, name), name=name,
                                user_id=current_user.id)
        except UserError as exc:
            refused.append(exc)
        else:
            stored.append((media.sha256, media.path))
            images.append(DraftImage(media.id, form.alt_text.data or "", name))
    return service.MessageDraft(form.text_x.data or "", form.text_facebook.data or "",
                                form.hashtags.data or "", form.link.data or "", images, refused)


def _with_pictures(session: Session, form: CampaignForm | MessageForm,
                   save: Callable[[service.MessageDraft], T]) -> T:
    """Save what carries a new message; refused, its new picture files are deleted again."""
    stored: list[tuple[str, str]] = []
    draft = _message(form, session, stored)
    return save_with_new_pictures(session, services().settings.instance_path, stored,
                                  lambda: save(draft), pictures_chosen=bool(form.image.data))


def _cell_label(cell: coverage.Cell) -> str:
    labels = {
        coverage.Cell.NOT_ASKED: _("Not asked"), coverage.Cell.ASKED: _("Asked"),
        coverage.Cell.DECLINED: _("Declined"), coverage.Cell.PLANNED: _("Planned"),
        coverage.Cell.SENDING: _("Sending"), coverage.Cell.PUBLISHED: _("Published"),
        coverage.Cell.FAILED: _("Failed"), coverage.Cell.CANCELLED: _("Cancelled"),
        coverage.Cell.HELD: _("On hold"), coverage.Cell.UNCERTAIN: _("Checking"),
        coverage.Cell.AWAITING_APPROVAL: _("Awaiting approval"),
        coverage.Cell.RETURNED: _("Sent back")}
    return labels[cell]


def _answer_label(answer: asks.Answered) -> str:
    labels = {asks.Answered.WAITING: _("No answer yet"), asks.Answered.DECLINED: _("Declined"),
              asks.Answered.PLANNED: _("Planned"), asks.Answered.PUBLISHED: _("Published")}
    return labels[answer]


@bp.get("/campaigns")
@requires(Action.VIEW_CAMPAIGNS)
def index() -> str:
    found = service.campaigns_for(db_session(), current_user)
    return render_template("campaigns/index.html", campaigns=found,
                           may_manage=service.may_manage(current_user))


@bp.route("/campaigns/new", methods=["GET", "POST"])
@requires(Action.MANAGE_CAMPAIGNS)
def new() -> Response | Rendered:
    form = CampaignForm()
    choices = [SelectChoice(o.id, o.name) for o in service.associations(db_session())]
    form.association_ids.choices = choices

    def page(errors: ValidationErrors | None) -> Rendered:
        return render_template("campaigns/new.html", form=form, errors=errors), (
            422 if errors else 200)

    def draft() -> service.CampaignDraft:
        return service.CampaignDraft(
            name=form.name.data or "", slug=form.slug.data or "",
            description=form.description.data or "", starts_on=form.starts_on.data or "",
            ends_on=form.ends_on.data or "",
            deadline=EnteredTime(form.deadline_date.data or "", form.deadline_time.data or ""),
            target_kind=form.target_kind.data or "", association_ids=form.association_ids.data,
            utm_source_x=form.utm_source_x.data or "",
            utm_source_facebook=form.utm_source_facebook.data or "",
            utm_medium=form.utm_medium.data or "")

    def create(session: Session, message: service.MessageDraft) -> Campaign:
        campaign = draft()
        campaign.message = message
        return service.create_campaign(session, current_user, campaign)

    return submit(form, lambda session: _with_pictures(
                      session, form, lambda message: create(session, message)),
                  lambda campaign: _done(_("The campaign %(name)s is saved.", name=campaign.name),
                                         campaign.id),
                  page)


def _done(message: str, campaign_id: int, anchor: str | None = None) -> Response:
    flash(message, "success")
    return redirect(url_for("campaigns.detail", campaign_id=campaign_id, _anchor=anchor))


def _filters() -> tuple[int | None, coverage.Cell | None]:
    organisation = request.args.get("organisation", "")
    state = request.args.get("state", "")
    cell = coverage.Cell(state) if state in set(coverage.Cell) else None
    return row_id(organisation), cell


def _campaign(campaign_id: int) -> Campaign:
    """The campaign the page is about: 404 when there is none (403 when not the user's)."""
    try:
        return service.campaign_for(db_session(), current_user, campaign_id)
    except LookupError:
        abort(404)


def _detail_page(campaign_id: int, errors: ValidationErrors | None = None,
                 forms: dict[str, FlaskForm] | None = None) -> Rendered:
    session = db_session()
    campaign = _campaign(campaign_id)
    organisation, cell = _filters()
    found = coverage.matrix(session, current_user, campaign_id, organisation_id=organisation,
                            cell=cell)
    forms = forms or {}
    rollout_form = forms.get("rollout") or RolloutForm(formdata=None)
    rollout_form.message_id.choices = [
        SelectChoice(m.id, _("Message %(number)s", number=m.position))
        for m in campaign.messages]
    ask_form = forms.get("ask") or AskForm(formdata=None)
    ask_form.ask_message_id.choices = rollout_form.message_id.choices
    ask_form.ask_organisation_ids.choices = [
        SelectChoice(o.id, o.name) for o in service.associations(session)]
    return render_template(
        "campaigns/detail.html", campaign=campaign, matrix=found, errors=errors,
        ask_form=ask_form, asks=asks.ask_statuses(session, current_user, campaign_id),
        reminder_form=forms.get("reminder") or ReminderForm(formdata=None, obj=campaign),
        remind_at=reminders.remind_at(campaign), answer_label=_answer_label,
        previews={m.id: service.preview(campaign, m) for m in campaign.messages},
        targets=len(service.target_accounts(session, campaign)),
        may_manage=service.may_manage(current_user), cells=list(coverage.Cell),
        cell_label=_cell_label, chosen_organisation=organisation, chosen_cell=cell,
        rollout_form=rollout_form,
        message_form=forms.get("message") or MessageForm(formdata=None),
        link_form=forms.get("link") or LinkForm(formdata=None),
        utm_form=forms.get("utm") or UtmForm(formdata=None, obj=campaign),
    ), 422 if errors else 200


@bp.get("/campaigns/<int:campaign_id>")
@requires(Action.VIEW_CAMPAIGNS)
def detail(campaign_id: int) -> Rendered:
    return _detail_page(campaign_id)


@bp.post("/campaigns/<int:campaign_id>/messages")
@requires(Action.MANAGE_CAMPAIGNS)
def add_message(campaign_id: int) -> Response | Rendered:
    form = MessageForm()
    return submit(form, lambda session: _with_pictures(
                      session, form, lambda message: service.add_message(
                          session, current_user, campaign_id, message)),
                  lambda message: _done(_("Message %(number)s is saved.",
                                          number=message.position), campaign_id),
                  lambda errors: _detail_page(campaign_id, errors, {"message": form}))


@bp.post("/campaigns/<int:campaign_id>/rollout")
@requires(Action.MANAGE_CAMPAIGNS)
def rollout(campaign_id: int) -> Response | Rendered:
    form = RolloutForm()
    form.message_id.choices = []

    def draft() -> service.RolloutDraft:
        return service.RolloutDraft(form.message_id.data or 0,
                                    EnteredTime(form.start_date.data or "",
                                                form.start_time.data or ""),
                                    EnteredTime(form.end_date.data or "",
                                                form.end_time.data or ""))

    def done(result: service.Rollout) -> Response:
        return _done(ngettext("%(num)d post is queued, one per account, spread over the window.",
                              "%(num)d posts are queued, one per account, spread over the "
                              "window.", len(result.posts)), campaign_id, "coverage")

    return submit(form, lambda session: service.rollout(session, current_user, campaign_id,
                                                        draft()),
                  done, lambda errors: _detail_page(campaign_id, errors, {"rollout": form}))


@bp.post("/campaigns/<int:campaign_id>/utm")
@requires(Action.MANAGE_CAMPAIGNS)
def utm(campaign_id: int) -> Response | Rendered:
    form = UtmForm()
    return submit(form, lambda session: service.set_utm(session, current_user, campaign_id,
                                                        service.UtmDraft(
                                                            form.utm_source_x.data or "",
                                                            form.utm_source_facebook.data or "",
                                                            form.utm_medium.data or "",
                                                            form.utm_campaign.data or "")),
                  lambda _campaign: _done(_("The links' UTM parameters are changed for the "
                                            "posts made from now on."), campaign_id),
                  lambda errors: _detail_page(campaign_id, errors, {"utm": form}))


@bp.post("/campaigns/<int:campaign_id>/link")
@requires(Action.MANAGE_CAMPAIGNS)
def link_post(campaign_id: int) -> Response | Rendered:
    form = LinkForm()

    def change(session: Session) -> Any:
        return service.link_post(session, current_user, campaign_id, form.post_id.data or "")

    return submit(form, change,
                  lambda link: _done(_("Post %(number)s now counts for the campaign.",
                                       number=link.post_id), campaign_id, "coverage"),
                  lambda errors: _detail_page(campaign_id, errors, {"link": form}))


@bp.get("/campaigns/<int:campaign_id>/coverage.csv")
@requires(Action.VIEW_CAMPAIGNS)
def coverage_csv(campaign_id: int) -> Response:
    organisation, cell = _filters()
    _campaign(campaign_id)
    found = coverage.matrix(db_session(), current_user, campaign_id,
                            organisation_id=organisation, cell=cell)

    def when(moment: datetime | None) -> str:
        return localtime(moment, "iso") if moment else ""

    body = coverage.to_csv(
        found, [_("Organisation"), _("Account"), _("Network"), _("State"), _("When"),
                _("Link"), _("Why"), _("Reach"), _("Engagement"), _("Overdue")],
        _cell_label, when, _("Overdue"), {Platform.X: "X", Platform.FACEBOOK: "Facebook"})
    campaign: Campaign = found.campaign
    return Response("\ufeff" + body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{campaign.slug}-coverage.csv"'})


# -- asking associations, and their answers ------------------------------------------------------

class AskForm(SafeForm):
    ask_message_id = SelectField(_l("Message"), coerce=int, validate_choice=False)
    ask_organisation_ids = _Checkboxes(_l("Associations"), coerce=int, validate_choice=False)


class AnswerForm(SafeForm):
    """The answer page: one text per account comes as text_<account id> (read from the form
    data, as the accounts are the association's own), and one time for all."""

    date = StringField(_l("Date"))
    time = StringField(_l("Time (24-hour clock)"))


class DeclineForm(SafeForm):
    reason = TextAreaField(_l("Why not?"), validators=[Length(max=2000)])


@bp.post("/campaigns/<int:campaign_id>/ask")
@requires(Action.MANAGE_CAMPAIGNS)
def ask(campaign_id: int) -> Response | Rendered:
    form = AskForm()
    return submit(form, lambda session: asks.ask_associations(
                      session, current_user, campaign_id, form.ask_message_id.data or 0,
                      list(form.ask_organisation_ids.data or [])),
                  lambda done: _done(ngettext("%(num)d association is asked, by e-mail and in "
                                              "Megafon.", "%(num)d associations are asked, by "
                                              "e-mail and in Megafon.", len(done)),
                                     campaign_id, "coverage"),
                  lambda errors: _detail_page(campaign_id, errors, {"ask": form}))


def _ask(ask_id: int) -> CampaignAsk:
    try:
        return asks.ask_for(db_session(), current_user, ask_id)
    except LookupError:
        abort(404)


def _ask_page(ask_id: int, errors: ValidationErrors | None = None,
              answer: AnswerForm | None = None, refusal: DeclineForm | None = None
              ) -> Rendered:
    found = _ask(ask_id)
    offered = asks.prefilled(db_session(), current_user, ask_id)
    texts = {p.account.id: request.form.get(f"text_{p.account.id}", p.text)
             if request.method == "POST" else p.text for p in offered}
    return render_template(
        "campaigns/ask.html", ask=found, offered=offered, texts=texts, errors=errors,
        answer_form=answer or AnswerForm(formdata=None),
        decline_form=refusal or DeclineForm(formdata=None)), 422 if errors else 200


@bp.route("/campaigns/asks/<int:ask_id>", methods=["GET", "POST"])
@requires(Action.VIEW_CAMPAIGNS)
def ask_page(ask_id: int) -> Response | Rendered:
    """The ask as the association sees it: the campaign's message ready for each of its
    accounts, to adapt and queue."""
    form = AnswerForm()

    def answer() -> asks.Answer:
        chosen = request.form.getlist("accounts")
        texts = {int(key[5:]): value for key, value in request.form.items()
                 if key.startswith("text_") and key[5:].isdigit() and key[5:] in chosen}
        return asks.Answer(texts, when=EnteredTime.chosen(None, form.date.data,
                                                          form.time.data, None))

    return submit(form, lambda session: asks.answer_with_posts(session, current_user, ask_id,
                                                               answer()),
                  lambda posts: _answered(ask_id, len(posts)),
                  lambda errors: _ask_page(ask_id, errors, answer=form))


def _answered(ask_id: int, posts: int) -> Response:
    flash(ngettext("%(num)d post is queued for the campaign.",
                   "%(num)d posts are queued for the campaign.", posts), "success")
    return redirect(url_for("campaigns.ask_page", ask_id=ask_id))


@bp.get("/campaigns/asks/<int:ask_id>/media/<int:media_id>")
@requires(Action.VIEW_CAMPAIGNS)
def ask_image(ask_id: int, media_id: int) -> Response:
    """A picture of the ask's message, for the composer's preview."""
    try:
        stored = asks.ask_image(db_session(), current_user, ask_id, media_id)
    except LookupError:
        abort(404)
    path = services().settings.instance_path / stored.path
    if not path.is_file():
        abort(404)
    return send_file(path, mimetype=stored.mime, max_age=3600, conditional=True)


class ReminderForm(SafeForm):
    reminder_hours = StringField(_l("Remind those who have not answered this many hours before "
                                    "the deadline"), validators=[Length(max=10)])


@bp.post("/campaigns/<int:campaign_id>/reminder")
@requires(Action.MANAGE_CAMPAIGNS)
def reminder(campaign_id: int) -> Response | Rendered:
    form = ReminderForm()
    return submit(form, lambda session: reminders.set_reminder_hours(
                      session, current_user, campaign_id, form.reminder_hours.data or ""),
                  lambda campaign: _done(_("Those who have not answered are reminded "
                                           "%(hours)s hours before the deadline.",
                                           hours=campaign.reminder_hours), campaign_id, "asks"),
                  lambda errors: _detail_page(campaign_id, errors, {"reminder": form}))


@bp.post("/campaigns/asks/<int:ask_id>/decline")
@requires(Action.COMPOSE)
def decline(ask_id: int) -> Response | Rendered:
    form = DeclineForm()

    def done(_ask: CampaignAsk) -> Response:
        flash(_("The campaign lead sees your answer."), "success")
        return redirect(url_for("campaigns.ask_page", ask_id=ask_id))

    return submit(form, lambda session: asks.decline(session, current_user, ask_id,
                                                     form.reason.data or ""),
                  done, lambda errors: _ask_page(ask_id, errors, refusal=form))

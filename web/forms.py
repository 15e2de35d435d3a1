"""WTForms forms: CSRF and field plumbing. The rules themselves live in the domain services.

`submit` is the one place a form's data goes to a domain service: the steps every view that
changes something shares (validate, call, commit or roll back, then redirect or show the
problems at their fields), so a view only reads its form, names the service and renders.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from flask import abort
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from core.entered_time import (
    AT,
    FIRST_YEAR,
    LAST_YEAR,
    SOON,
    SUMMER_TIME,
    WINTER_TIME,
    EnteredTime,
)
from core.i18n import N_, UserError, ValidationErrors
from core.text import CONTROL_MESSAGE, has_control_characters
from publisher.media import MAX_IMAGES
from publisher.posts import MAX_THREAD_PARTS
from web.context import db_session

T = TypeVar("T")
Rendered = tuple[str, int]  # a page and its status

# Control characters: core.text's one rule, refused at the field for every form.
# Dates typed in a form keep core.entered_time's range (FIRST_YEAR..LAST_YEAR).
DATE_MESSAGE = N_("Give a date between the years %(first)s and %(last)s.")


def _refuse(field: Any, message: object) -> None:
    field.errors = [*field.errors, message]


def _shared_rule_message(message: object) -> bool:
    return str(message) in (str(_l(CONTROL_MESSAGE)),
                            str(_l(DATE_MESSAGE, first=FIRST_YEAR, last=LAST_YEAR)))


class _SharedRules:
    """Rules every form keeps on top of its own validators: no control characters in any text,
    no date outside FIRST_YEAR..LAST_YEAR. (A FormField's inner form keeps them itself; a
    FieldList's plain entries are checked here.)"""

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)  # type: ignore[misc]
        for field in self:  # type: ignore[attr-defined]
            if isinstance(field, FormField):
                continue
            entries = field.entries if isinstance(field, FieldList) else [field]
            for entry in entries:
                if isinstance(entry, FormField | BooleanField):  # a tick is on or off
                    continue
                if has_control_characters(entry.data) or has_control_characters(
                        getattr(entry, "raw_data", None)):  # a number or a choice: as sent
                    _refuse(entry, _l(CONTROL_MESSAGE))
                    valid = False
                elif isinstance(entry.data, date) and \
                        not FIRST_YEAR <= entry.data.year <= LAST_YEAR:
                    _refuse(entry, _l(DATE_MESSAGE, first=FIRST_YEAR, last=LAST_YEAR))
                    valid = False
            if isinstance(field, FieldList):
                field.errors = [entry.errors for entry in field.entries]
        self._errors = None  # form.errors is computed again, with the refusals
        return valid


class SafeForm(_SharedRules, FlaskForm):
    """The base of every form that posts: CSRF, and the shared rules."""


class PlainForm(_SharedRules, Form):
    """The base of the forms without their own CSRF token (query strings, nested forms)."""


class LoginForm(SafeForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


class CheckboxListField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ImageForm(PlainForm):
    """One image slot of the compose form (a plain Form: the outer form carries the CSRF token).
    The file is checked by publisher.media, by its content."""

    file = FileField(_l("Image"))
    alt_text = TextAreaField(_l("Description for people who cannot see the image (alt text)"))


class KeptImageForm(PlainForm):
    """A picture a queued post already has, when the post is changed: its description, or out."""

    alt_text = TextAreaField(_l("Description for people who cannot see the image (alt text)"))
    remove = BooleanField(_l("Remove this picture"))


class HeldImageForm(KeptImageForm):
    """A picture chosen for this post before the form came back with a problem: kept on the
    server (publisher.media.holds), so it is not chosen again; described anew, or taken out."""

    media_id = HiddenField()
    file_name = HiddenField()


class WhenFields:
    """When a post goes out: as soon as possible, or a date and a 24-hour time typed the
    Swedish way, read by the domain (core.entered_time), whatever the browser's language.
    Mixed into every form that takes a post's time (the composer, approving, fixing)."""

    when = RadioField(_l("When"), choices=[(SOON, _l("As soon as possible")),
                                           (AT, _l("At this time (Swedish time):"))],
                      validate_choice=False)
    scheduled_date = StringField(_l("Date"))
    scheduled_time = StringField(_l("Time (24-hour clock)"))
    scheduled_reading = RadioField(
        _l("Which time?"), validate_choice=False,
        choices=[(SUMMER_TIME, _l("The first time (summer time, before the clocks go back)")),
                 (WINTER_TIME, _l("The second time (winter time, after the clocks go back)"))])


class ComposeForm(WhenFields, SafeForm):
    text = TextAreaField(_l("Text"))
    # Optional: other words for one network; empty means the text above goes there too.
    text_x = TextAreaField(_l("Text on X"))
    text_facebook = TextAreaField(_l("Text on Facebook"))
    link = StringField(_l("Link (optional)"), validators=[Length(max=2000)])
    accounts = CheckboxListField(_l("Publish to"), coerce=int, validate_choice=False)
    # One more than allowed, so that too many reach the domain's check instead of vanishing.
    images = FieldList(FormField(ImageForm), min_entries=MAX_IMAGES, max_entries=MAX_IMAGES + 1)
    thread = FieldList(TextAreaField(_l("Follow-up")), min_entries=1,
                       max_entries=MAX_THREAD_PARTS + 1)
    first_comment = TextAreaField(_l("First comment (Facebook)"))
    kept = FieldList(FormField(KeptImageForm), max_entries=MAX_IMAGES)  # changing a post
    held = FieldList(FormField(HeldImageForm), max_entries=MAX_IMAGES + 1)  # chosen before


class ConnectXForm(SafeForm):
    name = StringField(_l("Name in Megafon"), validators=[Length(max=200)])
    organisation_id = SelectField(_l("Owned by"), coerce=int)
    consumer_key = StringField(_l("API key"))
    consumer_secret = PasswordField(_l("API key secret"))
    access_token = StringField(_l("Access token"))
    access_token_secret = PasswordField(_l("Access token secret"))


class ConnectFacebookForm(SafeForm):
    name = StringField(_l("Name in Megafon"), validators=[Length(max=200)])
    organisation_id = SelectField(_l("Owned by"), coerce=int)
    page_id = StringField(_l("Page id"))
    page_access_token = PasswordField(_l("Page access token"))


class SandboxAccountForm(SafeForm):
    platform = SelectField(_l("Platform"), choices=[SelectChoice("x", "X"),
                                                    SelectChoice("facebook", "Facebook")])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    organisation_id = SelectField(_l("Owned by"), coerce=int)


class UserForm(SafeForm):
    """A new user: the view sets the choices and defaults to the least power (board, the
    district); an administrator needs `confirm_admin` ticked (core.auth.add_user)."""

    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    role = SelectField(_l("Role"))
    organisation_id = SelectField(_l("Organisation"), coerce=int)
    confirm_admin = BooleanField(_l("Yes, make this person an administrator: every right, in "
                                    "every organisation"))


class UserEditForm(SafeForm):
    """An administrator changes a user (core.auth.update_user)."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    role = SelectField(_l("Role"))
    organisation_id = SelectField(_l("Organisation"), coerce=int)
    active = BooleanField(_l("Active: may log in"))
    must_change_password = BooleanField(_l("Must choose a new password at the next login"))
    confirm_admin = BooleanField(_l("Yes, make this person an administrator: every right, in "
                                    "every organisation"))


class PasswordChangeForm(SafeForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = PasswordField(_l("New password"), validators=[DataRequired()])
    repeated = PasswordField(_l("New password again"), validators=[DataRequired()])


class PasswordForgotForm(SafeForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])


class PasswordResetForm(SafeForm):
    new_password = PasswordField(_l("New password"), validators=[DataRequired()])
    repeated = PasswordField(_l("New password again"), validators=[DataRequired()])


class ReportMailForm(SafeForm):
    """Who receives the monthly report by e-mail, and when (choices set by the view)."""

    recipients = CheckboxListField(_l("Receives the report"), coerce=int, validate_choice=False)
    day = SelectField(_l("Day of the month"))
    hour = SelectField(_l("Hour (Swedish time)"), coerce=int)


class EmptyForm(SafeForm):
    """Buttons that POST (cancel, disconnect, language): CSRF only."""


class PrivacyForm(SafeForm):
    """Whose data to export or erase; an erasure must be confirmed."""

    subject = StringField(_l("Handle or name"), validators=[DataRequired(), Length(max=200)])
    confirm = BooleanField(_l("Yes, erase their words and identity from these mentions"))


class TokenForm(SafeForm):
    """A new API token: what it is for, and whether it may change things."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    scope = SelectField(_l("Scope"), choices=[SelectChoice("read", _l("Read only")),
                                              SelectChoice("write", _l("Read and write"))],
                        default="read")


# --- The mention log --------------------------------------------------------------------------


class FilterForm(PlainForm):
    """The log's filters, read from the query string (a GET: nothing changes, no CSRF)."""

    watchlist = SelectField(_l("Issue"), coerce=str, validate_choice=False)
    party = SelectField(_l("Party"), validate_choice=False)
    person = SelectField(_l("Person"), validate_choice=False)
    outlet = SelectField(_l("Outlet"), validate_choice=False)
    kind = SelectField(_l("Source type"), validate_choice=False)
    triage = SelectField(_l("Triage"), validate_choice=False)
    assignee = SelectField(_l("Assigned to"), validate_choice=False)
    own = SelectField(_l("Our accounts' posts"), validate_choice=False)
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
    q = StringField(_l("Words"))
    order = SelectField(_l("Order"), validate_choice=False)


class AuditFilterForm(PlainForm):
    """The audit log's filters, from the query string (a GET: nothing changes, no CSRF)."""

    actor = SelectField(_l("Who"), validate_choice=False)
    action = SelectField(_l("Action"), validate_choice=False)
    object_type = SelectField(_l("Object"), validate_choice=False)
    organisation = SelectField(_l("Organisation"), validate_choice=False)
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])


class TriageForm(SafeForm):
    state = SelectField(_l("Triage"), validate_choice=False)
    assignee_id = SelectField(_l("Assigned to"), validate_choice=False)
    note = TextAreaField(_l("Note"))
    next = HiddenField()


class ReplyForm(SafeForm):
    """A reply in the mention's thread: the account it goes from, and its words."""

    account = RadioField(_l("Reply from"), validate_choice=False)
    text = TextAreaField(_l("Reply"))


# --- Setting up monitoring --------------------------------------------------------------------


class SourceForm(SafeForm):
    name = StringField(_l("Name"))
    kind = SelectField(_l("Kind"), validate_choice=False)
    outlet = StringField(_l("Outlet"))
    url = StringField(_l("Web address"))
    interval_minutes = IntegerField(_l("Check every (minutes)"), validators=[Optional()])
    query = StringField(_l("Search words on X"))
    account_id = SelectField(_l("Reads with the account"), validate_choice=False)


class ClippingForm(SafeForm):
    outlet = StringField(_l("Outlet"))
    published_date = StringField(_l("Published on"))
    published_time = StringField(_l("at (optional, 24-hour clock)"))
    title = StringField(_l("Headline"))
    text = TextAreaField(_l("Text"))
    link = StringField(_l("Link (optional)"))


class WatchlistForm(SafeForm):
    name = StringField(_l("Name"))
    query = TextAreaField(_l("Query"))
    priority = SelectField(_l("Priority"), validate_choice=False)
    active = BooleanField(_l("Active"), default=True)
    watchlist_id = HiddenField()


class PersonForm(SafeForm):
    name = StringField(_l("Name"))
    aliases = TextAreaField(_l("Also written as (one per line)"))
    party = SelectField(_l("Party"), validate_choice=False)
    title = StringField(_l("Title"))


def entered_time(form: ComposeForm) -> EnteredTime:
    """The composer's time fields as typed, for the domain to read."""
    return EnteredTime.chosen(form.when.data, form.scheduled_date.data, form.scheduled_time.data,
                              form.scheduled_reading.data)


def show_time(form: ComposeForm, entered: EnteredTime) -> None:
    """Fill the composer's time fields (a queued post's time, to change)."""
    form.when.data = SOON if entered.soon else AT
    form.scheduled_date.data, form.scheduled_time.data = entered.date, entered.time
    form.scheduled_reading.data = entered.reading or None


# --- Sending a form to the domain -------------------------------------------------------------


def form_errors(form: FlaskForm) -> ValidationErrors:
    """WTForms' own complaints (a number that is not a number) in the domain's shape. The
    shared rules' messages are at their fields already (field.errors): not said twice."""

    def own(messages: object) -> bool:
        if isinstance(messages, dict):
            return any(own(m) for m in messages.values())
        if isinstance(messages, list | tuple):
            return any(own(m) for m in messages)
        return not _shared_rule_message(messages)

    return ValidationErrors([UserError(N_("Check this field."), field=name)
                             for name, messages in form.errors.items()
                             if name != "csrf_token" and own(messages)])


def submit(form: FlaskForm, change: Callable[[Session], T], done: Callable[[T], Response],
           page: Callable[[ValidationErrors | None], Rendered] | None = None
           ) -> Response | Rendered:
    """Send a submitted form to one domain service and answer the way every such view does.

    A valid form: ``change`` does the work in the request's session; if it refuses
    (ValidationErrors) nothing is kept and ``page`` is shown with the problems at their
    fields, else the change is committed and ``done`` says so (flash) and redirects. A row
    that is not there (LookupError) is 404. Not submitted yet (GET), ``page`` is shown as it
    is; without a ``page`` (a button, not a form) a bad submission is 400.
    """
    session = db_session()
    errors = None
    if form.validate_on_submit():
        try:
            result = change(session)
        except LookupError:
            session.rollback()
            abort(404)
        except ValidationErrors as exc:
            session.rollback()
            errors = exc
        else:
            session.commit()
            return done(result)
    elif form.errors:
        errors = form_errors(form)
    if page is None:
        abort(400)
    return page(errors)

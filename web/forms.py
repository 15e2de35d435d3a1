"""WTForms forms: CSRF and field plumbing. The rules themselves live in the domain services."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    EmailField,
    FieldList,
    Form,
    FormField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields import DateTimeLocalField, SelectChoice
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from publisher.media import MAX_IMAGES
from publisher.posts import MAX_THREAD_PARTS


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


class CheckboxListField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ImageForm(Form):
    """One image slot of the compose form (a plain Form: the outer form carries the CSRF token).
    The file is checked by publisher.media, by its content."""

    file = FileField(_l("Image"))
    alt_text = TextAreaField(_l("Description for people who cannot see the image (alt text)"))


class KeptImageForm(Form):
    """A picture a queued post already has, when the post is changed: its description, or out."""

    alt_text = TextAreaField(_l("Description for people who cannot see the image (alt text)"))
    remove = BooleanField(_l("Remove this picture"))


class ComposeForm(FlaskForm):
    text = TextAreaField(_l("Text"))
    link = StringField(_l("Link (optional)"), validators=[Length(max=2000)])
    accounts = CheckboxListField(_l("Publish to"), coerce=int, validate_choice=False)
    scheduled_at = DateTimeLocalField(
        _l("Time (Swedish time)"), format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )
    # One more than allowed, so that too many reach the domain's check instead of vanishing.
    images = FieldList(FormField(ImageForm), min_entries=MAX_IMAGES, max_entries=MAX_IMAGES + 1)
    thread = FieldList(TextAreaField(_l("Follow-up")), min_entries=1,
                       max_entries=MAX_THREAD_PARTS + 1)
    first_comment = TextAreaField(_l("First comment (Facebook)"))
    kept = FieldList(FormField(KeptImageForm), max_entries=MAX_IMAGES)  # changing a post


class ConnectXForm(FlaskForm):
    name = StringField(_l("Name in Megafon"), validators=[Length(max=200)])
    organisation_id = SelectField(_l("Owned by"), coerce=int)
    consumer_key = StringField(_l("API key"))
    consumer_secret = PasswordField(_l("API key secret"))
    access_token = StringField(_l("Access token"))
    access_token_secret = PasswordField(_l("Access token secret"))


class ConnectFacebookForm(FlaskForm):
    name = StringField(_l("Name in Megafon"), validators=[Length(max=200)])
    organisation_id = SelectField(_l("Owned by"), coerce=int)
    page_id = StringField(_l("Page id"))
    page_access_token = PasswordField(_l("Page access token"))


class SandboxAccountForm(FlaskForm):
    platform = SelectField(_l("Platform"), choices=[SelectChoice("x", "X"),
                                                    SelectChoice("facebook", "Facebook")])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    organisation_id = SelectField(_l("Owned by"), coerce=int)


class UserForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    role = SelectField(_l("Role"))
    organisation_id = SelectField(_l("Organisation"), coerce=int)


class EmptyForm(FlaskForm):
    """Buttons that POST (cancel, disconnect, language): CSRF only."""

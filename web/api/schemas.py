"""The API's shapes (marshmallow): what goes in, what comes out, and the OpenAPI document's
components. Times go out as ISO 8601 in UTC; times come in as ISO 8601 with an offset."""

from __future__ import annotations

import re

import marshmallow as ma

# Text a database can store and a person can read: no NUL and no other control characters
# but tab and line breaks (PostgreSQL refuses NUL outright).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def readable(value: str) -> None:
    if _CONTROL.search(value):
        raise ma.ValidationError("Holds control characters that cannot be stored.")


def readable_text(*, max_length: int, **kwargs: object) -> ma.fields.String:
    """A string field of readable text up to `max_length` characters."""
    return ma.fields.String(validate=[ma.validate.Length(max=max_length), readable],
                            **kwargs)  # type: ignore[arg-type]


STATES = ["scheduled", "sending", "published", "retry_wait", "failed", "cancelled", "held",
          "uncertain"]


class OrganisationOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    kind = ma.fields.Function(lambda o: o.kind.value, required=True,
                              metadata={"enum": ["district", "association"]})


class AccountOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    platform = ma.fields.Function(lambda a: a.platform.value, required=True,
                                  metadata={"enum": ["x", "facebook"]})
    name = ma.fields.String(required=True)
    handle = ma.fields.String(required=True)
    active = ma.fields.Boolean(required=True)
    credentials_status = ma.fields.Function(lambda a: a.credentials_status.value, required=True)
    organisation = ma.fields.Nested(OrganisationOut, required=True)


class AccountList(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(AccountOut), required=True)


class EventOut(ma.Schema):
    at = ma.fields.AwareDateTime(required=True)
    from_state = ma.fields.String(allow_none=True)
    to_state = ma.fields.String(required=True)
    detail = ma.fields.String(allow_none=True)


class DeliveryOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    post_id = ma.fields.Integer(required=True)
    account_id = ma.fields.Integer(required=True)
    account_name = ma.fields.Function(lambda d: d.account.name, required=True)
    platform = ma.fields.Function(lambda d: d.account.platform.value, required=True)
    state = ma.fields.Function(lambda d: d.state.value, required=True,
                               metadata={"enum": STATES})
    due_at = ma.fields.AwareDateTime(required=True)
    published_at = ma.fields.AwareDateTime(allow_none=True)
    external_url = ma.fields.String(allow_none=True)
    attempts = ma.fields.Integer(required=True)
    error_message = ma.fields.String(allow_none=True)


class DeliveryDetail(DeliveryOut):
    events = ma.fields.List(ma.fields.Nested(EventOut), required=True)


class PostOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    text = ma.fields.String(required=True)
    text_x = ma.fields.String(allow_none=True, metadata={
        "description": "The words used on X instead of `text`, if any"})
    text_facebook = ma.fields.String(allow_none=True, metadata={
        "description": "The words used on Facebook instead of `text`, if any"})
    link = ma.fields.String(allow_none=True)
    first_comment = ma.fields.String(allow_none=True)
    thread = ma.fields.Function(lambda p: [part.text for part in p.parts], required=True,
                                metadata={"type": "array", "items": {"type": "string"}})
    scheduled_at = ma.fields.AwareDateTime(required=True)
    created_at = ma.fields.AwareDateTime(required=True)
    author = ma.fields.Function(lambda p: p.author.name, required=True)
    deliveries = ma.fields.List(ma.fields.Nested(DeliveryOut), required=True)


class PostPage(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(PostOut), required=True)
    next_cursor = ma.fields.String(allow_none=True, required=True)


class PostIn(ma.Schema):
    text = readable_text(max_length=10_000, required=True)
    text_x = readable_text(max_length=10_000, load_default=None, allow_none=True,
                           metadata={"description": "Other words for X (optional)"})
    text_facebook = readable_text(max_length=10_000, load_default=None, allow_none=True,
                                  metadata={"description": "Other words for Facebook (optional)"})
    account_ids = ma.fields.List(ma.fields.Integer(strict=True), required=True,
                                 validate=ma.validate.Length(min=1, max=100))
    link = readable_text(max_length=2000, load_default=None, allow_none=True)
    scheduled_at = ma.fields.AwareDateTime(
        load_default=None, allow_none=True,
        metadata={"description": "When to publish (ISO 8601 with offset); empty: at once"})
    thread = ma.fields.List(readable_text(max_length=2000),
                            load_default=list, validate=ma.validate.Length(max=25))
    first_comment = readable_text(max_length=8000, load_default=None, allow_none=True)


class PostChange(ma.Schema):
    """What to change in a queued post; what is left out stays as it is (its pictures too).
    `account_ids` is the whole new list: an account left out is taken off."""

    text = readable_text(max_length=10_000)
    text_x = readable_text(max_length=10_000, allow_none=True)
    text_facebook = readable_text(max_length=10_000, allow_none=True)
    account_ids = ma.fields.List(ma.fields.Integer(strict=True),
                                 validate=ma.validate.Length(min=1, max=100))
    link = readable_text(max_length=2000, allow_none=True)
    scheduled_at = ma.fields.AwareDateTime(allow_none=True, metadata={
        "description": "ISO 8601 with offset; null: as soon as possible"})
    thread = ma.fields.List(readable_text(max_length=2000), validate=ma.validate.Length(max=25))
    first_comment = readable_text(max_length=8000, allow_none=True)


class PostListArgs(ma.Schema):
    cursor = readable_text(max_length=200, load_default=None)
    limit = ma.fields.Integer(load_default=25, validate=ma.validate.Range(min=1, max=100))


class CancelOut(ma.Schema):
    cancelled = ma.fields.List(ma.fields.Integer(), required=True,
                               metadata={"description": "The deliveries cancelled"})
    post = ma.fields.Nested(PostOut, required=True)


class MentionOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True)
    url = ma.fields.String(allow_none=True)
    outlet = ma.fields.String(required=True)
    source_kind = ma.fields.Function(lambda m: m.source_kind.value, required=True)
    published_at = ma.fields.AwareDateTime(allow_none=True)
    first_seen_at = ma.fields.AwareDateTime(required=True)
    tone = ma.fields.String(allow_none=True)
    triage = ma.fields.Function(lambda m: m.triage.value, required=True,
                                metadata={"enum": ["new", "relevant", "not_relevant"]})
    note = ma.fields.String(allow_none=True)
    assigned_to_id = ma.fields.Integer(allow_none=True)
    own_account_id = ma.fields.Integer(allow_none=True)
    issues = ma.fields.Function(lambda m: sorted(w.watchlist_id for w in m.watchlists),
                                required=True,
                                metadata={"type": "array", "items": {"type": "integer"}})
    parties = ma.fields.Function(lambda m: sorted(p.party for p in m.party_rows), required=True,
                                 metadata={"type": "array", "items": {"type": "string"}})


class MentionPage(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(MentionOut), required=True)
    next_cursor = ma.fields.String(allow_none=True, required=True)
    total = ma.fields.Integer(required=True)
    total_exact = ma.fields.Boolean(required=True)


class MentionArgs(ma.Schema):
    q = readable_text(max_length=500, load_default=None,
                      metadata={"description": "A search in the watchlists' syntax"})
    watchlist = ma.fields.Integer(load_default=None, validate=ma.validate.Range(min=1))
    party = readable_text(max_length=8, load_default=None)
    triage = ma.fields.String(load_default=None,
                              validate=ma.validate.OneOf(["new", "relevant", "not_relevant"]))
    cursor = readable_text(max_length=200, load_default=None)
    limit = ma.fields.Integer(load_default=25, validate=ma.validate.Range(min=1, max=100))


class TriageIn(ma.Schema):
    triage = ma.fields.String(load_default=None, allow_none=True,
                              validate=ma.validate.OneOf(["new", "relevant", "not_relevant"]))
    note = readable_text(max_length=4000, load_default=None, allow_none=True)


class WatchlistOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    query = ma.fields.String(required=True)
    priority = ma.fields.Function(lambda w: w.priority.value, required=True)
    active = ma.fields.Boolean(required=True)


class WatchlistList(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(WatchlistOut), required=True)


class ReportArgs(ma.Schema):
    period = readable_text(
        max_length=40, load_default=None,
        metadata={"description": "last-month (default), this-week, 2014-08, 2014-Q3, "
                                 "2014-08-01..2014-08-15"})


class ReportOut(ma.Schema):
    computed_at = ma.fields.String(required=True)
    report = ma.fields.Dict(required=True, metadata={
        "description": "Every figure of the board's report (the same as the JSON export)"})


class CampaignOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    slug = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    starts_on = ma.fields.Date(required=True)
    ends_on = ma.fields.Date(required=True)
    deadline = ma.fields.AwareDateTime(required=True)
    target_kind = ma.fields.Function(lambda c: c.target_kind.value, required=True)
    reminder_hours = ma.fields.Integer(required=True, metadata={
        "description": "Asks not yet answered are reminded this many hours before the "
                       "deadline"})


class CampaignList(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(CampaignOut), required=True)


class CoverageRowOut(ma.Schema):
    account_id = ma.fields.Integer(required=True)
    account_name = ma.fields.String(required=True)
    platform = ma.fields.Function(lambda r: r.platform.value, required=True)
    organisation_id = ma.fields.Integer(required=True)
    organisation_name = ma.fields.String(required=True)
    cell = ma.fields.Function(lambda r: r.cell.value, required=True, metadata={
        "description": "not_asked, asked, declined, planned, sending, published, failed, "
                       "held, uncertain or cancelled"})
    post_id = ma.fields.Integer(allow_none=True)
    delivery_id = ma.fields.Integer(allow_none=True)
    when = ma.fields.AwareDateTime(allow_none=True)
    url = ma.fields.String(allow_none=True)
    problem = ma.fields.String(allow_none=True)
    reach = ma.fields.Integer(allow_none=True)
    engagement = ma.fields.Integer(allow_none=True)
    overdue = ma.fields.Boolean(required=True)


class AskOut(ma.Schema):
    id = ma.fields.Function(lambda s: s.ask.id, required=True)
    organisation_id = ma.fields.Function(lambda s: s.ask.organisation_id, required=True)
    organisation_name = ma.fields.Function(lambda s: s.ask.organisation.name, required=True)
    message_id = ma.fields.Function(lambda s: s.ask.message_id, allow_none=True)
    asked_at = ma.fields.Function(lambda s: s.ask.asked_at.isoformat(), required=True)
    asked_by = ma.fields.String(allow_none=True)
    reminded_at = ma.fields.Function(
        lambda s: s.ask.reminded_at.isoformat() if s.ask.reminded_at else None, allow_none=True)
    answer = ma.fields.Function(lambda s: s.answer.value, required=True, metadata={
        "description": "waiting, declined, planned or published"})
    declined_at = ma.fields.Function(
        lambda s: s.ask.declined_at.isoformat() if s.ask.declined_at else None, allow_none=True)
    decline_reason = ma.fields.Function(lambda s: s.ask.decline_reason, allow_none=True)


class CampaignAsks(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(AskOut), required=True)


class CampaignCoverage(ma.Schema):
    campaign = ma.fields.Nested(CampaignOut, required=True)
    rows = ma.fields.List(ma.fields.Nested(CoverageRowOut), required=True)
    overdue = ma.fields.Integer(required=True)

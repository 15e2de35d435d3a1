"""The API's shapes (marshmallow): what goes in, what comes out, and the OpenAPI document's
components. Times go out as ISO 8601 in UTC; times come in as ISO 8601 with an offset."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import marshmallow as ma

from core.entered_time import FIRST_YEAR, LAST_YEAR, EnteredTime

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
          "uncertain", "awaiting_approval", "returned"]


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


# -- events (campaigns.events) ------------------------------------------------------------------

EVENT_KINDS = ["meeting", "lecture", "course", "election_conference", "campaign", "other"]
ANNOUNCEMENTS = ["week", "day", "morning"]


class WallClock(ma.fields.DateTime):
    """A moment as the domain's EnteredTime (Stockholm wall-clock time, to the minute): with an
    offset the instant, shown as the Stockholm clock shows it (which of a doubled hour kept);
    without one, Stockholm wall-clock time as typed, checked by the domain (a time the clocks
    skip is refused, one they show twice is the first)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any
                     ) -> EnteredTime:
        moment: datetime = super()._deserialize(value, attr, data, **kwargs)
        if not FIRST_YEAR <= moment.year <= LAST_YEAR:
            raise ma.ValidationError(f"Give a date between the years {FIRST_YEAR} and "
                                     f"{LAST_YEAR}.")
        if moment.second or moment.microsecond:
            raise ma.ValidationError("Give the time to the minute (seconds 00).")
        if moment.tzinfo is None:
            return EnteredTime(f"{moment:%Y-%m-%d}", f"{moment:%H:%M}")
        return EnteredTime.showing(moment)


def wall_clock(**kwargs: Any) -> WallClock:
    return WallClock(metadata={"description": "ISO 8601; with an offset an instant, without one "
                                              "Stockholm wall-clock time; to the minute"},
                     **kwargs)


class MunicipalityOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    code = ma.fields.String(required=True, metadata={"description": "SCB's kommunkod"})
    name = ma.fields.String(required=True)


class AnnouncementOut(ma.Schema):
    which = ma.fields.String(required=True,
                             metadata={"enum": ANNOUNCEMENTS + ["cancellation"]})
    post = ma.fields.Nested(PostOut, required=True)


class CalendarEventOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True)
    kind = ma.fields.Function(lambda e: e.kind.value, required=True,
                              metadata={"enum": EVENT_KINDS})
    description = ma.fields.String(required=True)
    place = ma.fields.String(required=True)
    municipality = ma.fields.Nested(MunicipalityOut, allow_none=True, required=True)
    starts_at = ma.fields.AwareDateTime(required=True)
    ends_at = ma.fields.AwareDateTime(required=True)
    organiser = ma.fields.Nested(OrganisationOut, required=True)
    partners = ma.fields.String(required=True)
    public = ma.fields.Boolean(required=True, metadata={
        "description": "In the public calendar; false: members only"})
    link = ma.fields.String(allow_none=True, required=True)
    campaign_id = ma.fields.Integer(allow_none=True, required=True)
    cancelled_at = ma.fields.AwareDateTime(allow_none=True, required=True)


class CalendarEventDetail(CalendarEventOut):
    announcements = ma.fields.List(ma.fields.Nested(AnnouncementOut), required=True)


class CalendarEventList(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(CalendarEventOut), required=True, metadata={
        "description": "Soonest first (past: latest first), at most 500"})


class EventListArgs(ma.Schema):
    past = ma.fields.Boolean(load_default=False, metadata={
        "description": "Events that are over, latest first (default: those not yet over)"})
    municipality = ma.fields.Integer(load_default=None,
                                     validate=ma.validate.Range(min=1, max=2**31))


class EventIn(ma.Schema):
    title = readable_text(max_length=200, required=True)
    kind = ma.fields.String(load_default="meeting", validate=ma.validate.OneOf(EVENT_KINDS))
    organiser_id = ma.fields.Integer(strict=True, load_default=None, validate=ma.validate.Range(
        min=1, max=2**31), metadata={"description": "Default: the caller's organisation"})
    starts_at = wall_clock(required=True)
    ends_at = wall_clock(required=True)
    description = readable_text(max_length=10_000, load_default="")
    place = readable_text(max_length=300, load_default="")
    municipality_id = ma.fields.Integer(strict=True, load_default=None, allow_none=True,
                                        validate=ma.validate.Range(min=1, max=2**31))
    partners = readable_text(max_length=2000, load_default="")
    public = ma.fields.Boolean(load_default=True)
    link = readable_text(max_length=2000, load_default="", allow_none=True)
    campaign_id = ma.fields.Integer(strict=True, load_default=None, allow_none=True,
                                    validate=ma.validate.Range(min=1, max=2**31))


class EventChange(ma.Schema):
    """What to change; what is left out stays as it is. Waiting announcements follow a move."""

    title = readable_text(max_length=200)
    kind = ma.fields.String(validate=ma.validate.OneOf(EVENT_KINDS))
    organiser_id = ma.fields.Integer(strict=True, validate=ma.validate.Range(min=1, max=2**31))
    starts_at = wall_clock()
    ends_at = wall_clock()
    description = readable_text(max_length=10_000)
    place = readable_text(max_length=300)
    municipality_id = ma.fields.Integer(strict=True, allow_none=True,
                                        validate=ma.validate.Range(min=1, max=2**31))
    partners = readable_text(max_length=2000)
    public = ma.fields.Boolean()
    link = readable_text(max_length=2000, allow_none=True)
    campaign_id = ma.fields.Integer(strict=True, allow_none=True,
                                    validate=ma.validate.Range(min=1, max=2**31))


class AnnounceIn(ma.Schema):
    account_ids = ma.fields.List(ma.fields.Integer(strict=True), required=True,
                                 validate=ma.validate.Length(min=1, max=100))
    which = ma.fields.List(ma.fields.String(validate=ma.validate.OneOf(ANNOUNCEMENTS)),
                           load_default=lambda: list(ANNOUNCEMENTS),
                           validate=ma.validate.Length(min=1, max=3), metadata={
                               "description": "The week before, the day before, the same "
                                              "morning (default: all three)"})
    hour = readable_text(max_length=5, load_default="08:00", metadata={
        "description": "HH:MM, Stockholm time, 05:00-23:00, for every announcement"})
    language = ma.fields.String(load_default="sv", validate=ma.validate.OneOf(["sv", "en"]))


class AnnouncedOut(ma.Schema):
    posts = ma.fields.List(ma.fields.Nested(PostOut), required=True)
    skipped = ma.fields.Function(lambda a: [w.value for w in a.skipped], required=True,
                                 metadata={"type": "array", "items": {"type": "string"},
                                           "description": "Announcements whose time has "
                                                          "passed"})


class EventCancelOut(ma.Schema):
    cancelled = ma.fields.List(ma.fields.Integer(), required=True, metadata={
        "description": "The announcements' deliveries cancelled"})
    event = ma.fields.Nested(CalendarEventOut, required=True)


# -- the county and the election plan (campaigns.county, campaigns.election) --------------------

class CountyArgs(ma.Schema):
    first = readable_text(max_length=20, load_default="", data_key="from", metadata={
        "description": "YYYY-MM-DD, Stockholm day (default: 30 days ago)"})
    last = readable_text(max_length=20, load_default="", data_key="until", metadata={
        "description": "YYYY-MM-DD, included (default: 60 days ahead)"})


class EventLineOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True)
    kind = ma.fields.Function(lambda e: e.kind.value, required=True,
                              metadata={"enum": EVENT_KINDS})
    starts_at = ma.fields.AwareDateTime(required=True)
    place = ma.fields.String(required=True)
    municipality_id = ma.fields.Integer(allow_none=True, required=True)


class ReachOut(ma.Schema):
    campaign_id = ma.fields.Integer(required=True)
    campaign_name = ma.fields.String(required=True)
    published = ma.fields.Integer(required=True)
    planned = ma.fields.Integer(required=True)


class PlaceOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    organisation_id = ma.fields.Integer(allow_none=True, required=True)
    organisation_name = ma.fields.String(allow_none=True, required=True)
    uncovered = ma.fields.Boolean(required=True, metadata={
        "description": "No local association: a place for a central visit"})
    events = ma.fields.List(ma.fields.Nested(EventLineOut), required=True)
    reach = ma.fields.List(ma.fields.Nested(ReachOut), required=True)
    published = ma.fields.Integer(required=True)
    planned = ma.fields.Integer(required=True)


class CountyOut(ma.Schema):
    first = ma.fields.Function(lambda c: c.span.first.isoformat(), data_key="from",
                               required=True, metadata={"type": "string", "format": "date"})
    last = ma.fields.Function(lambda c: c.span.last.isoformat(), data_key="until",
                              required=True, metadata={"type": "string", "format": "date"})
    municipalities = ma.fields.List(ma.fields.Nested(PlaceOut), attribute="places",
                                    required=True)


class AccountWeekOut(ma.Schema):
    account_id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    platform = ma.fields.Function(lambda a: a.platform.value, required=True,
                                  metadata={"enum": ["x", "facebook"]})
    organisation_name = ma.fields.String(required=True)
    published = ma.fields.Integer(required=True)
    planned = ma.fields.Integer(required=True)


class CampaignRef(ma.Schema):
    id = ma.fields.Function(lambda c: c[0], required=True, metadata={"type": "integer"})
    name = ma.fields.Function(lambda c: c[1], required=True, metadata={"type": "string"})


class WeekOut(ma.Schema):
    year = ma.fields.Integer(required=True, metadata={"description": "ISO year"})
    number = ma.fields.Integer(required=True, metadata={"description": "ISO week"})
    first = ma.fields.Date(required=True, metadata={"description": "Its Monday"})
    last = ma.fields.Date(required=True, metadata={"description": "Its Sunday"})
    election = ma.fields.Boolean(required=True, metadata={
        "description": "Election day falls in this week"})
    published = ma.fields.Integer(required=True)
    planned = ma.fields.Integer(required=True)
    campaigns = ma.fields.List(ma.fields.Nested(CampaignRef), required=True)
    events = ma.fields.List(ma.fields.Nested(EventLineOut), required=True)
    accounts = ma.fields.List(ma.fields.Nested(AccountWeekOut), required=True)


class ElectionOut(ma.Schema):
    election_day = ma.fields.Function(lambda p: p.election.day.isoformat(), required=True,
                                      metadata={"type": "string", "format": "date"})
    chosen = ma.fields.Function(lambda p: p.election.chosen, required=True, metadata={
        "type": "boolean", "description": "Chosen by a person (else the general election's "
                                          "rule)"})
    today = ma.fields.Function(lambda p: p.election.today.isoformat(), required=True,
                               metadata={"type": "string", "format": "date"})
    days_left = ma.fields.Function(lambda p: p.election.days_left, required=True,
                                   metadata={"type": "integer"})
    weeks = ma.fields.List(ma.fields.Nested(WeekOut), required=True)


# -- reviews (publisher.approval) -----------------------------------------------------------------

class ReviewList(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(PostOut), required=True, metadata={
        "description": "Posts waiting for the caller's approval, soonest due first"})


class ApproveIn(ma.Schema):
    comment = readable_text(max_length=4000, load_default=None, allow_none=True)
    scheduled_at = WallClock(allow_none=True, metadata={
        "description": "A new time (ISO 8601 with offset; without one Stockholm wall-clock "
                       "time), needed when the post's own has passed; null: as soon as "
                       "possible; left out: its own time"})


class SendBackIn(ma.Schema):
    comment = readable_text(max_length=4000, required=True, metadata={
        "description": "What should change (required)"})

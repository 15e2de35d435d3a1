"""Länet: Värmland's municipalities, the association working in each, and what reached them.

The district plan sends central visits to the municipalities without a local association, so
the county page shows every municipality with its association (or none, marked), the events
held there and the campaign posts that reached it over a period: the posts published or
planned on the accounts of the association covering the municipality, per campaign, counted
in one SQL query from the posts' own deliveries (campaign_posts joined to deliveries), so the
page cannot disagree with the queue.

Everyone may look (Action.VIEW_CAMPAIGNS; an association's users see the counts of their own
accounts only); campaign leads and administrators of the district choose which association
covers which municipality (Action.MANAGE_CAMPAIGNS in the district's scope).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from campaigns.models import Campaign, CampaignPost, Event, EventKind, Municipality
from core.auth import Action, can, district, require, scope_condition
from core.clock import local_to_utc, to_local, utcnow
from core.entered_time import parse_date
from core.i18n import N_, UserError, ValidationErrors
from core.users import Organisation, OrganisationKind, User
from publisher.deliveries import OPEN
from publisher.models import Account, Delivery, DeliveryState

DAYS_BACK = 30  # the default period: from a month ago ...
DAYS_AHEAD = 60  # ... to two months ahead
LONGEST_DAYS = 732  # two years

DATE_SHAPE = N_("Write the date as YYYY-MM-DD, e.g. 2026-05-04.")
ENDS_BEFORE = N_("The period ends before it begins.")
TOO_LONG = N_("Choose a period of at most two years.")
NO_SUCH_MUNICIPALITY = N_("Choose a municipality from the list.")
NO_SUCH_ASSOCIATION = N_("Choose an association from the list, or none.")


_SWEDISH_ORDER = str.maketrans({"å": "{", "ä": "|", "ö": "}"})  # å, ä, ö after z


def swedish(name: str) -> str:
    """A sort key in the Swedish alphabet's order, the same on both databases."""
    return name.lower().translate(_SWEDISH_ORDER)


def midnight(day: date) -> datetime:
    """The UTC instant a Stockholm calendar day begins (midnight always exists there)."""
    return local_to_utc(datetime.combine(day, time()))


@dataclass(frozen=True)
class Span:
    """Whole Stockholm days from `first` to `last`, both included."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        return midnight(self.first)

    @property
    def end(self) -> datetime:
        return midnight(self.last + timedelta(days=1))


def today(now: datetime | None = None) -> date:
    return to_local(now or utcnow()).date()


def default_span(day: date) -> Span:
    return Span(day - timedelta(days=DAYS_BACK), day + timedelta(days=DAYS_AHEAD))


def read_span(first: str, last: str, day: date) -> Span:
    """The period typed as two days (ÅÅÅÅ-MM-DD); with one left empty, the default's length
    from or to the other, with both, the default. Refused with every problem at its field
    ("first", "last")."""
    default = default_span(day)
    errors: list[UserError] = []
    days: list[date | None] = []
    for text, name in ((first, "first"), (last, "last")):
        found = parse_date(text) if text.strip() else None
        if text.strip() and found is None:
            errors.append(UserError(DATE_SHAPE, field=name))
        days.append(found)
    length = default.last - default.first
    if days[0] is None and days[1] is None:
        days = [default.first, default.last]
    elif days[1] is None and not errors:
        days[1] = days[0] + length  # type: ignore[operator]
    elif days[0] is None and not errors:
        days[0] = days[1] - length
    if not errors:
        assert days[0] is not None and days[1] is not None
        if days[1] < days[0]:
            errors.append(UserError(ENDS_BEFORE, field="last"))
        elif (days[1] - days[0]).days + 1 > LONGEST_DAYS:
            errors.append(UserError(TOO_LONG, field="last"))
    if errors:
        raise ValidationErrors(errors)
    return Span(days[0], days[1])  # type: ignore[arg-type]


@dataclass(frozen=True)
class EventLine:
    id: int
    title: str
    kind: EventKind
    starts_at: datetime
    place: str
    municipality_id: int | None
    municipality_name: str | None


@dataclass(frozen=True)
class Reach:
    """A campaign's posts on the covering association's accounts within the period."""

    campaign_id: int
    campaign_name: str
    published: int
    planned: int


@dataclass
class Place:
    id: int
    code: str
    name: str
    organisation_id: int | None
    organisation_name: str | None
    events: list[EventLine] = field(default_factory=list)
    reach: list[Reach] = field(default_factory=list)

    @property
    def uncovered(self) -> bool:
        """No local association: the district plan's place for a central visit."""
        return self.organisation_id is None

    @property
    def published(self) -> int:
        return sum(r.published for r in self.reach)

    @property
    def planned(self) -> int:
        return sum(r.planned for r in self.reach)


@dataclass
class County:
    span: Span
    places: list[Place]

    @property
    def uncovered(self) -> list[Place]:
        return [p for p in self.places if p.uncovered]


def counted_deliveries(start: datetime, end: datetime) -> tuple[object, object]:
    """The SQL conditions of a delivery counted as published (it went out within [start, end))
    and as planned (not finished, due within it); failed and cancelled ones count as neither."""
    published = and_(Delivery.state == DeliveryState.PUBLISHED, Delivery.published_at >= start,
                     Delivery.published_at < end)
    planned = and_(Delivery.state.in_(sorted(OPEN)), Delivery.due_at >= start,
                   Delivery.due_at < end)
    return published, planned


def events_between(session: Session, start: datetime, end: datetime) -> list[EventLine]:
    """The events starting within [start, end), cancelled ones left out, in time order."""
    rows = session.execute(
        select(Event.id, Event.title, Event.kind, Event.starts_at, Event.place,
               Event.municipality_id, Municipality.name)
        .outerjoin(Municipality, Municipality.id == Event.municipality_id)
        .where(Event.starts_at >= start, Event.starts_at < end, Event.cancelled_at.is_(None))
        .order_by(Event.starts_at, Event.id))
    return [EventLine(*row) for row in rows]


def county(session: Session, user: User, span: Span) -> County:
    """Every municipality, its association, its events and the campaigns' reach there."""
    require(user, Action.VIEW_CAMPAIGNS)
    places = [Place(m.id, m.code, m.name, m.organisation_id, name) for m, name in session.execute(
        select(Municipality, Organisation.name)
        .outerjoin(Organisation, Organisation.id == Municipality.organisation_id))]
    places.sort(key=lambda p: swedish(p.name))
    by_id = {p.id: p for p in places}
    for event in events_between(session, span.start, span.end):
        if event.municipality_id in by_id:
            by_id[event.municipality_id].events.append(event)
    published, planned = counted_deliveries(span.start, span.end)
    reach = session.execute(
        select(Municipality.id, Campaign.id, Campaign.name,
               func.sum(case((published, 1), else_=0)), func.sum(case((planned, 1), else_=0)))
        .join(Account, Account.organisation_id == Municipality.organisation_id)
        .join(Delivery, Delivery.account_id == Account.id)
        .join(CampaignPost, CampaignPost.post_id == Delivery.post_id)
        .join(Campaign, Campaign.id == CampaignPost.campaign_id)
        .where(or_(published, planned), scope_condition(user, Account.organisation_id))
        .group_by(Municipality.id, Campaign.id, Campaign.name)
        .order_by(Campaign.name, Campaign.id))
    for municipality_id, campaign_id, name, out, waiting in reach:
        by_id[municipality_id].reach.append(Reach(campaign_id, name, int(out), int(waiting)))
    return County(span, places)


def municipalities(session: Session) -> list[Municipality]:
    return sorted(session.scalars(select(Municipality)), key=lambda m: swedish(m.name))


def associations(session: Session) -> list[Organisation]:
    return sorted(session.scalars(select(Organisation).where(
        Organisation.kind == OrganisationKind.ASSOCIATION)), key=lambda o: swedish(o.name))


def may_change(user: User) -> bool:
    """Whether the user may choose the municipalities' associations and election day: the
    district's campaign leads and administrators (what the pages offer; the services check)."""
    return can(user, Action.MANAGE_CAMPAIGNS) and \
        user.organisation.kind is OrganisationKind.DISTRICT


def _id(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdigit() and len(text) < 10 else None


def set_coverage(session: Session, user: User, municipality_id: str, organisation_id: str
                 ) -> Municipality:
    """Say which association covers a municipality (an empty choice: none). Only the
    district's campaign leads and administrators; the ids as the form sent them."""
    require(user, Action.MANAGE_CAMPAIGNS, district(session).id)
    errors: list[UserError] = []
    found = session.get(Municipality, _id(municipality_id) or 0)
    if found is None:
        errors.append(UserError(NO_SUCH_MUNICIPALITY, field="municipality_id"))
    organisation = None
    if organisation_id.strip():
        organisation = session.get(Organisation, _id(organisation_id) or 0)
        if organisation is None or organisation.kind is not OrganisationKind.ASSOCIATION:
            errors.append(UserError(NO_SUCH_ASSOCIATION, field="organisation_id"))
    if errors:
        raise ValidationErrors(errors)
    assert found is not None
    found.organisation_id = organisation.id if organisation else None
    session.flush()
    return found


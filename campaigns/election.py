"""Valplan: the weeks from now to election day, what is planned in each, and the empty ones.

Election day is the one a campaign lead or administrator chose (`election_day`), or else the
next Swedish general election by the rule: the second Sunday of September every fourth year
from 2014 (2014, 2018, 2022, 2026, 2030 …), counted from the Stockholm calendar day, so on the
day after an election the plan counts to the next one. A chosen day that has passed gives way
to the rule.

The plan runs week by week (ISO weeks, Monday to Sunday in Stockholm) from this week to the
election's: the campaigns running, the events, and the posts published or planned per account,
counted in one SQL aggregate (each delivery's moment bucketed by one CASE over the weeks' UTC
edges, computed in Python: the same SQL on both databases, a 23- or 25-hour day counted right).
A week with no post and no event is empty: the plan highlights it.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import case, delete, func, or_, select
from sqlalchemy.orm import Session

from campaigns.campaigns import campaigns_for
from campaigns.county import EventLine, counted_deliveries, events_between, midnight, today
from campaigns.models import ElectionDay
from core.auth import Action, district, require, scope_condition
from core.clock import utcnow
from core.entered_time import parse_date
from core.i18n import N_, UserError, ValidationErrors
from core.users import Organisation, User
from publisher.models import Account, Delivery, DeliveryState, Platform

FIRST_ELECTION = 2014
ELECTION_EVERY = 4  # years
LONGEST_YEARS = 6  # a chosen day further ahead is surely a typing mistake

DATE_SHAPE = N_("Write the date as YYYY-MM-DD, e.g. 2026-05-04.")
IN_THE_PAST = N_("Election day cannot be in the past.")
TOO_FAR = N_("Choose an election day within six years from today.")


def second_sunday_of_september(year: int) -> date:
    first = date(year, 9, 1)
    return first + timedelta(days=(6 - first.weekday()) % 7 + 7)


def default_election_day(day: date) -> date:
    """The next Swedish general election on or after `day` (a Stockholm calendar day)."""
    year = max(day.year, FIRST_ELECTION)
    year += (FIRST_ELECTION - year) % ELECTION_EVERY
    election = second_sunday_of_september(year)
    if election < day:
        election = second_sunday_of_september(year + ELECTION_EVERY)
    return election


@dataclass(frozen=True)
class Election:
    day: date
    chosen: bool  # set by a person, not the rule
    today: date

    @property
    def days_left(self) -> int:
        return (self.day - self.today).days


def election(session: Session, now: datetime | None = None) -> Election:
    """The day the plan counts down to: the chosen one unless it has passed, else the rule's."""
    day = today(now)
    chosen = session.get(ElectionDay, 1)
    if chosen is not None and chosen.day >= day:
        return Election(chosen.day, True, day)
    return Election(default_election_day(day), False, day)


def set_election_day(session: Session, user: User, text: str, now: datetime | None = None
                     ) -> Election:
    """Choose election day (ÅÅÅÅ-MM-DD), or with nothing typed go back to the rule. Only the
    district's campaign leads and administrators."""
    require(user, Action.MANAGE_CAMPAIGNS, district(session).id)
    now = now or utcnow()
    if not text.strip():
        session.execute(delete(ElectionDay))
        return election(session, now)
    day = parse_date(text)
    if day is None:
        raise ValidationErrors([UserError(DATE_SHAPE, field="day")])
    if day < today(now):
        raise ValidationErrors([UserError(IN_THE_PAST, field="day")])
    if day > today(now) + timedelta(days=LONGEST_YEARS * 366):
        raise ValidationErrors([UserError(TOO_FAR, field="day")])
    row = session.get(ElectionDay, 1) or ElectionDay(id=1)
    row.day, row.set_by_id, row.set_at = day, user.id, now
    session.add(row)
    session.flush()
    return election(session, now)


@dataclass(frozen=True)
class AccountWeek:
    account_id: int
    name: str
    platform: Platform
    organisation_name: str
    published: int
    planned: int


@dataclass
class Week:
    year: int  # ISO year and week
    number: int
    first: date  # Monday
    start: datetime  # UTC bounds [start, end)
    end: datetime
    campaigns: list[tuple[int, str]] = field(default_factory=list)
    events: list[EventLine] = field(default_factory=list)
    accounts: list[AccountWeek] = field(default_factory=list)
    election: bool = False  # election day falls in it

    @property
    def last(self) -> date:
        return self.first + timedelta(days=6)

    @property
    def published(self) -> int:
        return sum(a.published for a in self.accounts)

    @property
    def planned(self) -> int:
        return sum(a.planned for a in self.accounts)

    @property
    def empty(self) -> bool:
        """Nothing planned: no post (published or to come) and no event."""
        return not self.accounts and not self.events


@dataclass(frozen=True)
class Stretch:
    """A row of the plan: one week with something in it, or consecutive empty weeks."""

    weeks: tuple[Week, ...]

    @property
    def empty(self) -> bool:
        return self.weeks[0].empty

    @property
    def first(self) -> Week:
        return self.weeks[0]

    @property
    def last(self) -> Week:
        return self.weeks[-1]


@dataclass
class Plan:
    election: Election
    weeks: list[Week]

    @property
    def empty_weeks(self) -> int:
        return sum(w.empty for w in self.weeks)

    @property
    def stretches(self) -> list[Stretch]:
        """The weeks as the page lists them: a run of empty weeks with the same campaigns on
        one row (election week always on its own), so two hundred weeks read at a glance."""
        rows: list[list[Week]] = []
        for week in self.weeks:
            before = rows[-1][-1] if rows else None
            joins = before is not None and week.empty and before.empty \
                and not week.election and not before.election \
                and week.campaigns == before.campaigns
            if joins:
                rows[-1].append(week)
            else:
                rows.append([week])
        return [Stretch(tuple(row)) for row in rows]


def weeks_until(first_day: date, last_day: date) -> list[Week]:
    """The ISO weeks from the one holding `first_day` to the one holding `last_day`."""
    monday = first_day - timedelta(days=first_day.weekday())
    weeks = []
    while monday <= last_day:
        iso = monday.isocalendar()
        weeks.append(Week(iso.year, iso.week, monday, midnight(monday),
                          midnight(monday + timedelta(days=7))))
        monday += timedelta(days=7)
    return weeks


def _bucket(moment: object, edges: list[datetime]) -> object:
    """The index of the week a moment falls in: one CASE over the weeks' UTC edges."""
    return case(*((moment < edge, index) for index, edge in enumerate(edges)),
                else_=len(edges))


def plan(session: Session, user: User, now: datetime | None = None) -> Plan:
    """The election plan as the user may see it (an association's users: its own accounts)."""
    require(user, Action.VIEW_CAMPAIGNS)
    vote = election(session, now)
    weeks = weeks_until(vote.today, vote.day)
    start, end = weeks[0].start, weeks[-1].end
    edges = [w.end for w in weeks[:-1]]
    for week in weeks:
        week.election = week.first <= vote.day <= week.last
    published, planned = counted_deliveries(start, end)
    moment = case((Delivery.state == DeliveryState.PUBLISHED, Delivery.published_at),
                  else_=Delivery.due_at)
    counted = (select(_bucket(moment, edges).label("week"), Delivery.account_id,
                      case((Delivery.state == DeliveryState.PUBLISHED, 1),
                           else_=0).label("out"))
               .join(Account, Account.id == Delivery.account_id)
               .where(or_(published, planned), scope_condition(user, Account.organisation_id))
               .subquery("counted"))
    rows = session.execute(
        select(counted.c.week, Account.id, Account.name, Account.platform, Organisation.name,
               func.sum(counted.c.out), func.count())
        .select_from(counted)
        .join(Account, Account.id == counted.c.account_id)
        .join(Organisation, Organisation.id == Account.organisation_id)
        .group_by(counted.c.week, Account.id, Account.name, Account.platform,
                  Organisation.name, Organisation.kind)
        .order_by(counted.c.week, Organisation.kind.desc(), Organisation.name, Account.name,
                  Account.id))
    for index, account_id, name, platform, organisation, out, total in rows:
        weeks[index].accounts.append(AccountWeek(account_id, name, platform, organisation,
                                                 int(out), int(total) - int(out)))
    starts = [w.start for w in weeks]
    for event in events_between(session, start, end):
        weeks[bisect_right(starts, event.starts_at) - 1].events.append(event)
    for campaign in campaigns_for(session, user):
        for week in weeks:
            if campaign.starts_on <= week.last and campaign.ends_on >= week.first:
                week.campaigns.append((campaign.id, campaign.name))
    for week in weeks:
        week.campaigns.sort(key=lambda c: (c[1], c[0]))
    return Plan(vote, weeks)

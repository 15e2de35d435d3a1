"""The county: every municipality with its association or none, its events and the campaign
posts that reached it over a period (Stockholm days), equal to plain counts of seeded rows, on
both databases; who may say which association covers which municipality."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from campaigns.county import Span, county, default_span, read_span, set_coverage
from campaigns.models import Campaign, CampaignPost, Event, EventKind, Municipality, TargetKind
from core.auth import NotAllowed, create_user, district
from core.clock import STOCKHOLM
from core.db import Database
from core.i18n import ValidationErrors
from core.users import Organisation, OrganisationKind, Role, User
from publisher.deliveries import OPEN
from publisher.models import Account, Delivery, DeliveryState, Platform, Post

S = DeliveryState
PERIOD = Span(date(2031, 3, 1), date(2031, 4, 30))  # across the spring clock change


def _local(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=STOCKHOLM).astimezone(UTC)


@dataclass
class World:
    db: Database
    board: User
    lead: User
    local_lead: User  # a campaign lead of Karlstad's association
    karlstad_id: int  # the association
    arvika_id: int
    # (municipality name, campaign name) -> [published, planned] in PERIOD, from the seed
    expected: Counter[tuple[str, str, str]]
    own_expected: Counter[tuple[str, str, str]]  # as Karlstad's users see them


@pytest.fixture
def world(any_db_url: str) -> Iterator[World]:
    """Karlstad's association covers Karlstad and Hammarö, Arvika's covers Arvika; two
    campaigns' posts on their accounts (and the district's, which cover no municipality) in
    every state around the period's edges; events in Karlstad and Eda, one cancelled."""
    db = Database(any_db_url)
    rng = random.Random(6)
    with db.session() as session:
        home = district(session)
        karlstad = Organisation(name="V Karlstad", kind=OrganisationKind.ASSOCIATION,
                                parent=home)
        arvika = Organisation(name="V Arvika", kind=OrganisationKind.ASSOCIATION, parent=home)
        session.add_all([karlstad, arvika])
        session.flush()
        places = {m.name: m for m in session.scalars(select(Municipality))}
        places["Karlstad"].organisation_id = places["Hammarö"].organisation_id = karlstad.id
        places["Arvika"].organisation_id = arvika.id
        users = [create_user(session, email=f"{n}@example.org", name=n,
                             password="correct horse battery", role=role, organisation=org)
                 for n, role, org in (("board", Role.BOARD, None),
                                      ("lead", Role.CAMPAIGN_LEAD, None),
                                      ("local", Role.CAMPAIGN_LEAD, karlstad))]
        accounts = [Account(platform=platform, name=f"{org.name} {platform.value}",
                            external_id=f"{org.id}-{platform.value}", organisation_id=org.id,
                            credentials_sealed="-")
                    for org in (home, karlstad, arvika)
                    for platform in (Platform.X, Platform.FACEBOOK)]
        campaigns = [Campaign(name=name, slug=name.lower(), starts_on=PERIOD.first,
                              ends_on=PERIOD.last, deadline=PERIOD.end,
                              target_kind=TargetKind.ALL, utm_campaign=name.lower())
                     for name in ("Välfärd", "Trafik")]
        session.add_all(accounts + campaigns)
        session.flush()
        covers = {karlstad.id: ["Karlstad", "Hammarö"], arvika.id: ["Arvika"]}
        start, end = PERIOD.start - timedelta(days=10), PERIOD.end + timedelta(days=10)
        span = int((end - start).total_seconds() // 60)
        moments = [start + timedelta(minutes=rng.randrange(span)) for _ in range(600)]
        moments += [PERIOD.start - timedelta(seconds=1), PERIOD.start,
                    PERIOD.end - timedelta(seconds=1), PERIOD.end]
        posts = [Post(author_id=users[0].id, text=f"Inlägg {n}", scheduled_at=at)
                 for n, at in enumerate(moments)]
        session.add_all(posts)
        session.flush()
        expected: Counter[tuple[str, str, str]] = Counter()
        own: Counter[tuple[str, str, str]] = Counter()
        rows, links = [], []
        for post, at in zip(posts, moments, strict=True):
            campaign = rng.choice(campaigns + [None])  # some posts carry no campaign
            if campaign is not None:
                links.append(dict(post_id=post.id, campaign_id=campaign.id, linked_at=at))
            for account in rng.sample(accounts, rng.randint(1, 3)):
                state = rng.choice(sorted(S))
                went_out = at if state is S.PUBLISHED else None
                rows.append(dict(post_id=post.id, account_id=account.id, state=state,
                                 due_at=at, next_attempt_at=at, published_at=went_out,
                                 updated_at=at, attempts=0))
                kind = "published" if state is S.PUBLISHED else "planned" \
                    if state in OPEN else None
                if campaign is None or kind is None or not PERIOD.start <= at < PERIOD.end:
                    continue
                for place in covers.get(account.organisation_id, []):
                    expected[(place, campaign.name, kind)] += 1
                    if account.organisation_id == karlstad.id:
                        own[(place, campaign.name, kind)] += 1
        session.execute(insert(Delivery), rows)
        session.execute(insert(CampaignPost), links)
        for title, place, at, cancelled in (
                ("Medlemsmöte", "Karlstad", _local(2031, 3, 12, 19), False),
                ("Torgmöte", "Eda", _local(2031, 4, 30, 23, 30), False),  # the last evening
                ("Inställt", "Eda", _local(2031, 4, 2, 18), True),
                ("I maj", "Eda", _local(2031, 5, 1, 0, 0), False)):  # the day after
            session.add(Event(title=title, kind=EventKind.MEETING, starts_at=at,
                              ends_at=at + timedelta(hours=1), organiser_id=home.id,
                              municipality_id=places[place].id,
                              cancelled_at=at if cancelled else None))
        session.flush()
        for user in users:
            session.refresh(user)
        found = World(db, users[0], users[1], users[2], karlstad.id, arvika.id, expected, own)
    yield found
    db.dispose()


def _county(world: World, user: User, span: Span = PERIOD):
    with world.db.session() as session:
        return county(session, session.get(User, user.id), span)


def _counted(found) -> Counter[tuple[str, str, str]]:
    counted: Counter[tuple[str, str, str]] = Counter()
    for place in found.places:
        for reach in place.reach:
            counted[(place.name, reach.campaign_name, "published")] += reach.published
            counted[(place.name, reach.campaign_name, "planned")] += reach.planned
    return +counted


def test_every_municipality_with_its_association_or_marked_without(world):
    found = _county(world, world.board)
    assert len(found.places) == 16
    names = [p.name for p in found.places]
    assert names[:2] == ["Arvika", "Eda"]
    assert names[-3:] == ["Säffle", "Torsby", "Årjäng"]  # å, ä and ö after z
    by_name = {p.name: p for p in found.places}
    assert by_name["Karlstad"].organisation_name == by_name["Hammarö"].organisation_name \
        == "V Karlstad"
    assert by_name["Arvika"].organisation_name == "V Arvika"
    assert {p.name for p in found.uncovered} == set(by_name) - {"Karlstad", "Hammarö",
                                                                "Arvika"}
    assert by_name["Eda"].uncovered and not by_name["Eda"].reach


def test_the_campaign_posts_that_reached_each_municipality_equal_plain_counts(world):
    found = _county(world, world.board)
    assert _counted(found) == +world.expected
    assert sum(world.expected.values()) > 300
    assert {k[0] for k in world.expected} == {"Karlstad", "Hammarö", "Arvika"}


def test_an_associations_user_sees_its_own_accounts_posts(world):
    found = _county(world, world.local_lead)
    assert len(found.places) == 16
    assert _counted(found) == +world.own_expected
    assert not {p.name for p in found.places if p.reach} & {"Arvika"}


def test_events_are_those_starting_in_the_periods_stockholm_days(world):
    by_name = {p.name: p for p in _county(world, world.board).places}
    assert [e.title for e in by_name["Karlstad"].events] == ["Medlemsmöte"]
    assert [e.title for e in by_name["Eda"].events] == ["Torgmöte"]  # not cancelled, not May
    may = {p.name: p for p in _county(world, world.board,
                                      Span(date(2031, 5, 1), date(2031, 5, 1))).places}
    assert [e.title for e in may["Eda"].events] == ["I maj"]
    assert not may["Karlstad"].events


def test_the_period_is_read_as_typed_or_refused_at_its_field():
    today = date(2031, 3, 15)
    assert read_span("", "", today) == default_span(today) == Span(date(2031, 2, 13),
                                                                   date(2031, 5, 14))
    assert read_span("2031-03-01", "2031-04-30", today) == PERIOD
    assert read_span("20310301", " 2031-4-30 ", today) == PERIOD
    assert read_span("2032-01-01", "", today) == Span(date(2032, 1, 1), date(2032, 3, 31))
    assert read_span("", "2031-03-31", today) == Span(date(2030, 12, 31), date(2031, 3, 31))
    for first, last, field, words in (("2031-02-30", "", "first", "YYYY-MM-DD"),
                                      ("", "april", "last", "YYYY-MM-DD"),
                                      ("2031-05-01", "2031-04-30", "last", "before"),
                                      ("2031-01-01", "2033-01-02", "last", "two years")):
        with pytest.raises(ValidationErrors) as refused:
            read_span(first, last, today)
        assert [e.field for e in refused.value.errors] == [field]
        assert words in str(refused.value)
    assert read_span("2031-01-01", "2032-12-31", today).last == date(2032, 12, 31)


def _coverage(world: World, user: User, municipality: str, organisation: str) -> None:
    with world.db.session() as session:
        place = session.scalar(select(Municipality.id).where(Municipality.name == municipality))
        set_coverage(session, session.get(User, user.id), str(place), organisation)


def _covering(world: World, municipality: str) -> int | None:
    with world.db.session() as session:
        return session.scalar(select(Municipality.organisation_id).where(
            Municipality.name == municipality))


def test_only_the_districts_leads_say_which_association_covers_a_municipality(world):
    for user in (world.board, world.local_lead):
        with pytest.raises(NotAllowed):
            _coverage(world, user, "Eda", str(world.arvika_id))
    assert _covering(world, "Eda") is None
    _coverage(world, world.lead, "Eda", str(world.arvika_id))
    assert _covering(world, "Eda") == world.arvika_id
    by_name = {p.name: p for p in _county(world, world.board).places}
    assert by_name["Eda"].organisation_name == "V Arvika"
    assert {k: v for k, v in _counted(_county(world, world.board)).items() if k[0] == "Eda"} \
        == {("Eda", c, kind): n for (place, c, kind), n in world.expected.items()
            if place == "Arvika"}
    _coverage(world, world.lead, "Karlstad", "")
    assert _covering(world, "Karlstad") is None


def test_a_bad_choice_is_refused_at_its_field_and_nothing_changes(world):
    with world.db.session() as session:
        district_id = district(session).id
    for municipality, organisation, field in (("Eda", str(district_id), "organisation_id"),
                                              ("Eda", "99999", "organisation_id"),
                                              ("Eda", "V Arvika", "organisation_id")):
        with pytest.raises(ValidationErrors) as refused:
            _coverage(world, world.lead, municipality, organisation)
        assert [e.field for e in refused.value.errors] == [field]
    with world.db.session() as session, pytest.raises(ValidationErrors) as refused:
        set_coverage(session, session.get(User, world.lead.id), "0", str(world.arvika_id))
    assert [e.field for e in refused.value.errors] == ["municipality_id"]
    assert _covering(world, "Eda") is None

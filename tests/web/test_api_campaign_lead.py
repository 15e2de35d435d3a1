"""The API's campaign-lead parts (issues 13 and 17): events, the county, the election plan and
reviews, with the same tokens, scopes and error shapes as the rest of /api/v1. Each write is
refused without a token (401), with a read token (403), for a role or organisation without the
right (403) and on bad input (422 naming the field), and nothing is saved when refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from campaigns.event_models import EventAnnouncement
from campaigns.models import ElectionDay, Event, Municipality
from core.auth import district
from core.clock import STOCKHOLM, to_local, utcnow
from core.users import Role
from publisher.approval import PostReview
from publisher.models import Account, Delivery, DeliveryState, Platform, Post
from tests.factories import count
from tests.web.conftest import login
from tests.web.test_api import bearer, make_token


@pytest.fixture
def services(services_on_any_db):
    """Every test here once on SQLite and once on PostgreSQL (the county's and the plan's
    counts are SQL of their own)."""
    return services_on_any_db


@pytest.fixture
def api(app, make_user):
    """A client (without cookies) and a token of a new user with the given role, the token
    made on the Tokens page (as tests/web/test_api.py's)."""
    def make(role: Role = Role.COMMS, organisation=None, scope: str = "write"):
        user = make_user(role, organisation)
        browser = app.test_client()
        login(browser, user)
        return app.test_client(use_cookies=False), make_token(browser, scope), user

    return make


def day_ahead(days: int) -> str:
    return f"{to_local(utcnow()).date() + timedelta(days=days)}"


def event_body(**changes: object) -> dict[str, object]:
    day = day_ahead(20)
    body: dict[str, object] = {
        "title": "Valkonferens", "kind": "election_conference",
        "starts_at": f"{day}T10:00:00+01:00", "ends_at": f"{day}T16:00:00+01:00",
        "place": "Folkets hus, Karlstad", "link": "https://example.org/valkonferens"}
    body.update(changes)
    return body


def municipality_id(db, name: str) -> int:
    with db.session() as session:
        return session.scalar(select(Municipality.id).where(Municipality.name == name))


# -- events --------------------------------------------------------------------------------------

def test_a_lead_creates_reads_lists_moves_announces_and_cancels_an_event(api, db, make_account):
    client, token, lead = api(Role.CAMPAIGN_LEAD)
    x, _ = make_account(Platform.X)
    karlstad = municipality_id(db, "Karlstad")
    created = client.post("/api/v1/events", headers=bearer(token),
                          json=event_body(municipality_id=karlstad))
    assert created.status_code == 201, created.json
    event = created.json
    with db.session() as session:
        stored = session.get(Event, event["id"])
        assert stored.organiser_id == district(session).id  # the caller's own by default
        local = to_local(stored.starts_at)
        # 10:00 at +01:00 is the instant; the wall clock in Stockholm shows it as it is that day
        assert stored.starts_at == datetime.fromisoformat(f"{day_ahead(20)}T10:00:00+01:00")
        assert local.tzinfo is not None
    assert event["municipality"]["name"] == "Karlstad" and event["announcements"] == []
    assert datetime.fromisoformat(event["starts_at"]) == datetime.fromisoformat(
        f"{day_ahead(20)}T10:00:00+01:00")

    listed = client.get("/api/v1/events", headers=bearer(token),
                        query_string={"municipality": karlstad}).json["items"]
    assert [e["id"] for e in listed] == [event["id"]]
    assert client.get("/api/v1/events?past=true", headers=bearer(token)).json["items"] == []
    assert client.get("/api/v1/events", headers=bearer(token), query_string={
        "municipality": municipality_id(db, "Arvika")}).json["items"] == []

    announced = client.post(f"/api/v1/events/{event['id']}/announce", headers=bearer(token),
                            json={"account_ids": [x.id], "which": ["week", "day"],
                                  "hour": "09:00"})
    assert announced.status_code == 201, announced.json
    assert len(announced.json["posts"]) == 2 and announced.json["skipped"] == []
    for post in announced.json["posts"]:
        due = datetime.fromisoformat(post["scheduled_at"]).astimezone(STOCKHOLM)
        assert (due.hour, due.minute) == (9, 0)
        assert "Valkonferens" in post["text"]

    # Moved a day later (wall-clock time, no offset): the announcements follow, still 09:00.
    later = day_ahead(21)
    moved = client.patch(f"/api/v1/events/{event['id']}", headers=bearer(token),
                         json={"starts_at": f"{later}T10:00", "ends_at": f"{later}T16:00"})
    assert moved.status_code == 200, moved.json
    assert to_local(datetime.fromisoformat(moved.json["starts_at"])).strftime(
        "%Y-%m-%d %H:%M") == f"{later} 10:00"
    assert moved.json["title"] == "Valkonferens"  # what was left out stays
    announcement_days = sorted(
        datetime.fromisoformat(a["post"]["scheduled_at"]).astimezone(STOCKHOLM)
        for a in moved.json["announcements"])
    assert [d.date() for d in announcement_days] == [
        datetime.fromisoformat(later).date() - timedelta(days=7),
        datetime.fromisoformat(later).date() - timedelta(days=1)]
    assert all((d.hour, d.minute) == (9, 0) for d in announcement_days)

    read = client.get(f"/api/v1/events/{event['id']}", headers=bearer(token)).json
    assert {a["which"] for a in read["announcements"]} == {"week", "day"}

    cancelled = client.post(f"/api/v1/events/{event['id']}/cancel", headers=bearer(token))
    assert cancelled.status_code == 200, cancelled.json
    assert len(cancelled.json["cancelled"]) == 2 and cancelled.json["event"]["cancelled_at"]
    with db.session() as session:
        assert set(session.scalars(select(Delivery.state))) == {DeliveryState.CANCELLED}


def test_event_writes_need_a_token_the_write_scope_and_the_right(api, make_org, db,
                                                                 make_account, client):
    kil, arvika = make_org("V Kil"), make_org("V Arvika")
    kil_client, kil_token, _ = api(Role.COMMS, organisation=kil)
    mine = kil_client.post("/api/v1/events", headers=bearer(kil_token), json=event_body())
    assert mine.status_code == 201, mine.json
    assert mine.json["organiser"]["id"] == kil.id
    event_id = mine.json["id"]
    paths = [("post", "/api/v1/events", event_body(title="Nej")),
             ("patch", f"/api/v1/events/{event_id}", {"title": "Kapad"}),
             ("post", f"/api/v1/events/{event_id}/cancel", None),
             ("post", f"/api/v1/events/{event_id}/announce", {"account_ids": [1]})]

    for method, path, body in paths:  # no token
        response = getattr(client, method)(path, json=body)
        assert response.status_code == 401 and response.json["error"]["code"] == "unauthorized"
    reader, read_token, _ = api(Role.CAMPAIGN_LEAD, scope="read")
    board, board_token, _ = api(Role.BOARD)
    other, other_token, _ = api(Role.COMMS, organisation=arvika)
    for who, secret in ((reader, read_token), (board, board_token), (other, other_token)):
        for method, path, body in paths[1:] if who is other else paths:
            response = getattr(who, method)(path, headers=bearer(secret), json=body)
            assert response.status_code == 403, (path, response.json)
            assert response.json["error"]["code"] == "forbidden"
    # An association creates only in its own name.
    theirs = kil_client.post("/api/v1/events", headers=bearer(kil_token),
                             json=event_body(title="I Arvikas namn", organiser_id=arvika.id))
    assert theirs.status_code == 403 and "organiser_id" in theirs.json["error"]["fields"]
    # Everyone reads: the board and the other association see the event.
    assert board.get(f"/api/v1/events/{event_id}", headers=bearer(board_token)
                     ).status_code == 200
    assert reader.get("/api/v1/events", headers=bearer(read_token)).json["items"][0][
        "id"] == event_id
    with db.session() as session:
        assert [e.title for e in session.scalars(select(Event))] == ["Valkonferens"]
        assert session.get(Event, event_id).cancelled_at is None
    assert count(db, EventAnnouncement) == 0 and count(db, Post) == 0


@pytest.mark.parametrize(("body", "field"), [
    ({"title": ""}, "title"),
    ({"starts_at": "2099-02-30T10:00:00+01:00"}, "starts_at"),
    ({"starts_at": "imorgon"}, "starts_at"),
    ({"starts_at": "0001-01-01T00:00:00+14:00"}, "starts_at"),
    ({"starts_at": "2099-03-29T02:30", "ends_at": "2099-03-29T05:00"}, "starts_at"),  # DST gap
    ({"ends_at": "2099-01-01T10:00:30+01:00"}, "ends_at"),  # seconds
    ({"starts_at": "2099-05-02T12:00:00+02:00", "ends_at": "2099-05-02T11:00:00+02:00"},
     "ends_at"),
    ({"kind": "fest"}, "kind"),
    ({"link": "javascript:alert(1)"}, "link"),
    ({"municipality_id": 999_999}, "municipality_id"),
    ({"title": "x\x00y"}, "title"),
])
def test_bad_event_input_is_a_422_naming_the_field_and_saves_nothing(api, db, body, field):
    client, token, _ = api(Role.CAMPAIGN_LEAD)
    response = client.post("/api/v1/events", headers=bearer(token), json=event_body(**body))
    assert response.status_code == 422, response.json
    assert response.json["error"]["code"] == "invalid"
    assert field in response.json["error"]["fields"], response.json
    assert count(db, Event) == 0


def test_a_doubled_autumn_hour_with_an_offset_keeps_which_one_was_meant(api, db):
    client, token, _ = api(Role.CAMPAIGN_LEAD)
    winter = client.post("/api/v1/events", headers=bearer(token), json=event_body(
        starts_at="2099-10-25T02:30:00+01:00", ends_at="2099-10-25T04:00:00+01:00"))
    assert winter.status_code == 201, winter.json
    assert datetime.fromisoformat(winter.json["starts_at"]) == datetime(2099, 10, 25, 1, 30,
                                                                         tzinfo=UTC)


def test_a_change_and_an_announcement_are_checked_and_save_nothing_when_bad(api, db,
                                                                           make_account):
    client, token, _ = api(Role.CAMPAIGN_LEAD)
    x, _ = make_account(Platform.X)
    event = client.post("/api/v1/events", headers=bearer(token), json=event_body()).json
    bad = client.patch(f"/api/v1/events/{event['id']}", headers=bearer(token),
                       json={"title": "Nytt namn", "ends_at": "2000-01-01T10:00:00+01:00"})
    assert bad.status_code == 422 and "ends_at" in bad.json["error"]["fields"]
    for body, field in (({"account_ids": [x.id], "hour": "03:00"}, "hour"),
                        ({"account_ids": []}, "account_ids"),
                        ({"account_ids": [x.id], "which": ["yesterday"]}, "which")):
        refused = client.post(f"/api/v1/events/{event['id']}/announce", headers=bearer(token),
                              json=body)
        assert refused.status_code == 422, refused.json
        assert field in refused.json["error"]["fields"], refused.json
    assert client.get("/api/v1/events/999999", headers=bearer(token)).status_code == 404
    with db.session() as session:
        assert session.get(Event, event["id"]).title == "Valkonferens"
    assert count(db, Post) == 0


# -- the county and the election plan ----------------------------------------------------------

def test_the_county_and_the_election_plan_are_read_with_any_token(api, db, services):
    lead_client, lead_token, _ = api(Role.CAMPAIGN_LEAD)
    lead_client.post("/api/v1/events", headers=bearer(lead_token), json=event_body(
        municipality_id=municipality_id(db, "Torsby")))
    client, token, _ = api(Role.BOARD, scope="read")
    county = client.get("/api/v1/county", headers=bearer(token), query_string={
        "from": day_ahead(0), "until": day_ahead(30)})
    assert county.status_code == 200, county.json
    assert (county.json["from"], county.json["until"]) == (day_ahead(0), day_ahead(30))
    places = {p["name"]: p for p in county.json["municipalities"]}
    assert len(places) == 16
    assert [e["title"] for e in places["Torsby"]["events"]] == ["Valkonferens"]
    assert places["Torsby"]["uncovered"] is (places["Torsby"]["organisation_id"] is None)
    outside = client.get("/api/v1/county", headers=bearer(token), query_string={
        "from": day_ahead(40), "until": day_ahead(50)}).json
    assert all(p["events"] == [] for p in outside["municipalities"])
    for query, field in (({"from": "2026-13-01"}, "from"),
                         ({"from": day_ahead(10), "until": day_ahead(0)}, "until"),
                         ({"from": "2020-01-01", "until": "2029-01-01"}, "until")):
        bad = client.get("/api/v1/county", headers=bearer(token), query_string=query)
        assert bad.status_code == 422 and field in bad.json["error"]["fields"], bad.json

    with db.session() as session:
        session.add(ElectionDay(id=1, day=datetime.fromisoformat(day_ahead(60)).date(),
                                set_at=utcnow()))
    plan = client.get("/api/v1/election", headers=bearer(token))
    assert plan.status_code == 200, plan.json
    assert plan.json["election_day"] == day_ahead(60) and plan.json["chosen"] is True
    assert plan.json["days_left"] == 60
    weeks = plan.json["weeks"]
    assert sum(w["election"] for w in weeks) == 1
    assert [e["title"] for w in weeks for e in w["events"]] == ["Valkonferens"]
    assert all(w["published"] == w["planned"] == 0 for w in weeks)
    assert client.get("/api/v1/election").status_code == 401
    assert client.get("/api/v1/county").status_code == 401


# -- reviews -------------------------------------------------------------------------------------

def waiting_post(api, db, make_account, *, scheduled_at: str | None = None):
    """A district comms person's post on an account that needs approval, through the API."""
    x, _ = make_account(Platform.X)
    with db.session() as session:
        session.execute(update(Account).where(Account.id == x.id).values(needs_approval=True))
    author, author_token, _ = api(Role.COMMS)
    body: dict[str, object] = {"text": "Kollektivtrafiken ska vara gratis!",
                               "account_ids": [x.id]}
    if scheduled_at:
        body["scheduled_at"] = scheduled_at
    created = author.post("/api/v1/posts", headers=bearer(author_token), json=body)
    assert created.status_code == 201, created.json
    assert [d["state"] for d in created.json["deliveries"]] == ["awaiting_approval"]
    return created.json, author, author_token


def states(db, post_id: int) -> list[DeliveryState]:
    with db.session() as session:
        return list(session.scalars(select(Delivery.state).where(Delivery.post_id == post_id)))


def test_a_reviewer_sends_back_and_approves_through_the_api(api, db, make_account):
    later = (utcnow() + timedelta(days=3)).replace(second=0, microsecond=0)
    post, author, author_token = waiting_post(api, db, make_account,
                                              scheduled_at=later.isoformat())
    reviewer, token, _ = api(Role.CAMPAIGN_LEAD)
    listed = reviewer.get("/api/v1/reviews", headers=bearer(token))
    assert listed.status_code == 200
    assert [p["id"] for p in listed.json["items"]] == [post["id"]]
    assert author.get("/api/v1/reviews", headers=bearer(author_token)).json["items"] == []

    empty = reviewer.post(f"/api/v1/posts/{post['id']}/send-back", headers=bearer(token),
                          json={"comment": "  "})
    assert empty.status_code == 422 and "comment" in empty.json["error"]["fields"]
    assert reviewer.post(f"/api/v1/posts/{post['id']}/send-back", headers=bearer(token),
                         json={}).status_code == 422
    assert states(db, post["id"]) == [DeliveryState.AWAITING_APPROVAL]

    back = reviewer.post(f"/api/v1/posts/{post['id']}/send-back", headers=bearer(token),
                         json={"comment": "Nämn länstrafiken."})
    assert back.status_code == 200, back.json
    assert [d["state"] for d in back.json["deliveries"]] == ["returned"]
    assert reviewer.get("/api/v1/reviews", headers=bearer(token)).json["items"] == []

    changed = author.patch(f"/api/v1/posts/{post['id']}", headers=bearer(author_token),
                           json={"text": "Länstrafiken ska vara gratis!"})
    assert changed.status_code == 200, changed.json
    assert [d["state"] for d in changed.json["deliveries"]] == ["awaiting_approval"]

    own = author.post(f"/api/v1/posts/{post['id']}/approve", headers=bearer(author_token),
                      json={})
    assert own.status_code == 422  # never one's own post
    new_time = (later + timedelta(hours=2)).astimezone(STOCKHOLM)
    approved = reviewer.post(f"/api/v1/posts/{post['id']}/approve", headers=bearer(token),
                             json={"comment": "Bra!", "scheduled_at": new_time.isoformat()})
    assert approved.status_code == 200, approved.json
    assert [d["state"] for d in approved.json["deliveries"]] == ["scheduled"]
    assert datetime.fromisoformat(approved.json["scheduled_at"]) == new_time
    with db.session() as session:
        assert [(r.action, r.comment) for r in session.scalars(
            select(PostReview).order_by(PostReview.id))] == [
            ("submitted", None), ("returned", "Nämn länstrafiken."), ("changed", None),
            ("approved", "Bra!")]
    again = reviewer.post(f"/api/v1/posts/{post['id']}/approve", headers=bearer(token), json={})
    assert again.status_code == 422  # nothing waits any more


def test_review_writes_are_refused_without_the_right_and_change_nothing(api, db, make_account,
                                                                        make_org, client):
    post, _, _ = waiting_post(api, db, make_account)
    approve, send_back = (f"/api/v1/posts/{post['id']}/approve",
                          f"/api/v1/posts/{post['id']}/send-back")
    assert client.post(approve, json={}).status_code == 401
    assert client.post(send_back, json={"comment": "x"}).status_code == 401
    assert client.get("/api/v1/reviews").status_code == 401
    reader, read_token, _ = api(Role.CAMPAIGN_LEAD, scope="read")
    board, board_token, _ = api(Role.BOARD)
    association, association_token, _ = api(Role.COMMS, organisation=make_org("V Säffle"))
    for who, secret in ((reader, read_token), (board, board_token),
                        (association, association_token)):
        for path, body in ((approve, {}), (send_back, {"comment": "Nej"})):
            response = who.post(path, headers=bearer(secret), json=body)
            assert response.status_code == 403, (path, response.json)
            assert response.json["error"]["code"] == "forbidden"
    assert reader.get("/api/v1/reviews", headers=bearer(read_token)).status_code == 200
    for who, secret in ((board, board_token), (association, association_token)):
        assert who.get("/api/v1/reviews", headers=bearer(secret)).status_code == 403
    lead, lead_token, _ = api(Role.CAMPAIGN_LEAD)
    assert lead.post("/api/v1/posts/999999/approve", headers=bearer(lead_token),
                     json={}).status_code == 404
    for body in ({"scheduled_at": "imorgon"}, {"scheduled_at": "2000-01-01T10:00:00+01:00"},
                 {"scheduled_at": "2099-03-29T02:30"},  # the hour the clocks skip
                 {"comment": "x" * 5000}, {"comment": "a\x07b"}):
        bad = lead.post(approve, headers=bearer(lead_token), json=body)
        assert bad.status_code == 422, (body, bad.json)
        assert set(bad.json["error"]["fields"]) <= {"scheduled_at", "comment"}, bad.json
    assert states(db, post["id"]) == [DeliveryState.AWAITING_APPROVAL]
    with db.session() as session:
        assert [r.action for r in session.scalars(select(PostReview))] == ["submitted"]


def test_the_openapi_document_describes_the_new_operations(client):
    spec = client.get("/api/v1/openapi.json").json
    operations = {(m.upper(), p) for p, ms in spec["paths"].items() for m in ms}
    assert {("GET", "/api/v1/events"), ("POST", "/api/v1/events"),
            ("GET", "/api/v1/events/{event_id}"), ("PATCH", "/api/v1/events/{event_id}"),
            ("POST", "/api/v1/events/{event_id}/cancel"),
            ("POST", "/api/v1/events/{event_id}/announce"), ("GET", "/api/v1/county"),
            ("GET", "/api/v1/election"), ("GET", "/api/v1/reviews"),
            ("POST", "/api/v1/posts/{post_id}/approve"),
            ("POST", "/api/v1/posts/{post_id}/send-back")} <= operations
    states_enum = spec["components"]["schemas"]["DeliveryOut"]["properties"]["state"]["enum"]
    assert {"awaiting_approval", "returned"} <= set(states_enum)
    county_args = {p["name"] for p in spec["paths"]["/api/v1/county"]["get"]["parameters"]}
    assert {"from", "until"} <= county_args

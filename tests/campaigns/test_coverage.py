"""The coverage matrix follows the posts and their deliveries under every state, on both
databases: deliveries move only through publisher.deliveries and the real dispatcher."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import requests

from campaigns.campaigns import link_post
from campaigns.coverage import Cell, matrix, to_csv
from core.auth import NotAllowed
from core.clock import to_local, utcnow
from core.users import Role, User
from publisher.deliveries import cancel, claim_due, hold_account, requeue, transition
from publisher.dispatch import Dispatcher
from publisher.metrics import collect_due_metrics
from publisher.models import Delivery, DeliveryState, Platform
from publisher.posts import PostDraft, edit_post
from publisher.services import Services
from tests.campaigns.helpers import new_campaign, next_minute, roll_out
from tests.factories import queue_post

S = DeliveryState


@pytest.fixture
def services(services_on_any_db: Services) -> Services:
    return services_on_any_db


def rows_by_name(services, user, campaign_id, **kwargs):
    with services.db.session() as session:
        found = matrix(session, session.get(User, user.id), campaign_id, **kwargs)
        return {row.account_name.split(" #")[0]: row for row in found.rows}, found


def unique(name: str) -> str:
    """A name of its own in the session's sandbox, which knows accounts by name (and X there
    refuses the same text twice on one account)."""
    return f"{name} #{uuid.uuid4().hex[:6]}"


def test_every_delivery_state_has_its_cell(services, sandbox, make_user, make_account):
    lead, comms = make_user(Role.CAMPAIGN_LEAD), make_user(Role.COMMS)
    names = ["a fail", "b uncertain", "c sending", "d held", "e cancelled", "f planned"]
    accounts = {name: make_account(Platform.FACEBOOK if name < "c" else Platform.X,
                                   name=unique(name))[0] for name in names}
    outside, _ = make_account(Platform.X, name=unique("0 outside"))
    campaign = new_campaign(services.db, lead)

    # Written outside the campaign, published for real, then linked: it counts.
    post = queue_post(services.db, comms, [outside], text="Välfärd före vinster, från Kil")
    assert Dispatcher(services.db, services.platforms, services.box, "w0").run_once() == 1
    with services.db.session() as session:
        link_post(session, session.get(User, lead.id), campaign.id,
                  f"https://megafon.example/deliveries/{post.deliveries[0].id}")
    published_id = post.deliveries[0].id

    start = next_minute() + timedelta(minutes=10)
    posts = roll_out(services.db, lead, campaign, start, start + timedelta(minutes=6))
    assert len(posts) == 6  # the linked account already carries it
    by_account = {p.deliveries[0].account_id: p for p in posts}
    later = utcnow() + timedelta(hours=3)

    with services.db.session() as session:
        hold_account(session, accounts["d held"].id, "login refused")
        assert cancel(session, by_account[accounts["e cancelled"].id].deliveries[0].id, "Ann")
        planned = by_account[accounts["f planned"].id]
        local = to_local(later).replace(tzinfo=None, second=0, microsecond=0)
        edit_post(session, session.get(User, comms.id), planned.id, PostDraft(
            text="Ändrad av kommunikatören", account_ids=[accounts["f planned"].id],
            scheduled_local=local))
    claimed = claim_due(services.db, "w1", now=start + timedelta(minutes=2, seconds=30))
    assert len(claimed) == 3  # a, b and c were due
    ids = {by_account[accounts[n].id].deliveries[0].id: n for n in names[:3]}
    with services.db.session() as session:
        for delivery_id, name in ids.items():
            if name == "a fail":
                assert transition(session, delivery_id, S.SENDING, S.FAILED, holder="w1",
                                  detail="refused", error_message="Duplicate content")
            elif name == "b uncertain":
                assert transition(session, delivery_id, S.SENDING, S.UNCERTAIN, holder="w1",
                                  detail="timeout")
    new_account, _ = make_account(Platform.X, name=unique("g new"))

    # The published post's numbers, fetched through the real client.
    with services.db.session() as session:
        published = session.get(Delivery, published_id)
        external_id = published.external_id
        assert external_id, (published.state, published.error_message, published.post.text)
    requests.post(f"{services.platforms.sandbox_url}/sandbox/api/posts/{external_id}/metrics",
                  json={"age_s": 1800, "likes": 7, "reposts": 2, "quotes": 1,
                        "impressions": 500},
                  timeout=10).raise_for_status()
    collect_due_metrics(services.db, services.box, services.platforms,
                        now=utcnow() + timedelta(minutes=20))

    rows, found = rows_by_name(services, lead, campaign.id)
    assert {name: row.cell for name, row in rows.items()} == {
        "0 outside": Cell.PUBLISHED, "a fail": Cell.FAILED, "b uncertain": Cell.UNCERTAIN,
        "c sending": Cell.SENDING, "d held": Cell.HELD, "e cancelled": Cell.CANCELLED,
        "f planned": Cell.PLANNED, "g new": Cell.NOT_ASKED}
    assert rows["0 outside"].url and rows["0 outside"].engagement >= 10
    assert rows["0 outside"].reach == 500
    assert rows["a fail"].problem == "Duplicate content"
    assert rows["d held"].problem == "login refused"
    assert abs(rows["f planned"].when - later) < timedelta(minutes=1)  # moved by the edit
    assert rows["g new"].post_id is None and new_account.id == rows["g new"].account_id
    assert not any(row.overdue for row in rows.values())
    assert found.counts[Cell.PLANNED] == 1

    only_failed, _ = rows_by_name(services, lead, campaign.id, cell=Cell.FAILED)
    assert list(only_failed) == ["a fail"]

    past, found = rows_by_name(services, lead, campaign.id,
                               now=campaign.deadline + timedelta(minutes=1))
    assert {n for n, r in past.items() if r.overdue} == set(rows) - {"0 outside"}
    assert found.overdue == 7
    text = to_csv(found, ["org", "account", "network", "state", "when", "link", "why", "reach",
                          "engagement", "overdue"], lambda c: c.value,
                  lambda w: "" if w is None else f"{w:%Y-%m-%d %H:%M}", "OVERDUE",
                  {Platform.X: "X", Platform.FACEBOOK: "Facebook"})
    assert text.count("OVERDUE") == 7 and "Duplicate content" in text


def test_a_cancelled_post_sent_again_and_published_moves_its_cell(services, sandbox, make_user,
                                                                 make_account):
    lead = make_user(Role.CAMPAIGN_LEAD)
    x, _ = make_account(Platform.X, name=unique("Kil"))
    campaign = new_campaign(services.db, lead)
    start = next_minute() + timedelta(minutes=5)
    [post] = roll_out(services.db, lead, campaign, start, start + timedelta(minutes=1))
    delivery_id = post.deliveries[0].id
    assert rows_by_name(services, lead, campaign.id)[0]["Kil"].cell is Cell.PLANNED
    with services.db.session() as session:
        assert cancel(session, delivery_id, "Ann")
    assert rows_by_name(services, lead, campaign.id)[0]["Kil"].cell is Cell.CANCELLED
    with services.db.session() as session:
        assert requeue(session, delivery_id, "Ann")  # now
    assert Dispatcher(services.db, services.platforms, services.box, "w1").run_once() == 1
    row = rows_by_name(services, lead, campaign.id)[0]["Kil"]
    assert row.cell is Cell.PUBLISHED and row.url and row.reach == 0


def test_association_users_see_only_campaigns_aimed_at_them_and_their_rows(
        services, make_user, make_org, make_account):
    lead = make_user(Role.CAMPAIGN_LEAD)
    kil, arvika = make_org("Kil"), make_org("Arvika")
    kil_x, _ = make_account(Platform.X, organisation=kil, name=unique("Kil X"))
    arvika_x, _ = make_account(Platform.X, organisation=arvika, name=unique("Arvika X"))
    for_kil = new_campaign(services.db, lead, name="Bara Kil", target_kind="associations",
                           association_ids=[kil.id])
    for_all = new_campaign(services.db, lead, name="Alla", target_kind="all")
    kil_user = make_user(Role.COMMS, organisation=kil)
    arvika_user = make_user(Role.COMMS, organisation=arvika)
    rows, _ = rows_by_name(services, kil_user, for_kil.id)
    assert list(rows) == ["Kil X"]
    with pytest.raises(NotAllowed):
        rows_by_name(services, arvika_user, for_kil.id)
    rows, _ = rows_by_name(services, arvika_user, for_all.id)
    assert list(rows) == ["Arvika X"]  # the district's and Kil's accounts are not theirs
    rows, _ = rows_by_name(services, make_user(Role.BOARD), for_all.id)
    assert set(rows) == {"Kil X", "Arvika X"}
    assert arvika_x.id != kil_x.id

"""Roll-out: one ordinary post per target account, spread over the window, UTM-tagged links;
refused as a whole when anything is wrong; only campaign leads and administrators may do it."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from campaigns.campaigns import (
    MessageDraft,
    RolloutDraft,
    add_message,
    campaigns_for,
    preview,
    rollout,
    spread,
    with_utm,
)
from campaigns.models import Campaign, CampaignPost
from core.auth import NotAllowed, district
from core.i18n import ValidationErrors
from core.users import Role, User
from publisher.models import Account, Delivery, Platform, Post
from publisher.services import Services
from tests.campaigns.helpers import entered, new_campaign, next_minute, roll_out
from tests.factories import count


@pytest.fixture
def services(services_on_any_db: Services) -> Services:
    return services_on_any_db


def add_accounts(services, n: int, organisation_id: int) -> None:
    """Accounts as rows (never called here: roll-out only queues), half X and half Pages."""
    with services.db.session() as session:
        session.add_all([Account(platform=Platform.X if i % 2 else Platform.FACEBOOK,
                                 name=f"Konto {i:03}", external_id=f"ext-{i}",
                                 organisation_id=organisation_id, credentials_sealed="-")
                         for i in range(n)])


def test_roll_out_to_300_accounts_makes_300_posts_spread_over_the_window(services, make_user):
    lead = make_user(Role.CAMPAIGN_LEAD)
    with services.db.session() as session:
        add_accounts(services, 300, district(session).id)
    campaign = new_campaign(services.db, lead)
    start = next_minute() + timedelta(hours=1)
    end = start + timedelta(hours=5)
    posts = roll_out(services.db, lead, campaign, start, end)
    assert len(posts) == 300 == count(services.db, Post) == count(services.db, Delivery)
    with services.db.session() as session:
        dues = sorted(session.scalars(select(Delivery.due_at)))
        assert session.scalar(select(func.count(func.distinct(Delivery.account_id)))) == 300
        assert session.scalar(select(func.count()).select_from(CampaignPost).where(
            CampaignPost.campaign_id == campaign.id)) == 300
    assert dues[0] == start and dues[-1] < end
    gaps = {(b - a).total_seconds() for a, b in zip(dues, dues[1:], strict=False)}
    assert gaps and min(gaps) >= 59 and max(gaps) <= 61  # five hours / 300 = one a minute
    # A second roll-out finds every account covered and makes nothing.
    with pytest.raises(ValidationErrors, match="already carries"):
        roll_out(services.db, lead, campaign, start, end)
    assert count(services.db, Post) == 300


def test_spread_is_even_and_deterministic():
    start = next_minute()
    times = spread(start, start + timedelta(minutes=20), 20)
    assert times == spread(start, start + timedelta(minutes=20), 20)
    assert len({t.replace(second=0) for t in times}) == 20  # twenty Pages, twenty minutes


def test_links_get_utm_per_network_and_keep_their_own_parameters(services, make_user,
                                                                   make_account):
    assert parse_qs(urlsplit(with_utm("https://ex.org/a?x=1&utm_source=old", "x", "social",
                                      "val")).query) == {
        "x": ["1"], "utm_source": ["x"], "utm_medium": ["social"], "utm_campaign": ["val"]}
    lead = make_user(Role.CAMPAIGN_LEAD)
    x, _ = make_account(Platform.X)
    fb, _ = make_account(Platform.FACEBOOK)
    campaign = new_campaign(services.db, lead, name="Välfärd före vinster")
    assert campaign.slug == "valfard-fore-vinster"
    with services.db.session() as session:
        campaign = session.get(Campaign, campaign.id)
        shown = {p.platform: p for p in preview(campaign, campaign.messages[0])}
    assert shown[Platform.X].link == ("https://example.org/valfard?a=1&utm_source=x&"
                                      "utm_medium=social&utm_campaign=valfard-fore-vinster")
    assert "utm_source=facebook" in shown[Platform.FACEBOOK].link
    assert shown[Platform.X].text.endswith("#välfärd #vpol")
    start = next_minute() + timedelta(minutes=30)
    roll_out(services.db, lead, campaign, start, start + timedelta(minutes=10))
    with services.db.session() as session:
        links = {d.account_id: d.post.link for d in session.scalars(select(Delivery)).unique()}
        texts = {d.account_id: d.post.text for d in session.scalars(select(Delivery)).unique()}
    assert links[x.id] == shown[Platform.X].link
    assert links[fb.id] == shown[Platform.FACEBOOK].link
    assert texts[fb.id].startswith("Vi vill ha välfärd")


def test_a_message_too_long_for_x_after_its_link_is_refused_and_nothing_is_made(
        services, make_user, make_account):
    lead = make_user(Role.CAMPAIGN_LEAD)
    make_account(Platform.X)
    with pytest.raises(ValidationErrors, match="X text is too long"):
        new_campaign(services.db, lead, text_x="a" * 260)  # 260 + hashtags + 23 > 280
    campaign = new_campaign(services.db, lead, text_x="Kort")
    with services.db.session() as session, pytest.raises(ValidationErrors) as refused:
        add_message(session, session.get(User, lead.id), campaign.id,
                    MessageDraft("b" * 250, "ok", "#vpol", "https://example.org/x"))
    assert refused.value.errors[0].field == "text_x"
    start = next_minute() - timedelta(hours=1)  # and a window in the past
    with pytest.raises(ValidationErrors, match="already begun"):
        roll_out(services.db, lead, campaign, start, start + timedelta(minutes=5))
    assert count(services.db, Post) == 0


@pytest.mark.parametrize("role", [Role.BOARD, Role.COMMS])
def test_only_campaign_leads_and_admins_create_or_roll_out(role, services, make_user,
                                                            make_account):
    make_account(Platform.X)
    campaign = new_campaign(services.db, make_user(Role.ADMIN))
    user = make_user(role)
    with pytest.raises(NotAllowed):
        new_campaign(services.db, user, name="Annan")
    start = next_minute() + timedelta(minutes=30)
    with services.db.session() as session, pytest.raises(NotAllowed):
        rollout(session, session.get(User, user.id), campaign.id, RolloutDraft(
            campaign.messages[0].id, entered(start), entered(start)))
    with services.db.session() as session:  # but they see it
        assert [c.id for c in campaigns_for(session, session.get(User, user.id))] == [
            campaign.id]
    assert count(services.db, Post) == 0

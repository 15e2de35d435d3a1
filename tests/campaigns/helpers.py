"""Builders for campaign tests: campaigns and roll-outs through the real services."""

from __future__ import annotations

from datetime import datetime, timedelta

from campaigns.campaigns import CampaignDraft, MessageDraft, RolloutDraft, create_campaign, rollout
from campaigns.models import Campaign
from core.clock import to_local, utcnow
from core.db import Database
from core.entered_time import EnteredTime
from core.users import User
from publisher.models import Post


def entered(moment: datetime) -> EnteredTime:
    """A UTC moment as a person types it (Stockholm wall clock, to the minute)."""
    return EnteredTime.showing(moment)


def next_minute(moment: datetime | None = None) -> datetime:
    moment = moment or utcnow()
    return moment.replace(second=0, microsecond=0) + timedelta(minutes=1)


def new_campaign(db: Database, user: User, *, name: str = "Välfärd före vinster",
                 target_kind: str = "district", association_ids: list[int] | None = None,
                 deadline: datetime | None = None, text_x: str = "Välfärd före vinster!",
                 text_facebook: str = "Vi vill ha välfärd före vinster i hela Värmland.",
                 hashtags: str = "välfärd #vpol", link: str = "https://example.org/valfard?a=1"
                 ) -> Campaign:
    now = utcnow()
    deadline = deadline or now + timedelta(days=2)
    today = to_local(now).date()
    with db.session() as session:
        return create_campaign(session, session.get(User, user.id), CampaignDraft(
            name=name, description="Höstens kampanj", starts_on=f"{today}",
            ends_on=f"{today + timedelta(days=7)}", deadline=entered(deadline),
            target_kind=target_kind, association_ids=association_ids or [],
            message=MessageDraft(text_x, text_facebook, hashtags, link)))


def roll_out(db: Database, user: User, campaign: Campaign, start: datetime, end: datetime,
             now: datetime | None = None) -> list[Post]:
    with db.session() as session:
        campaign = session.get(Campaign, campaign.id)
        done = rollout(session, session.get(User, user.id), campaign.id, RolloutDraft(
            campaign.messages[0].id, entered(start), entered(end)), now=now)
        return done.posts

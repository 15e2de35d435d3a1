"""One reminder before the deadline to each association asked that has neither queued a post
for the campaign nor said no.

`campaigns.reminder_hours` (48 unless the lead chose otherwise) says how long before the
deadline. An ask made after that moment is not reminded: it was only just asked. Each ask is
claimed in the database (`core.claims.claim`: a conditional UPDATE of `reminded_at` guarded by
`reminded_at IS NULL`, SKIP LOCKED on PostgreSQL), so however many workers run the job at once,
its writers are told once: in the app and by e-mail (core.notifications → core.mail), each in
their own language, with the link to the prefilled composer.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from campaigns.asks import compose_link, writers_of
from campaigns.campaigns import campaign_for
from campaigns.models import Campaign, CampaignAsk, CampaignPost
from core.auth import Action, require
from core.claims import claim
from core.clock import to_local, utcnow
from core.i18n import N_, UserError, ValidationErrors
from core.notifications import notify
from core.users import User
from publisher.deliveries import ON_THE_ACCOUNT
from publisher.models import Account, Delivery

REMINDED = "campaign_ask_reminder"
REMINDER_SUBJECT = N_("Reminder: will %(association)s carry the campaign %(campaign)s?")
REMINDER_BODY = N_("The deadline for the campaign %(campaign)s is %(deadline)s and %(association)s "
                   "has not queued a post for it yet. Open the link: the text, link and pictures "
                   "are ready for your accounts, to adapt and queue. Or say no, with a reason.")
DEFAULT_HOURS = 48
MAX_HOURS = 24 * 30
BATCH = 200


def carried(ask_campaign_id: object, ask_organisation_id: object) -> object:
    """SQL: one of the campaign's posts is waiting, going out or out on one of the association's
    accounts (the coverage shows it planned or published)."""
    return exists().where(
        CampaignPost.campaign_id == ask_campaign_id,
        Delivery.post_id == CampaignPost.post_id,
        Delivery.state.in_(ON_THE_ACCOUNT),
        Account.id == Delivery.account_id,
        Account.organisation_id == ask_organisation_id)


def due_campaigns(session: Session, now: datetime) -> list[Campaign]:
    """Campaigns whose reminder moment has come and whose deadline has not passed."""
    soon = session.scalars(select(Campaign).where(
        Campaign.deadline > now, Campaign.deadline <= now + timedelta(hours=MAX_HOURS))
        .order_by(Campaign.id))
    return [c for c in soon if remind_at(c) <= now]


def send_due_reminders(session: Session, now: datetime | None = None) -> int:
    """Remind the asks that are due (each claimed here, in the caller's transaction) and return
    how many were reminded. The caller commits."""
    now = now or utcnow()
    reminded = 0
    for campaign in due_campaigns(session, now):
        ids = claim(session, CampaignAsk.id,
                    where=[CampaignAsk.reminded_at.is_(None), CampaignAsk.declined_at.is_(None)],
                    order_by=[CampaignAsk.id], limit=BATCH, now=now,
                    values={"reminded_at": now},
                    pick_only=[CampaignAsk.campaign_id == campaign.id,
                               CampaignAsk.asked_at < remind_at(campaign),
                               ~carried(CampaignAsk.campaign_id, CampaignAsk.organisation_id)])
        deadline = f"{to_local(campaign.deadline):%Y-%m-%d %H:%M}"
        for ask_id in ids:
            ask = session.get(CampaignAsk, ask_id)
            assert ask is not None
            notify(session, writers_of(session, ask.organisation_id), REMINDED,
                   REMINDER_SUBJECT, REMINDER_BODY, compose_link(ask.id),
                   association=ask.organisation.name, campaign=campaign.name, deadline=deadline)
        reminded += len(ids)
    session.flush()
    return reminded


def set_reminder_hours(session: Session, user: User, campaign_id: int, hours: str) -> Campaign:
    """The lead chooses how many hours before the deadline the asks are reminded (1–720)."""
    require(user, Action.MANAGE_CAMPAIGNS)
    campaign = campaign_for(session, user, campaign_id)
    text = hours.strip()
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_HOURS:
        raise ValidationErrors([UserError(N_("Write a whole number of hours from 1 to "
                                             "%(limit)s."), field="reminder_hours",
                                          limit=MAX_HOURS)])
    campaign.reminder_hours = int(text)
    session.flush()
    return campaign


def remind_at(campaign: Campaign) -> datetime:
    return campaign.deadline - timedelta(hours=campaign.reminder_hours)


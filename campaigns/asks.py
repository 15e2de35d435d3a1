"""Asking an association to carry a campaign, and its answer: its own posts, or no with a reason.

The lead asks (Action.MANAGE_CAMPAIGNS); the association's people who write posts are told in
the app and by e-mail (core.notifications, each in their own language) with a link to the ask,
where the campaign's words, link and pictures wait prefilled for each of their accounts. What
they queue are ordinary posts through publisher.posts.create_post, linked to the campaign, so
the coverage counts them; a refusal is kept with its reason and shown in the coverage.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.campaigns import campaign_for, post_text, tagged_link
from campaigns.models import CampaignAsk, CampaignMessageImage, CampaignPost
from core.audit import record
from core.auth import Action, NotAllowed, can, in_scope, require
from core.clock import to_local, utcnow
from core.entered_time import EnteredTime
from core.i18n import N_, UserError, ValidationErrors
from core.notifications import notify
from core.users import Organisation, OrganisationKind, User
from publisher.deliveries import OPEN
from publisher.models import Account, Delivery, DeliveryState, MediaFile, Platform, Post
from publisher.posts import DraftImage, PostDraft, create_post

ASKED = "campaign_ask"
ASK_SUBJECT = N_("Will %(association)s carry the campaign %(campaign)s?")
ASK_BODY = N_("%(lead)s asks %(association)s to publish the campaign %(campaign)s on its "
              "accounts by %(deadline)s. Open the link: the text, link and pictures are ready "
              "for each of your accounts, to adapt and queue. Or say no, with a reason.")
MAX_REASON = 2000


def ask_associations(session: Session, user: User, campaign_id: int, message_id: int,
                     organisation_ids: list[int], now: datetime | None = None
                     ) -> list[CampaignAsk]:
    """Ask each chosen association (again, if it said no before) to carry the message."""
    require(user, Action.MANAGE_CAMPAIGNS)
    now = now or utcnow()
    campaign = campaign_for(session, user, campaign_id)
    message = next((m for m in campaign.messages if m.id == message_id), None)
    errors = []
    if message is None:
        errors.append(UserError(N_("Choose one of the campaign's messages."),
                                field="ask_message_id"))
    chosen = [session.get(Organisation, i) for i in dict.fromkeys(organisation_ids)]
    associations = [o for o in chosen
                    if o is not None and o.kind is OrganisationKind.ASSOCIATION]
    if not associations:
        errors.append(UserError(N_("Choose at least one association."),
                                field="ask_organisation_ids"))
    if errors:
        raise ValidationErrors(errors)
    asks = []
    deadline = f"{to_local(campaign.deadline):%Y-%m-%d %H:%M}"
    for organisation in associations:
        ask = session.scalar(select(CampaignAsk).where(
            CampaignAsk.campaign_id == campaign.id,
            CampaignAsk.organisation_id == organisation.id))
        if ask is None:
            ask = CampaignAsk(campaign_id=campaign.id, organisation_id=organisation.id)
            session.add(ask)
        ask.message_id, ask.asked_by_id, ask.asked_at = message_id, user.id, now
        ask.declined_at = ask.declined_by_id = ask.decline_reason = None
        ask.reminded_at = None  # asked again: reminded again before the deadline
        session.flush()
        notify(session, writers_of(session, organisation.id), ASKED, ASK_SUBJECT, ASK_BODY,
               compose_link(ask.id),
               lead=user.name, association=organisation.name, campaign=campaign.name,
               deadline=deadline)
        record(session, user, "ask", "campaign_ask", ask.id, organisation.id,
               {"campaign_id": campaign.id, "message_id": message_id})
        asks.append(ask)
    return asks


def writers_of(session: Session, organisation_id: int) -> list[User]:
    """The association's active people who write posts: those an ask and its reminder tell."""
    return [u for u in session.scalars(select(User).where(
        User.organisation_id == organisation_id, User.active.is_(True)).order_by(User.id))
        if can(u, Action.COMPOSE)]


def compose_link(ask_id: int) -> str:
    """Where an ask's notice and e-mail lead: the composer, prefilled for the ask."""
    return f"/compose?ask={ask_id}"


def ask_for(session: Session, user: User, ask_id: int) -> CampaignAsk:
    """An ask the user may see: the association's own people and the district's."""
    require(user, Action.VIEW_CAMPAIGNS)
    ask = session.get(CampaignAsk, ask_id)
    if ask is None:
        raise LookupError(ask_id)
    if not in_scope(user, ask.organisation_id):
        raise NotAllowed("ask for another association")
    return ask


def asks_of(session: Session, user: User, campaign_id: int) -> list[CampaignAsk]:
    """The campaign's asks the user may see, by association."""
    campaign_for(session, user, campaign_id)
    return [a for a in session.scalars(
        select(CampaignAsk).join(Organisation, Organisation.id == CampaignAsk.organisation_id)
        .where(CampaignAsk.campaign_id == campaign_id).order_by(Organisation.name))
        if in_scope(user, a.organisation_id)]


@dataclass
class Prefill:
    """What the answer page offers an account: the campaign's words and link for its network."""

    account: Account
    text: str
    link: str | None


def prefilled(session: Session, user: User, ask_id: int) -> list[Prefill]:
    """The association's active accounts, each with the message as its network gets it."""
    ask = ask_for(session, user, ask_id)
    accounts = session.scalars(select(Account).where(
        Account.organisation_id == ask.organisation_id, Account.active.is_(True))
        .order_by(Account.name)).unique()
    if ask.message is None:
        return [Prefill(a, "", None) for a in accounts]
    return [Prefill(a, post_text(ask.message, a.platform),
                    tagged_link(ask.campaign, ask.message, a.platform)) for a in accounts]


@dataclass
class Answer:
    """The association's posts: per chosen account its (adapted) text, one link and one time."""

    texts: dict[int, str]
    link: str = ""
    when: EnteredTime = field(default_factory=EnteredTime)


def answer_with_posts(session: Session, user: User, ask_id: int, answer: Answer,
                      now: datetime | None = None) -> list[Post]:
    """Queue the association's posts for the campaign (one per chosen account, so each keeps
    its network's words), linked to it; refused as a whole when one is wrong."""
    require(user, Action.COMPOSE)
    ask = ask_for(session, user, ask_id)
    now = now or utcnow()
    chosen = {account_id: text for account_id, text in answer.texts.items() if text.strip()}
    if not chosen:
        raise ValidationErrors([UserError(N_("Choose at least one account."),
                                          field="accounts")])
    images = [DraftImage(i.media_id, i.alt_text, f"#{i.position}")
              for i in (ask.message.images if ask.message else [])]
    posts, errors = [], []
    for account_id, text in chosen.items():
        account = session.get(Account, account_id)
        if account is None or account.organisation_id != ask.organisation_id:
            raise NotAllowed("account not of the association asked")
        link = answer.link.strip() or None
        if ask.message is not None and link is None:
            link = tagged_link(ask.campaign, ask.message, account.platform)
        try:
            posts.append(create_post(session, user, PostDraft(
                text=text, link=link, account_ids=[account_id], entered_time=answer.when,
                media=list(images)), now=now))
        except ValidationErrors as refused:
            errors.extend(refused.errors)
    if errors:
        raise ValidationErrors(errors)
    session.add_all([CampaignPost(post_id=p.id, campaign_id=ask.campaign_id,
                                  message_id=ask.message_id, linked_by_id=user.id, linked_at=now)
                     for p in posts])
    ask.declined_at = ask.declined_by_id = ask.decline_reason = None
    session.flush()
    return posts


def decline(session: Session, user: User, ask_id: int, reason: str,
            now: datetime | None = None) -> CampaignAsk:
    """The association says no, and why; the lead sees it in the coverage."""
    require(user, Action.COMPOSE)
    ask = ask_for(session, user, ask_id)
    reason = reason.strip()
    if not reason:
        raise ValidationErrors([UserError(N_("Say why, so the campaign lead knows."),
                                          field="reason")])
    if len(reason) > MAX_REASON:
        raise ValidationErrors([UserError(N_("At most %(limit)s characters."), field="reason",
                                          limit=MAX_REASON)])
    ask.declined_at, ask.declined_by_id, ask.decline_reason = now or utcnow(), user.id, reason
    session.flush()
    record(session, user, "decline", "campaign_ask", ask.id, ask.organisation_id,
           {"campaign_id": ask.campaign_id, "reason": reason})
    return ask


# -- answering in the composer --------------------------------------------------------------------

@dataclass
class ComposePrefill:
    """What the composer shows for an ask: one network's words, tagged link and pictures (with
    their descriptions) for the association's accounts on that network."""

    ask: CampaignAsk
    network: Platform
    networks: list[Platform]  # the networks the association has active accounts on
    text: str
    link: str | None
    account_ids: list[int]  # the association's active accounts on `network`
    allowed_account_ids: list[int]  # every active account of the association
    images: list[CampaignMessageImage]


def compose_prefill(session: Session, user: User, ask_id: int, network: str = ""
                    ) -> ComposePrefill:
    """The ask as the composer offers it (X first, unless another network is chosen or the
    association has no X account). NotAllowed for another association's people."""
    require(user, Action.COMPOSE)
    ask = ask_for(session, user, ask_id)
    accounts = list(session.scalars(select(Account).where(
        Account.organisation_id == ask.organisation_id, Account.active.is_(True))
        .order_by(Account.name, Account.id)).unique())
    networks = [p for p in (Platform.X, Platform.FACEBOOK)
                if any(a.platform is p for a in accounts)]
    chosen = next((p for p in networks if p.value == network), None)
    platform = chosen or (networks[0] if networks else Platform.X)
    message = ask.message
    return ComposePrefill(
        ask=ask, network=platform, networks=networks,
        text=post_text(message, platform) if message else "",
        link=tagged_link(ask.campaign, message, platform) if message else None,
        account_ids=[a.id for a in accounts if a.platform is platform],
        allowed_account_ids=[a.id for a in accounts],
        images=list(message.images) if message else [])


def answer_with_draft(session: Session, user: User, ask_id: int, draft: PostDraft,
                      now: datetime | None = None) -> Post:
    """The composer's post for an ask: queued through create_post (its checks), only on the
    association's own accounts, and linked to the campaign so the coverage counts it."""
    require(user, Action.COMPOSE)
    ask = ask_for(session, user, ask_id)
    now = now or utcnow()
    own = set(session.scalars(select(Account.id).where(
        Account.organisation_id == ask.organisation_id)))
    if any(account_id not in own for account_id in draft.account_ids):
        raise ValidationErrors([UserError(
            N_("This ask is for %(association)s: choose only its accounts."), field="accounts",
            association=ask.organisation.name)])
    post = create_post(session, user, draft, now=now)
    session.add(CampaignPost(post_id=post.id, campaign_id=ask.campaign_id,
                             message_id=ask.message_id, linked_by_id=user.id, linked_at=now))
    ask.declined_at = ask.declined_by_id = ask.decline_reason = None
    session.flush()
    return post


# -- what the lead sees ---------------------------------------------------------------------------

class Answered(enum.StrEnum):
    WAITING = "waiting"  # nothing queued, no no
    DECLINED = "declined"
    PLANNED = "planned"  # a post waiting or going out on one of its accounts
    PUBLISHED = "published"  # out on at least one of its accounts


@dataclass
class AskStatus:
    ask: CampaignAsk
    asked_by: str | None
    answer: Answered


def ask_statuses(session: Session, user: User, campaign_id: int) -> list[AskStatus]:
    """Per ask the user may see: who was asked, by whom, when, reminded when, and the answer
    (published, planned, declined with its reason, or nothing yet), from the posts themselves."""
    found = asks_of(session, user, campaign_id)
    states: dict[int, set[DeliveryState]] = {}
    for organisation_id, state in session.execute(
            select(Account.organisation_id, Delivery.state)
            .join(Delivery, Delivery.account_id == Account.id)
            .join(CampaignPost, CampaignPost.post_id == Delivery.post_id)
            .where(CampaignPost.campaign_id == campaign_id)):
        states.setdefault(organisation_id, set()).add(state)
    askers = {u.id: u.name for u in session.scalars(select(User).where(
        User.id.in_({a.asked_by_id for a in found if a.asked_by_id})))}
    statuses = []
    for ask in found:
        seen = states.get(ask.organisation_id, set())
        if DeliveryState.PUBLISHED in seen:
            answer = Answered.PUBLISHED
        elif seen & OPEN:
            answer = Answered.PLANNED
        elif ask.declined_at is not None:
            answer = Answered.DECLINED
        else:
            answer = Answered.WAITING
        statuses.append(AskStatus(ask, askers.get(ask.asked_by_id or 0), answer))
    return statuses


def ask_image(session: Session, user: User, ask_id: int, media_id: int) -> MediaFile:
    """One of the ask's message's pictures, for whoever may see the ask (the composer's
    preview); LookupError for any other picture."""
    ask = ask_for(session, user, ask_id)
    if ask.message is None or all(i.media_id != media_id for i in ask.message.images):
        raise LookupError(media_id)
    stored = session.get(MediaFile, media_id)
    if stored is None:
        raise LookupError(media_id)
    return stored

"""Creating campaigns and rolling them out: one ordinary post per target account.

Every rule here takes the acting user (core.auth): campaign leads and administrators create and
roll out (Action.MANAGE_CAMPAIGNS); everyone may look (Action.VIEW_CAMPAIGNS), an association's
users only at campaigns that target their association. The posts are made by
publisher.posts.create_post, the same door the composer uses, so a campaign post is checked,
queued, changed and cancelled like any other.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from campaigns.models import (
    Campaign,
    CampaignAsk,
    CampaignMessage,
    CampaignMessageImage,
    CampaignPost,
    CampaignTarget,
    TargetKind,
)
from core.audit import record
from core.auth import Action, NotAllowed, in_scope, require
from core.clock import local_to_utc, to_local, utcnow
from core.entered_time import EnteredTime, parse_date, read_wall_clock
from core.i18n import N_, UserError, ValidationErrors
from core.users import Organisation, OrganisationKind, User
from publisher.deliveries import OPEN
from publisher.media import MAX_IMAGES, X_ALT_TEXT_MAX
from publisher.models import Account, Delivery, DeliveryState, MediaFile, Platform, Post
from publisher.posts import DraftImage, PostDraft, create_post
from publisher.text_rules import X_MAX_WEIGHTED, x_count

MAX_TARGETS = 1000  # a roll-out beyond this is surely a mistake in the targets
NETWORKS = {Platform.X: "X", Platform.FACEBOOK: "Facebook"}


@dataclass
class MessageDraft:
    text_x: str = ""
    text_facebook: str = ""
    hashtags: str = ""
    link: str = ""
    # Pictures already stored by publisher.media, with their descriptions; upload refusals.
    images: list[DraftImage] = field(default_factory=list)
    errors: list[UserError] = field(default_factory=list)


@dataclass
class CampaignDraft:
    """A campaign as typed in the form; dates as ÅÅÅÅ-MM-DD, the deadline a Stockholm time."""

    name: str
    description: str = ""
    starts_on: str = ""
    ends_on: str = ""
    deadline: EnteredTime = field(default_factory=EnteredTime)
    target_kind: str = TargetKind.DISTRICT.value
    association_ids: list[int] = field(default_factory=list)
    slug: str = ""
    utm_source_x: str = "x"
    utm_source_facebook: str = "facebook"
    utm_medium: str = "social"
    message: MessageDraft = field(default_factory=MessageDraft)


def slugify(name: str) -> str:
    """A campaign's short name for links: lower case ASCII words joined by hyphens (å, ä, ö
    become a, a, o, as Swedish addresses write them)."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")[:80] or "kampanj"


def with_utm(link: str, source: str, medium: str, campaign: str) -> str:
    """The link with the campaign's UTM parameters (replacing any utm_ it had); others kept."""
    parts = urlsplit(link)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not k.startswith("utm_")]
    query += [("utm_source", source), ("utm_medium", medium), ("utm_campaign", campaign)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def utm_source(campaign: Campaign, platform: Platform) -> str:
    return campaign.utm_source_x if platform is Platform.X else campaign.utm_source_facebook


def tagged_link(campaign: Campaign, message: CampaignMessage, platform: Platform) -> str | None:
    if not message.link:
        return None
    return with_utm(message.link, utm_source(campaign, platform), campaign.utm_medium,
                    campaign.utm_campaign)


def post_text(message: CampaignMessage, platform: Platform) -> str:
    """The message's words for a network, its hashtags on a line of their own."""
    text = (message.text_x if platform is Platform.X else message.text_facebook).strip()
    tags = " ".join(("#" + t.lstrip("#")) for t in message.hashtags.split() if t.lstrip("#"))
    return f"{text}\n\n{tags}" if tags else text


@dataclass
class Preview:
    platform: Platform
    text: str
    link: str | None
    x_count: int | None  # X's weighted count (links as 23), for X only


def preview(campaign: Campaign, message: CampaignMessage) -> list[Preview]:
    """What each network's post will say, link with UTM included, as the roll-out makes it."""
    shown = []
    for platform in (Platform.X, Platform.FACEBOOK):
        text, link = post_text(message, platform), tagged_link(campaign, message, platform)
        count = x_count(text, link) if platform is Platform.X else None
        shown.append(Preview(platform, text, link, count))
    return shown


# -- who sees what --------------------------------------------------------------------------------

def targets_user(session: Session, campaign: Campaign, user: User) -> bool:
    """Whether the campaign is aimed at the user's organisation (district users see all)."""
    org = user.organisation
    if org.kind is OrganisationKind.DISTRICT:
        return True
    if campaign.target_kind is TargetKind.ALL:
        return True
    if session.scalar(select(CampaignAsk.id).where(CampaignAsk.campaign_id == campaign.id,
                                                  CampaignAsk.organisation_id == org.id)):
        return True  # asked to carry it, whatever the targets
    if campaign.target_kind is TargetKind.DISTRICT:
        return False
    return any(t.organisation_id == org.id for t in campaign.targets)


def campaigns_for(session: Session, user: User) -> list[Campaign]:
    """The campaigns the user may see, the latest deadline first."""
    require(user, Action.VIEW_CAMPAIGNS)
    query = select(Campaign).order_by(Campaign.deadline.desc(), Campaign.id.desc())
    if user.organisation.kind is not OrganisationKind.DISTRICT:
        query = query.where(
            (Campaign.target_kind == TargetKind.ALL)
            | exists().where(CampaignAsk.campaign_id == Campaign.id,
                             CampaignAsk.organisation_id == user.organisation_id)
            | ((Campaign.target_kind == TargetKind.ASSOCIATIONS)
               & exists().where(CampaignTarget.campaign_id == Campaign.id,
                                CampaignTarget.organisation_id == user.organisation_id)))
    return list(session.scalars(query))


def campaign_for(session: Session, user: User, campaign_id: int) -> Campaign:
    """One campaign the user may see: LookupError (404) if there is none, NotAllowed if it is not
    aimed at the user's association."""
    require(user, Action.VIEW_CAMPAIGNS)
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise LookupError(campaign_id)
    if not targets_user(session, campaign, user):
        raise NotAllowed("campaign not aimed at your organisation")
    return campaign


def may_manage(user: User) -> bool:
    try:
        require(user, Action.MANAGE_CAMPAIGNS)
    except NotAllowed:
        return False
    return True


def associations(session: Session) -> list[Organisation]:
    return list(session.scalars(select(Organisation).where(
        Organisation.kind == OrganisationKind.ASSOCIATION).order_by(Organisation.name)))


def target_accounts(session: Session, campaign: Campaign) -> list[Account]:
    """The active accounts the campaign aims at, by organisation and name."""
    query = (select(Account).join(Organisation, Organisation.id == Account.organisation_id)
             .where(Account.active.is_(True)).order_by(Organisation.name, Account.name,
                                                       Account.id))
    if campaign.target_kind is TargetKind.DISTRICT:
        query = query.where(Organisation.kind == OrganisationKind.DISTRICT)
    elif campaign.target_kind is TargetKind.ASSOCIATIONS:
        query = query.where(Account.organisation_id.in_(
            select(CampaignTarget.organisation_id)
            .where(CampaignTarget.campaign_id == campaign.id)))
    return list(session.scalars(query).unique())


# -- creating -------------------------------------------------------------------------------------

def _check_message(session: Session, draft: MessageDraft, errors: list[UserError]
                   ) -> MessageDraft:
    """A message's words, link and pictures as every network will take them (the sizes of
    the pictures are checked again, per network, when the posts are made)."""
    errors.extend(draft.errors)
    if len(draft.images) > MAX_IMAGES:
        errors.append(UserError(N_("At most %(limit)s images per post."), field="media",
                                limit=MAX_IMAGES))
    for number, image in enumerate(draft.images, 1):
        name = image.name or f"#{number}"
        if session.get(MediaFile, image.media_id) is None:
            errors.append(UserError(N_("Image %(name)s could not be found: choose it again."),
                                    field="media", name=name))
        if len(image.alt_text.strip()) > X_ALT_TEXT_MAX:
            errors.append(UserError(
                N_("The description of %(name)s is too long for X: %(count)s of %(limit)s "
                   "characters."), field="media", name=name, count=len(image.alt_text.strip()),
                limit=X_ALT_TEXT_MAX))
    text_x, text_fb = draft.text_x.strip(), draft.text_facebook.strip()
    link = draft.link.strip()
    if not text_x and not text_fb:
        errors.append(UserError(N_("Write the message's text for X and for Facebook."),
                                field="text_x"))
    parts = urlsplit(link)
    if link and (parts.scheme not in {"http", "https"} or not parts.netloc or " " in link):
        errors.append(UserError(N_("The link must be a full web address starting with https:// "
                                   "or http://."), field="link"))
    return MessageDraft(text_x or text_fb, text_fb or text_x, draft.hashtags.strip(), link,
                        [DraftImage(i.media_id, i.alt_text.strip(), i.name)
                         for i in draft.images])


def _images(checked: MessageDraft) -> list[CampaignMessageImage]:
    return [CampaignMessageImage(position=n, media_id=image.media_id, alt_text=image.alt_text)
            for n, image in enumerate(checked.images, 1)]


def _x_too_long(campaign: Campaign, message: CampaignMessage) -> UserError | None:
    text = post_text(message, Platform.X)
    count = x_count(text, tagged_link(campaign, message, Platform.X))
    if count > X_MAX_WEIGHTED:
        return UserError(N_("The X text is too long with its hashtags and link: %(count)s of "
                            "%(limit)s characters (the link counts as 23). Shorten it."),
                         field="text_x", count=count, limit=X_MAX_WEIGHTED)
    return None


def create_campaign(session: Session, user: User, draft: CampaignDraft,
                    now: datetime | None = None) -> Campaign:
    """A new campaign with its first message; every problem reported at once."""
    require(user, Action.MANAGE_CAMPAIGNS)
    now = now or utcnow()
    errors: list[UserError] = []
    name = draft.name.strip()
    if not name:
        errors.append(UserError(N_("Give the campaign a name."), field="name"))
    slug = slugify(draft.slug.strip() or name)
    if session.scalar(select(Campaign.id).where(Campaign.slug == slug)) is not None:
        errors.append(UserError(N_("Another campaign already uses the short name %(slug)s: "
                                   "choose another."), field="slug", slug=slug))
    starts, ends = _date(draft.starts_on, "starts_on", errors), _date(draft.ends_on, "ends_on",
                                                                         errors)
    if starts and ends and ends < starts:
        errors.append(UserError(N_("The campaign cannot end before it starts."),
                                field="ends_on"))
    deadline_local = read_wall_clock(draft.deadline, "deadline", errors)
    deadline = local_to_utc(deadline_local) if deadline_local else None
    try:
        kind = TargetKind(draft.target_kind)
    except ValueError:
        kind = TargetKind.DISTRICT
        errors.append(UserError(N_("Choose which accounts the campaign is for."),
                                field="target_kind"))
    chosen = []
    if kind is TargetKind.ASSOCIATIONS:
        known = {o.id for o in associations(session)}
        chosen = [i for i in dict.fromkeys(draft.association_ids) if i in known]
        if not chosen:
            errors.append(UserError(N_("Choose at least one association."),
                                    field="association_ids"))
    utm = {k: (getattr(draft, k).strip() or default) for k, default in
           (("utm_source_x", "x"), ("utm_source_facebook", "facebook"),
            ("utm_medium", "social"))}
    message = _check_message(session, draft.message, errors)
    campaign = Campaign(name=name, slug=slug, description=draft.description.strip(),
                        starts_on=starts or now.date(), ends_on=ends or now.date(),
                        deadline=deadline or now, target_kind=kind, utm_campaign=slug,
                        created_by_id=user.id, created_at=now, **utm)
    campaign.targets = [CampaignTarget(organisation_id=i) for i in chosen]
    first = CampaignMessage(position=1, text_x=message.text_x, text_facebook=message.text_facebook,
                            hashtags=message.hashtags, link=message.link or None,
                            images=_images(message))
    campaign.messages = [first]
    if message.text_x and (problem := _x_too_long(campaign, first)):
        errors.append(problem)
    if errors:
        raise ValidationErrors(errors)
    session.add(campaign)
    session.flush()
    record(session, user, "create", "campaign", campaign.id, changes={
        "name": name, "slug": slug, "target_kind": kind, "associations": chosen})
    return campaign


def add_message(session: Session, user: User, campaign_id: int, draft: MessageDraft
                ) -> CampaignMessage:
    require(user, Action.MANAGE_CAMPAIGNS)
    campaign = campaign_for(session, user, campaign_id)
    errors: list[UserError] = []
    checked = _check_message(session, draft, errors)
    message = CampaignMessage(position=len(campaign.messages) + 1, text_x=checked.text_x,
                              text_facebook=checked.text_facebook, hashtags=checked.hashtags,
                              link=checked.link or None, images=_images(checked))
    if checked.text_x and (problem := _x_too_long(campaign, message)):
        errors.append(problem)
    if errors:
        raise ValidationErrors(errors)
    campaign.messages.append(message)
    session.flush()
    record(session, user, "add_message", "campaign", campaign.id, changes={
        "message_id": message.id, "text_x": message.text_x, "link": message.link})
    return message


def _date(text: str, field_name: str, errors: list[UserError]) -> date | None:
    day = parse_date(text or "")
    if day is None:
        errors.append(UserError(N_("Write the date as YYYY-MM-DD, e.g. 2026-05-04."),
                                field=field_name))
    return day


_UTM_VALUE = re.compile(r"[A-Za-z0-9._~-]{1,100}")


@dataclass
class UtmDraft:
    source_x: str
    source_facebook: str
    medium: str
    campaign: str


def set_utm(session: Session, user: User, campaign_id: int, draft: UtmDraft) -> Campaign:
    """Change the UTM parameters the campaign's links get from now on (posts already queued
    keep theirs: they are ordinary posts, changed in the composer). Refused when a message's
    X text would no longer fit."""
    require(user, Action.MANAGE_CAMPAIGNS)
    campaign = campaign_for(session, user, campaign_id)
    values = {"utm_source_x": draft.source_x.strip(),
              "utm_source_facebook": draft.source_facebook.strip(),
              "utm_medium": draft.medium.strip(), "utm_campaign": draft.campaign.strip()}
    errors = [UserError(N_("Use letters a–z, digits, dots, hyphens or underscores, without "
                           "spaces."), field=name)
              for name, value in values.items() if not _UTM_VALUE.fullmatch(value)]
    if errors:
        raise ValidationErrors(errors)
    for name, value in values.items():
        setattr(campaign, name, value)
    for message in campaign.messages:
        if problem := _x_too_long(campaign, message):
            problem.field = "utm_campaign"
            errors.append(problem)
    if errors:
        raise ValidationErrors(errors)
    session.flush()
    record(session, user, "update", "campaign", campaign.id, changes=values)
    return campaign


# -- rolling out ----------------------------------------------------------------------------------

@dataclass
class RolloutDraft:
    message_id: int
    window_start: EnteredTime
    window_end: EnteredTime


@dataclass
class Rollout:
    posts: list[Post]
    skipped: int  # target accounts that already carry the campaign (a post under way or done)


def spread(start: datetime, end: datetime, count: int) -> list[datetime]:
    """`count` moments from `start` towards `end`, evenly apart (the first at `start`), whole
    seconds: deterministic, so the same roll-out always gets the same times, and twenty Pages
    given an hour post three minutes apart, not in the same minute."""
    if count <= 0:
        return []
    step = (end - start) / count
    return [(start + step * n).replace(microsecond=0) for n in range(count)]


def covered_accounts(session: Session, campaign_id: int) -> set[int]:
    """Accounts on which one of the campaign's posts is waiting, going out or out."""
    return set(session.scalars(
        select(Delivery.account_id).join(CampaignPost, CampaignPost.post_id == Delivery.post_id)
        .where(CampaignPost.campaign_id == campaign_id,
               Delivery.state.in_(OPEN | {DeliveryState.PUBLISHED}))))


def rollout(session: Session, user: User, campaign_id: int, draft: RolloutDraft,
            now: datetime | None = None) -> Rollout:
    """One post per target account not yet carrying the campaign, spread over the window the
    lead chose (Stockholm time), each linked to the campaign and message. Nothing is made if
    anything is wrong (a message too long for X after its UTM link, a window in the past)."""
    require(user, Action.MANAGE_CAMPAIGNS)
    now = now or utcnow()
    campaign = campaign_for(session, user, campaign_id)
    message = next((m for m in campaign.messages if m.id == draft.message_id), None)
    if message is None:
        raise ValidationErrors([UserError(N_("Choose one of the campaign's messages."),
                                          field="message_id")])
    errors: list[UserError] = []
    start_local = read_wall_clock(draft.window_start, "window_start", errors)
    end_local = read_wall_clock(draft.window_end, "window_end", errors)
    start = local_to_utc(start_local) if start_local else None
    end = local_to_utc(end_local) if end_local else None
    if start and end and end < start:
        errors.append(UserError(N_("The window must end after it starts."), field="window_end"))
    if start and start < now - timedelta(minutes=2):
        errors.append(UserError(N_("The window has already begun: choose a start in the "
                                   "future."), field="window_start"))
    if problem := _x_too_long(campaign, message):
        problem.field = "message_id"
        errors.append(problem)
    accounts = [a for a in target_accounts(session, campaign)
                if in_scope(user, a.organisation_id)]
    covered = covered_accounts(session, campaign.id)
    todo = [a for a in accounts if a.id not in covered]
    if not todo:
        errors.append(UserError(N_("Every target account already carries this campaign."),
                                field="message_id"))
    if len(todo) > MAX_TARGETS:
        errors.append(UserError(N_("At most %(limit)s accounts in one roll-out."),
                                field="message_id", limit=MAX_TARGETS))
    if errors:
        raise ValidationErrors(errors)
    assert start is not None and end is not None
    drafts = {p: (post_text(message, p), tagged_link(campaign, message, p)) for p in NETWORKS}
    images = [DraftImage(i.media_id, i.alt_text, f"#{i.position}") for i in message.images]
    posts = []
    for account, due in zip(todo, spread(start, end, len(todo)), strict=True):
        text, link = drafts[account.platform]
        local = to_local(due)
        post = create_post(session, user, PostDraft(
            text=text, link=link, account_ids=[account.id], media=list(images),
            scheduled_local=local.replace(tzinfo=None, fold=local.fold)), now=now)
        posts.append(post)
    session.add_all([CampaignPost(post_id=p.id, campaign_id=campaign.id, message_id=message.id,
                                  linked_by_id=user.id, linked_at=now) for p in posts])
    session.flush()
    record(session, user, "rollout", "campaign", campaign.id, changes={
        "message_id": message.id, "posts": [p.id for p in posts]})
    return Rollout(posts, len(accounts) - len(todo))


# Nine digits at most: row ids are 32-bit integers on PostgreSQL, so more is no post at all.
_POST_REFERENCE = re.compile(
    r"(?:/posts/(\d{1,9})\b)|(?:/deliveries/(\d{1,9})\b)|^#?(\d{1,9})$")


def post_referred_to(session: Session, reference: str) -> int | None:
    """The post a person points at: its number, its change page (…/posts/42/edit) or one of its
    deliveries' pages (…/deliveries/17), as copied from the address bar."""
    match = _POST_REFERENCE.search(reference.strip())
    if match is None:
        return None
    post_number, delivery_number, number = match.groups()
    if delivery_number is not None:
        return session.scalar(select(Delivery.post_id).where(
            Delivery.id == int(delivery_number)))
    return int(post_number or number)


def link_post(session: Session, user: User, campaign_id: int, reference: str,
              now: datetime | None = None) -> CampaignPost:
    """A post written outside the campaign counts for it from now on (its deliveries fill the
    cells of their accounts). A post already linked to another campaign moves to this one."""
    require(user, Action.MANAGE_CAMPAIGNS)
    campaign = campaign_for(session, user, campaign_id)
    post_id = post_referred_to(session, reference)
    post = session.get(Post, post_id) if post_id is not None else None
    if post is None:
        raise ValidationErrors([UserError(
            N_("No post found there: paste the address of the post's page in Megafon, or give "
               "its number."), field="post_id")])
    for delivery in post.deliveries:
        require(user, Action.MANAGE_CAMPAIGNS, delivery.account.organisation_id)
    link = session.get(CampaignPost, post.id)
    if link is None:
        link = CampaignPost(post_id=post.id, campaign_id=campaign.id)
        session.add(link)
    link.campaign_id, link.linked_by_id, link.linked_at = campaign.id, user.id, now or utcnow()
    session.flush()
    record(session, user, "link_post", "campaign", campaign.id, changes={"post_id": post.id})
    return link


def campaign_post_ids(session: Session, user: User, campaign_id: int) -> list[int]:
    """The posts that carry a campaign the user may see (the calendar's campaign filter)."""
    campaign_for(session, user, campaign_id)
    return list(session.scalars(select(CampaignPost.post_id)
                                .where(CampaignPost.campaign_id == campaign_id)))

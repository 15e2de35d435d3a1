"""Events: meetings, lectures, courses and conferences, announced by ordinary posts and published
in an iCalendar feed.

Who may do what (core.auth): everyone sees every event (Action.VIEW_EVENTS; members-only events
too, as every user is a member; the public feed shows only public ones). Action.MANAGE_EVENTS
(administrators, campaign leads and the comms team) creates, changes, announces and cancels,
narrowed by the organiser: the district's users reach every event, an association's users only
the events their own association organises (and create events only in its name).

How an event becomes posts: `announce` makes one ordinary post per chosen account and moment
(the week before, the day before, the same morning, each at the hour chosen, e.g. 08:00
Stockholm time) through publisher.posts.create_post, the composer's own door, from the
announcement templates; moments already past are skipped. `event_announcements` links each post
to the event. The comms team sees and changes them as any other post. When the event moves,
`edit_event` moves the announcements that are still waiting to the same wall-clock times before
the new start (computed in Europe/Stockholm, then converted to UTC, so a move across a change of
summer time keeps 08:00 at 08:00) through publisher.posts.edit_post; their words follow when
nobody changed them. One whose new moment has passed, or comes after the new start, is
cancelled. `cancel_event` cancels the
waiting announcements (publisher.deliveries.cancel; published ones stay) and
`post_cancellation` queues a post that says so.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from urllib.parse import urlsplit

from babel.dates import format_datetime
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.event_models import Announcement, EventAnnouncement, EventFeedToken, EventTemplate
from campaigns.models import Campaign, Event, EventKind, Municipality
from core.audit import record
from core.auth import Action, NotAllowed, can, in_scope, organisations_for, require
from core.clock import STOCKHOLM, LocalTimeError, local_to_utc, to_local, utcnow
from core.entered_time import EnteredTime, parse_time, read_wall_clock
from core.i18n import N_, UserError, ValidationErrors
from core.text import CONTROL_MESSAGE, has_control_characters
from core.users import Organisation, OrganisationKind, User
from publisher.deliveries import UNDER_WAY, WAITING, cancel
from publisher.models import Delivery, DeliveryState, Post
from publisher.posts import DraftImage, PostDraft, create_post, edit_post, post_for

LANGUAGES = ("sv", "en")
ANNOUNCEMENTS = (Announcement.WEEK, Announcement.DAY, Announcement.MORNING)
DAYS_BEFORE = {Announcement.WEEK: 7, Announcement.DAY: 1, Announcement.MORNING: 0}
PLACEHOLDERS = ("{title}", "{when}", "{place}", "{link}")
# Announcing hours stay clear of the night, so no announcement falls in a DST change's hour.
EARLIEST_HOUR, LATEST_HOUR = time(5, 0), time(23, 0)
PAST_MARGIN = timedelta(minutes=2)  # an announcement this close is skipped, not queued late

DEFAULT_TEMPLATES: dict[str, dict[Announcement, str]] = {
    "sv": {
        Announcement.WEEK: "Om en vecka: {title}, {when}, {place}. Välkommen! {link}",
        Announcement.DAY: "I morgon: {title}, {when}, {place}. Välkommen! {link}",
        Announcement.MORNING: "I dag: {title}, {when}, {place}. Vi ses! {link}",
        Announcement.CANCELLATION: "Inställt: {title} ({when}, {place}) blir inte av. {link}",
    },
    "en": {
        Announcement.WEEK: "In a week: {title}, {when}, {place}. Welcome! {link}",
        Announcement.DAY: "Tomorrow: {title}, {when}, {place}. Welcome! {link}",
        Announcement.MORNING: "Today: {title}, {when}, {place}. See you there! {link}",
        Announcement.CANCELLATION: "Cancelled: {title} ({when}, {place}) will not take "
                                   "place. {link}",
    },
}


@dataclass
class EventDraft:
    """An event as typed in the form; start and end are Stockholm times."""

    title: str
    organiser_id: int
    starts: EnteredTime
    ends: EnteredTime
    kind: str = EventKind.MEETING.value
    description: str = ""
    place: str = ""
    municipality_id: int | None = None
    partners: str = ""
    public: bool = True
    link: str = ""
    campaign_id: int | None = None


@dataclass
class AnnounceDraft:
    account_ids: list[int]
    which: list[str] = field(default_factory=lambda: [a.value for a in ANNOUNCEMENTS])
    hour: str = "08:00"  # Stockholm time, for every announcement
    language: str = "sv"


@dataclass
class Announced:
    posts: list[Post]
    skipped: list[Announcement]  # moments already past


# -- reading ----------------------------------------------------------------------------------

def may_manage(user: User, event: Event | None = None) -> bool:
    """Whether the user may change this event (or, without one, create events at all)."""
    if not can(user, Action.MANAGE_EVENTS):
        return False
    return event is None or in_scope(user, event.organiser_id)


def events_for(session: Session, user: User, *, municipality_id: int | None = None,
               past: bool = False, now: datetime | None = None) -> list[Event]:
    """Upcoming events (those not yet over), soonest first; or past ones, latest first."""
    require(user, Action.VIEW_EVENTS)
    now = now or utcnow()
    query = select(Event)
    if municipality_id is not None:
        query = query.where(Event.municipality_id == municipality_id)
    if past:
        query = query.where(Event.ends_at < now).order_by(Event.starts_at.desc(), Event.id.desc())
    else:
        query = query.where(Event.ends_at >= now).order_by(Event.starts_at, Event.id)
    return list(session.scalars(query.limit(500)))


def event_for(session: Session, user: User, event_id: int) -> Event:
    """One event: LookupError (404) when there is none."""
    require(user, Action.VIEW_EVENTS)
    event = session.get(Event, event_id)
    if event is None:
        raise LookupError(event_id)
    return event


def _managed(session: Session, user: User, event_id: int) -> Event:
    require(user, Action.MANAGE_EVENTS)
    event = event_for(session, user, event_id)
    require(user, Action.MANAGE_EVENTS, event.organiser_id)
    return event


def municipalities(session: Session) -> list[Municipality]:
    return list(session.scalars(select(Municipality).order_by(Municipality.name)))


def organisers(session: Session, user: User) -> list[Organisation]:
    """The organisations the user may name as organiser: the district and every association
    for the district's users, their own association for an association's."""
    return organisations_for(session, user)


def campaigns(session: Session) -> list[Campaign]:
    return list(session.scalars(select(Campaign).order_by(Campaign.deadline.desc())))


def announcements_of(session: Session, event_id: int) -> list[tuple[EventAnnouncement, Post]]:
    return [(link, post) for link, post in session.execute(
        select(EventAnnouncement, Post).join(Post, Post.id == EventAnnouncement.post_id)
        .where(EventAnnouncement.event_id == event_id)
        .order_by(Post.scheduled_at, Post.id))]


# -- creating and changing ---------------------------------------------------------------------

def _check(session: Session, user: User, draft: EventDraft) -> dict[str, object]:
    """The draft's values, or every problem at once."""
    texts = [draft.title, draft.description, draft.place, draft.partners, draft.link]
    errors: list[UserError] = []
    if has_control_characters(texts):
        raise ValidationErrors([UserError(CONTROL_MESSAGE, field="title")])
    title = draft.title.strip()
    if not title:
        errors.append(UserError(N_("Give the event a title."), field="title"))
    elif len(title) > 200:
        errors.append(UserError(N_("The title can have at most %(limit)s characters."),
                                field="title", limit=200))
    try:
        kind = EventKind(draft.kind)
    except ValueError:
        kind = EventKind.OTHER
        errors.append(UserError(N_("Choose what kind of event it is."), field="kind"))
    if session.get(Organisation, draft.organiser_id) is None:
        errors.append(UserError(N_("Choose who organises the event."), field="organiser_id"))
    else:
        require(user, Action.MANAGE_EVENTS, draft.organiser_id)
    if draft.municipality_id is not None and session.get(Municipality,
                                                         draft.municipality_id) is None:
        errors.append(UserError(N_("Choose one of the municipalities."), field="municipality_id"))
    if draft.campaign_id is not None and session.get(Campaign, draft.campaign_id) is None:
        errors.append(UserError(N_("Choose one of the campaigns."), field="campaign_id"))
    link = draft.link.strip()
    parts = urlsplit(link)
    if link and (parts.scheme not in {"http", "https"} or not parts.netloc or " " in link
                 or len(link) > 2000):
        errors.append(UserError(N_("The link must be a full web address starting with https:// "
                                   "or http://."), field="link"))
    if len(draft.place.strip()) > 300:
        errors.append(UserError(N_("The place can have at most %(limit)s characters."),
                                field="place", limit=300))
    start_local = read_wall_clock(draft.starts, "starts", errors, ask_when_doubled=False)
    end_local = read_wall_clock(draft.ends, "ends", errors, ask_when_doubled=False)
    starts = local_to_utc(start_local) if start_local else None
    ends = local_to_utc(end_local) if end_local else None
    if starts and ends and ends <= starts:
        errors.append(UserError(N_("The event must end after it starts."), field="ends"))
    if errors:
        raise ValidationErrors(errors)
    return {"title": title, "kind": kind, "description": draft.description.strip(),
            "place": draft.place.strip(), "municipality_id": draft.municipality_id,
            "starts_at": starts, "ends_at": ends, "organiser_id": draft.organiser_id,
            "partners": draft.partners.strip(), "public": draft.public, "link": link or None,
            "campaign_id": draft.campaign_id}


def create_event(session: Session, user: User, draft: EventDraft,
                 now: datetime | None = None) -> Event:
    require(user, Action.MANAGE_EVENTS)
    now = now or utcnow()
    values = _check(session, user, draft)
    event = Event(**values, created_by_id=user.id, created_at=now, updated_at=now, sequence=0)
    session.add(event)
    session.flush()
    record(session, user, "create", "event", event.id, event.organiser_id,
           {"title": event.title, "starts_at": event.starts_at})
    return event


def edit_event(session: Session, user: User, event_id: int, draft: EventDraft,
               now: datetime | None = None) -> Event:
    """Change an event (a subscriber's calendar sees a new SEQUENCE); when its start moves,
    its waiting announcements move with it."""
    now = now or utcnow()
    event = _managed(session, user, event_id)
    if event.cancelled_at is not None:
        raise ValidationErrors([UserError(N_("This event is cancelled and can no longer be "
                                             "changed."), field="title")])
    values = _check(session, user, draft)
    before = _Rendered.of(event)
    changes = {key: [getattr(event, key), value] for key, value in values.items()
               if getattr(event, key) != value}
    if not changes:
        return event
    record(session, user, "update", "event", event.id, event.organiser_id, changes)
    for key, value in values.items():
        setattr(event, key, value)
    event.sequence += 1
    event.updated_at = now
    session.flush()
    _follow(session, user, event, before, now)
    return event


def cancel_event(session: Session, user: User, event_id: int,
                 now: datetime | None = None) -> list[int]:
    """The event is cancelled (STATUS:CANCELLED in the calendars); its announcements that have
    not gone out are cancelled, those published stay. Returns the cancelled deliveries."""
    now = now or utcnow()
    event = _managed(session, user, event_id)
    if event.cancelled_at is not None:
        return []
    event.cancelled_at, event.cancelled_by_id = now, user.id
    record(session, user, "cancel", "event", event.id, event.organiser_id, {"title": event.title})
    event.sequence += 1
    event.updated_at = now
    cancelled = []
    for link, post in announcements_of(session, event.id):
        if link.which is Announcement.CANCELLATION:
            continue
        for delivery in post.deliveries:
            if delivery.state in WAITING and cancel(session, delivery.id, user.name):
                cancelled.append(delivery.id)
    session.flush()
    return cancelled


# -- announcing ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Rendered:
    """What an event's announcement texts are made of, kept to see whether a post's words are
    still the template's (and may follow a change) or a person's own."""

    title: str
    starts_at: datetime
    place: str
    link: str | None

    @classmethod
    def of(cls, event: Event) -> _Rendered:
        return cls(event.title, event.starts_at, event.place, event.link)


def when_text(moment: datetime, language: str) -> str:
    """The start as announcements say it, in Stockholm time: "lördag 7 november kl. 18:00"."""
    local = to_local(moment)
    if language == "sv":
        return format_datetime(local, "EEEE d MMMM 'kl.' HH:mm", tzinfo=STOCKHOLM, locale="sv")
    return format_datetime(local, "EEEE d MMMM 'at' HH:mm", tzinfo=STOCKHOLM, locale="en")


def template_texts(session: Session, language: str) -> dict[Announcement, str]:
    texts = dict(DEFAULT_TEMPLATES.get(language, DEFAULT_TEMPLATES["sv"]))
    for row in session.scalars(select(EventTemplate).where(EventTemplate.language == language)):
        texts[row.which] = row.text
    return texts


def render(template: str, event: _Rendered | Event, language: str) -> str:
    values = {"title": event.title, "when": when_text(event.starts_at, language),
              "place": event.place, "link": event.link or ""}
    text = template
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return re.sub(r"[ \t]{2,}", " ", text).strip()


def save_templates(session: Session, user: User, language: str,
                   texts: dict[Announcement, str], now: datetime | None = None) -> None:
    """A lead's own texts for one language; an empty text goes back to the default."""
    require(user, Action.MANAGE_EVENTS)
    if not may_edit_templates(user):
        raise NotAllowed("only the district's users change the templates")
    if language not in LANGUAGES:
        raise LookupError(language)
    errors = []
    for which, text in texts.items():
        if has_control_characters([text]):
            errors.append(UserError(CONTROL_MESSAGE, field=which.value))
        elif len(text) > 2000:
            errors.append(UserError(N_("The text can have at most %(limit)s characters."),
                                    field=which.value, limit=2000))
        elif text.strip() and "{title}" not in text:
            errors.append(UserError(N_("Keep {title} in the text, where the event's title "
                                       "goes."), field=which.value))
    if errors:
        raise ValidationErrors(errors)
    rows = {r.which: r for r in session.scalars(
        select(EventTemplate).where(EventTemplate.language == language))}
    for which, text in texts.items():
        row = rows.get(which)
        if not text.strip() or text.strip() == DEFAULT_TEMPLATES[language][which]:
            if row is not None:
                session.delete(row)
            continue
        if row is None:
            row = EventTemplate(language=language, which=which)
            session.add(row)
        row.text, row.updated_by_id, row.updated_at = text.strip(), user.id, now or utcnow()
    session.flush()


def may_edit_templates(user: User) -> bool:
    return can(user, Action.MANAGE_EVENTS) and user.organisation.kind is OrganisationKind.DISTRICT


def announcement_moment(starts_at: datetime, which: Announcement, hour: time) -> datetime:
    """When an announcement goes out (UTC): the chosen hour on its day before the start, as the
    wall clock in Stockholm shows it that day (the days are counted in Stockholm, so a week
    across a change of summer time is still 08:00 to 08:00)."""
    day: date = to_local(starts_at).date() - timedelta(days=DAYS_BEFORE[which])
    return local_to_utc(datetime.combine(day, hour))


def _hour(text: str) -> time:
    clock = parse_time(text or "")
    if clock is None or not EARLIEST_HOUR <= clock <= LATEST_HOUR:
        raise ValidationErrors([UserError(
            N_("Give the hour as HH:MM between %(first)s and %(last)s, e.g. 08:00."),
            field="hour", first="05:00", last="23:00")])
    return clock


def _local(moment: datetime) -> datetime:
    local = to_local(moment)
    return local.replace(tzinfo=None, fold=local.fold)


def announce(session: Session, user: User, event_id: int, draft: AnnounceDraft,
             now: datetime | None = None) -> Announced:
    """One post per chosen account and announcement, at its moment; moments past are skipped.
    Refused as a whole when anything is wrong (no account, a text too long for X)."""
    now = now or utcnow()
    event = _managed(session, user, event_id)
    require(user, Action.COMPOSE)
    if event.cancelled_at is not None:
        raise ValidationErrors([UserError(N_("This event is cancelled: it is not announced."),
                                          field="which")])
    hour = _hour(draft.hour)
    language = draft.language if draft.language in LANGUAGES else "sv"
    chosen = [a for a in ANNOUNCEMENTS if a.value in draft.which]
    if not chosen:
        raise ValidationErrors([UserError(N_("Choose at least one announcement."),
                                          field="which")])
    if not draft.account_ids:
        raise ValidationErrors([UserError(N_("Choose at least one account."),
                                          field="accounts")])
    texts = template_texts(session, language)
    posts, skipped = [], []
    for which in chosen:
        due = announcement_moment(event.starts_at, which, hour)
        if due < now + PAST_MARGIN or due >= event.starts_at:
            skipped.append(which)
            continue
        post = create_post(session, user, PostDraft(
            text=render(texts[which], event, language), account_ids=list(draft.account_ids),
            scheduled_local=_local(due)), now=now)
        session.add(EventAnnouncement(post_id=post.id, event_id=event.id, which=which,
                                      created_at=now))
        posts.append(post)
    if not posts:
        raise ValidationErrors([UserError(N_("Every chosen announcement's time has already "
                                             "passed."), field="which")])
    session.flush()
    return Announced(posts, skipped)


def _follow(session: Session, user: User, event: Event, before: _Rendered,
            now: datetime) -> None:
    """Bring the event's waiting announcements to its new start (and words, where nobody
    changed them), through publisher.posts.edit_post; one whose moment has passed is
    cancelled. Announcements on accounts the editor does not reach are changed in their
    author's name: they follow the event whoever moves it."""
    moved = event.starts_at != before.starts_at
    after = _Rendered.of(event)
    for link, post in announcements_of(session, event.id):
        if link.which is Announcement.CANCELLATION:
            continue
        waiting = [d for d in post.deliveries if d.state in WAITING]
        if not waiting or any(d.state in UNDER_WAY | {DeliveryState.PUBLISHED}
                              for d in post.deliveries):
            continue
        actor = user
        try:
            post_for(session, user, post.id)
            if not can(user, Action.COMPOSE):
                raise NotAllowed("may not compose")
        except NotAllowed:
            actor = session.get(User, post.author_id) or user
        text = post.text
        for language in LANGUAGES:
            template = template_texts(session, language)[link.which]
            if text == render(template, before, language):
                text = render(template, after, language)
                break
        old_local = to_local(post.scheduled_at) if post.scheduled_at else None
        due = post.scheduled_at
        if moved and old_local is not None:
            hour = old_local.time().replace(second=0, microsecond=0)
            try:
                due = announcement_moment(event.starts_at, link.which, hour)
            except LocalTimeError:
                due = announcement_moment(event.starts_at, link.which, time(8, 0))
        if due is not None and (due < now + PAST_MARGIN or due >= event.starts_at):
            for delivery in waiting:
                cancel(session, delivery.id, user.name)
            continue
        if text == post.text and due == post.scheduled_at:
            continue
        edit_post(session, actor, post.id, PostDraft(
            text=text, link=post.link, account_ids=[d.account_id for d in waiting],
            scheduled_local=_local(due) if due is not None else None,
            media=[DraftImage(m.media_id, m.alt_text, f"#{m.position}") for m in post.media],
            thread=[p.text for p in post.parts], first_comment=post.first_comment), now=now)


def post_cancellation(session: Session, user: User, event_id: int, account_ids: list[int],
                      language: str = "sv", now: datetime | None = None) -> Post:
    """A post that says the event is cancelled, as soon as possible, on the chosen accounts."""
    now = now or utcnow()
    event = _managed(session, user, event_id)
    require(user, Action.COMPOSE)
    if event.cancelled_at is None:
        raise ValidationErrors([UserError(N_("Cancel the event first."), field="accounts")])
    language = language if language in LANGUAGES else "sv"
    text = render(template_texts(session, language)[Announcement.CANCELLATION], event, language)
    post = create_post(session, user, PostDraft(text=text, account_ids=list(account_ids)),
                       now=now)
    session.add(EventAnnouncement(post_id=post.id, event_id=event.id,
                                  which=Announcement.CANCELLATION, created_at=now))
    session.flush()
    return post


def cancellation_text(session: Session, event: Event, language: str = "sv") -> str:
    return render(template_texts(session, language)[Announcement.CANCELLATION], event, language)


def announced_accounts(session: Session, event_id: int) -> list[int]:
    """The accounts the event was announced on (to offer the cancellation post there)."""
    return list(dict.fromkeys(session.scalars(
        select(Delivery.account_id).join(EventAnnouncement,
                                         EventAnnouncement.post_id == Delivery.post_id)
        .where(EventAnnouncement.event_id == event_id).order_by(Delivery.account_id))))


# -- the members' calendar link -------------------------------------------------------------------

def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_feed_token(session: Session, user: User, now: datetime | None = None) -> str:
    """A new secret link to the members' calendar (the old one stops working); shown once."""
    require(user, Action.VIEW_EVENTS)
    secret = secrets.token_urlsafe(32)
    row = session.get(EventFeedToken, user.id)
    if row is None:
        row = EventFeedToken(user_id=user.id)
        session.add(row)
    row.digest, row.created_at = _digest(secret), now or utcnow()
    session.flush()
    return secret


def has_feed_token(session: Session, user: User) -> bool:
    return session.get(EventFeedToken, user.id) is not None


def feed_user(session: Session, secret: str) -> User | None:
    """Whose calendar link this is; None for an unknown or old link or a switched-off user."""
    if not secret or len(secret) > 100:
        return None
    row = session.scalar(select(EventFeedToken).where(EventFeedToken.digest == _digest(secret)))
    if row is None:
        return None
    user = session.get(User, row.user_id)
    return user if user is not None and user.active and can(user, Action.VIEW_EVENTS) else None


def feed_events(session: Session, *, members: bool, now: datetime | None = None) -> list[Event]:
    """The events a calendar carries: from a year back on, public ones only unless `members`."""
    now = now or utcnow()
    query = select(Event).where(Event.ends_at >= now - timedelta(days=365))
    if not members:
        query = query.where(Event.public.is_(True))
    return list(session.scalars(query.order_by(Event.starts_at, Event.id).limit(2000)))

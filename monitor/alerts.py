"""Telling people about mentions: immediate alerts, daily digests, failing sources, unread counts.

Everything goes through core.notifications.notify (in the app at once; core.mail.send_pending
e-mails it), so each reader gets their own language and e-mail is sent once however many workers
run.

- Immediate: a new story that matched a high-priority watchlist reaches each user subscribed to
  that watchlist with `immediate`, once per story. `alerts_sent` (user, mention, "immediate") is
  the record, inserted with ON CONFLICT DO NOTHING before the notification is made: a later
  copy of the story, another high-priority watchlist it comes to match, or a second worker
  never tell the same person again.
- Digest: at the subscription's `digest_hour` on the Stockholm wall clock (the latest such
  moment that has passed: 07:00 is 06:00 UTC in winter and 05:00 UTC in summer), one
  notification per user lists the mentions first seen since their previous digest (at most a
  day back), grouped by watchlist; nothing is sent when there is nothing new. The subscription's
  `last_digest_at` is claimed with a guarded UPDATE, and each mention is recorded as
  (user, mention, "digest"), so a mention is in one digest per person.
- A source failing for longer than the threshold is told to the district's admins once; when
  it works again (the poller sets it back to ok) the mark is cleared, so the next failure is
  told again.
- Unread mentions: mentions first seen after the user last opened the mention log
  (`mentions_seen`), leaving out those triaged as not relevant.

Our own accounts' posts (monitor.own) are never news to us: no immediate alert, no place in a
digest, not unread.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session

from core.auth import Action, can, district, in_scope
from core.clock import STOCKHOLM, ensure_utc, to_local, utcnow
from core.db import Database
from core.i18n import N_
from core.notifications import Msgid, Notification, notify
from core.users import Role, User
from monitor.models import (
    AlertSent,
    AlertSubscription,
    Mention,
    MentionsSeen,
    MentionWatchlist,
    Priority,
    Source,
    SourceState,
    Triage,
    Watchlist,
)

log = logging.getLogger(__name__)

MENTION = "mention"  # notification kinds
DIGEST = "digest"
SOURCE_FAILING = "source_failing"
IMMEDIATE = "immediate"  # alerts_sent kinds
EXCERPT_LENGTH = 300
DIGEST_MAX_LOOKBACK = timedelta(days=1)
DEFAULT_FAILURE_ALERT_MINUTES = 60

MENTION_SUBJECT = N_("New on %(watchlist)s: %(title)s")
MENTION_BODY = N_("A new story for the issue %(watchlist)s.\n\n%(title)s\n%(outlet)s, "
                  "%(published)s\n\n%(excerpt)s\n\nAt the source: %(url)s")
MENTION_BODY_NO_URL = N_("A new story for the issue %(watchlist)s.\n\n%(title)s\n%(outlet)s, "
                         "%(published)s\n\n%(excerpt)s")
DIGEST_SUBJECT = N_("Daily digest of mentions (%(count)s)")
DIGEST_BODY = N_("New mentions since %(since)s, by issue:\n\n%(listing)s")
SOURCE_SUBJECT = N_("The source %(source)s is not working")
SOURCE_BODY = N_("Megafon has not been able to read the source %(source)s since %(since)s "
                 "(%(failures)s attempts in a row). It keeps trying.\n\nLast error: "
                 "%(error)s\n\nCheck the address, or pause the source, under Sources.")


def _excerpt(text: str, length: int = EXCERPT_LENGTH) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= length else flat[: length - 1].rstrip() + "…"


def _local(moment: datetime | None) -> str:
    return to_local(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def _record(session: Session, user_id: int, mention_id: int, kind: str, now: datetime) -> bool:
    """Record that the user is told about the mention; False if they already were."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = (insert(AlertSent)
                 .values(user_id=user_id, mention_id=mention_id, kind=kind, at=now)
                 .on_conflict_do_nothing(index_elements=["user_id", "mention_id", "kind"])
                 .returning(AlertSent.id))  # (rowcount is not reliable for ORM inserts)
    return session.execute(statement).first() is not None


# --- immediate alerts --------------------------------------------------------------------------

def alert_new_mentions(session: Session, mention_ids: Iterable[int], *,
                       now: datetime | None = None) -> list[Notification]:
    """Tell the immediate subscribers of each mention's high-priority watchlists, once per story
    and person, in the caller's transaction (the one that stored the mentions)."""
    now = now or utcnow()
    created: list[Notification] = []
    for mention_id in dict.fromkeys(mention_ids):
        mention = session.get(Mention, mention_id)
        if mention is None or mention.own_account_id is not None:
            continue  # gone, or our own post
        rows = session.execute(
            select(User, Watchlist.name)
            .join(AlertSubscription, AlertSubscription.user_id == User.id)
            .join(Watchlist, Watchlist.id == AlertSubscription.watchlist_id)
            .join(MentionWatchlist, MentionWatchlist.watchlist_id == Watchlist.id)
            .where(MentionWatchlist.mention_id == mention_id,
                   Watchlist.priority == Priority.HIGH, Watchlist.active.is_(True),
                   AlertSubscription.immediate.is_(True), User.active.is_(True))
            .order_by(User.id, Watchlist.name)).all()
        watchlists: dict[int, list[str]] = defaultdict(list)
        users: dict[int, User] = {}
        for user, name in rows:
            users[user.id] = user
            watchlists[user.id].append(name)
        for user_id, user in users.items():
            if not can(user, Action.VIEW_MENTIONS):
                continue
            if not _record(session, user_id, mention_id, IMMEDIATE, now):
                continue
            created += notify(
                session, [user], MENTION, MENTION_SUBJECT,
                MENTION_BODY if mention.url else MENTION_BODY_NO_URL,
                f"/mentions/{mention_id}", watchlist=", ".join(watchlists[user_id]),
                title=mention.title or _excerpt(mention.text, 80), outlet=mention.outlet,
                published=_local(mention.published_at or mention.first_seen_at),
                excerpt=_excerpt(mention.text), url=mention.url or "", mention_id=mention_id)
    return created


# --- daily digests -----------------------------------------------------------------------------

def _at_hour(day: date, hour: int) -> datetime:
    """`hour`:00 on the Stockholm wall clock that day, in UTC (in the spring gap: an hour on)."""
    return datetime.combine(day, time(hour), tzinfo=STOCKHOLM).astimezone(UTC)


def digest_moment(now: datetime, hour: int) -> datetime:
    """The latest moment, not after `now`, at which a digest at `hour` (Stockholm) was due."""
    today = to_local(now).date()
    moment = _at_hour(today, hour)
    return moment if moment <= now else _at_hour(today - timedelta(days=1), hour)


def _digest_listing(session: Session, user: User, watchlist_ids: list[int], since: datetime,
                    now: datetime) -> list[tuple[Watchlist, list[Mention]]]:
    already = exists().where(AlertSent.user_id == user.id, AlertSent.mention_id == Mention.id,
                             AlertSent.kind == DIGEST)
    listing = []
    for watchlist in session.scalars(select(Watchlist).where(Watchlist.id.in_(watchlist_ids))
                                     .order_by(Watchlist.name)):
        mentions = list(session.scalars(
            select(Mention).join(MentionWatchlist, MentionWatchlist.mention_id == Mention.id)
            .where(MentionWatchlist.watchlist_id == watchlist.id, Mention.first_seen_at > since,
                   Mention.first_seen_at <= now, Mention.triage != Triage.NOT_RELEVANT,
                   Mention.own_account_id.is_(None), ~already)
            .order_by(Mention.first_seen_at, Mention.id)))
        if mentions:
            listing.append((watchlist, mentions))
    return listing


def _format_listing(listing: list[tuple[Watchlist, list[Mention]]]) -> str:
    blocks = []
    for watchlist, mentions in listing:
        lines = [f"{watchlist.name} ({len(mentions)})"]
        for mention in mentions:
            when = _local(mention.published_at or mention.first_seen_at)
            source = ", ".join(part for part in (mention.outlet, when) if part)
            lines.append(f"• {mention.title or _excerpt(mention.text, 80)} ({source})")
            if mention.url:
                lines.append(f"  {mention.url}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _send_digest(session: Session, user: User, due: list[tuple[int, int, datetime | None]],
                 moment: datetime, now: datetime) -> Notification | None:
    """One user's digest for the subscriptions `due` (id, watchlist, last_digest_at)."""
    claimed: list[int] = []
    since = moment - DIGEST_MAX_LOOKBACK
    for subscription_id, watchlist_id, last in due:
        won = session.execute(
            update(AlertSubscription)
            .where(AlertSubscription.id == subscription_id,
                   AlertSubscription.last_digest_at.is_not_distinct_from(last))
            .values(last_digest_at=now).execution_options(synchronize_session=False))
        if won.rowcount == 1:  # another worker did not get there first
            claimed.append(watchlist_id)
            if last is not None:
                since = max(since, min(ensure_utc(last), moment))
    if not claimed or not user.active or not can(user, Action.VIEW_MENTIONS):
        return None
    listing = _digest_listing(session, user, claimed, since, now)
    mentions = {m.id: m for _, found in listing for m in found}
    for mention_id in mentions:
        _record(session, user.id, mention_id, DIGEST, now)
    if not mentions:
        return None
    today = to_local(now).date()
    link = (f"/mentions?date_from={to_local(since).date().isoformat()}"
            f"&date_to={today.isoformat()}&digest={to_local(moment):%Y-%m-%dT%H}")
    if len(listing) == 1:
        link += f"&watchlist={listing[0][0].id}"
    found = notify(session, [user], DIGEST, DIGEST_SUBJECT, DIGEST_BODY, link,
                   count=len(mentions), since=_local(since), listing=_format_listing(listing))
    return found[0] if found else None


def send_digests(db: Database, now: datetime | None = None) -> int:
    """Send the digests that are due (run every minute by any number of workers); returns how
    many were sent."""
    now = now or utcnow()
    with db.session() as session:
        rows = session.execute(
            select(AlertSubscription.id, AlertSubscription.user_id,
                   AlertSubscription.watchlist_id, AlertSubscription.digest_hour,
                   AlertSubscription.last_digest_at)
            .join(Watchlist, Watchlist.id == AlertSubscription.watchlist_id)
            .where(AlertSubscription.digest_hour.is_not(None), Watchlist.active.is_(True))
            .order_by(AlertSubscription.user_id, AlertSubscription.id)).all()
    due: dict[tuple[int, datetime], list[tuple[int, int, datetime | None]]] = defaultdict(list)
    for subscription_id, user_id, watchlist_id, hour, last in rows:
        if not 0 <= hour <= 23:
            continue
        moment = digest_moment(now, hour)
        if last is None and to_local(moment).date() != to_local(now).date():
            continue  # a new subscription starts with today's hour, not a catch-up
        if last is None or ensure_utc(last) < moment:
            due[(user_id, moment)].append((subscription_id, watchlist_id, last))
    sent = 0
    for (user_id, moment), subscriptions in due.items():
        try:
            with db.session() as session:
                user = session.get(User, user_id)
                if user is not None and _send_digest(session, user, subscriptions, moment, now):
                    sent += 1
        except Exception:  # one person's digest must not hold up the others'
            log.exception("digest for user %s failed", user_id)
    return sent


# --- failing sources ---------------------------------------------------------------------------

def _threshold(source: Source, default_minutes: int) -> timedelta:
    """The source's own `failure_alert_minutes` (in its config), else the default."""
    try:
        minutes = int(json.loads(source.config or "{}").get("failure_alert_minutes",
                                                            default_minutes))
    except (ValueError, TypeError, AttributeError):
        minutes = default_minutes
    return timedelta(minutes=max(0, minutes))


def admins(session: Session) -> list[User]:
    """The active admins whose scope covers the district (sources are the district's)."""
    district_id = district(session).id
    found = session.scalars(select(User).where(User.role == Role.ADMIN, User.active.is_(True))
                            .order_by(User.id))
    return [user for user in found if in_scope(user, district_id)]


def alert_failing_sources(db: Database, now: datetime | None = None,
                          threshold_minutes: int = DEFAULT_FAILURE_ALERT_MINUTES
                          ) -> list[int]:
    """Tell the admins, once, about each source failing for longer than its threshold; clear
    the mark of sources that work again. Returns the ids of the sources told about."""
    now = now or utcnow()
    told: list[int] = []
    with db.session() as session:
        session.execute(update(Source).where(Source.failure_alerted_at.is_not(None),
                                             Source.state == SourceState.OK)
                        .values(failure_alerted_at=None)
                        .execution_options(synchronize_session=False))
        failing = session.scalars(
            select(Source).where(Source.state == SourceState.FAILING,
                                 Source.failing_since.is_not(None),
                                 Source.failure_alerted_at.is_(None))
            .order_by(Source.id)).all()
        people = None
        for source in failing:
            since = ensure_utc(source.failing_since)
            if now - since < _threshold(source, threshold_minutes):
                continue
            won = session.execute(
                update(Source).where(Source.id == source.id,
                                     Source.state == SourceState.FAILING,
                                     Source.failure_alerted_at.is_(None))
                .values(failure_alerted_at=now).execution_options(synchronize_session=False))
            if won.rowcount != 1:
                continue
            people = admins(session) if people is None else people
            notify(session, people, SOURCE_FAILING, SOURCE_SUBJECT, SOURCE_BODY,
                   f"/sources/{source.id}", source=source.name, since=_local(since),
                   failures=source.consecutive_failures,
                   error=_failure(source), source_id=source.id)
            told.append(source.id)
    return told


def _failure(source: Source) -> object:
    """The source's failure, translated for each reader when its message was stored (sources
    that failed before messages were kept give their English text)."""
    stored = source.last_error_message
    if stored and stored.get("msgid"):
        return Msgid(str(stored["msgid"]), stored.get("params") or {})
    return (source.last_error or "").strip()[:500] or "–"


# --- unread in the app -------------------------------------------------------------------------

# The badge counts this far ("999+" beyond): every page shows it, so it must stay a short
# range scan of the first_seen_at index even for someone back after a month away.
UNREAD_COUNTED_UP_TO = 999


def unread_mentions(session: Session, user: User) -> int:
    """How many mentions arrived since the user last opened the mention log (not counting the
    ones triaged as not relevant, nor our own posts), up to UNREAD_COUNTED_UP_TO + 1; a new
    user counts from when the account was made."""
    if not can(user, Action.VIEW_MENTIONS):
        return 0
    seen = session.get(MentionsSeen, user.id)
    since = seen.seen_until if seen is not None else user.created_at
    newer = (select(Mention.id)
             .where(Mention.first_seen_at > since, Mention.triage != Triage.NOT_RELEVANT,
                    Mention.own_account_id.is_(None))
             .limit(UNREAD_COUNTED_UP_TO + 1).subquery())
    return session.scalar(select(func.count()).select_from(newer)) or 0


def mark_mentions_seen(session: Session, user: User, now: datetime | None = None) -> None:
    """The user has looked at the mention log up to `now` (never moves back)."""
    now = now or utcnow()
    seen = session.get(MentionsSeen, user.id)
    if seen is None:
        session.add(MentionsSeen(user_id=user.id, seen_until=now))
    elif ensure_utc(seen.seen_until) < now:
        seen.seen_until = now
    session.flush()

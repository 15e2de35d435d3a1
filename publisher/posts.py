"""Composing a post: checked against every chosen platform's rules, then one delivery each."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from core.auth import Action, can, in_scope
from core.clock import LocalTimeError, local_to_utc, utcnow
from core.i18n import N_, UserError, ValidationErrors
from core.users import User
from publisher.accounts import NotAllowed
from publisher.deliveries import record_event
from publisher.models import Account, Delivery, DeliveryState, Platform, Post
from publisher.text_rules import FACEBOOK_MAX_CHARS, X_MAX_WEIGHTED, x_weighted_length

# A form submitted a little after the minute it named is still "now", not "the past".
PAST_GRACE = timedelta(minutes=2)
MAX_AHEAD = timedelta(days=366)


@dataclass
class PostDraft:
    text: str
    account_ids: list[int]
    link: str | None = None
    # Wall-clock time in Stockholm as entered; None means "as soon as possible".
    scheduled_local: datetime | None = None
    errors: list[UserError] = field(default_factory=list)


def _check_link(link: str) -> UserError | None:
    parts = urlsplit(link)
    if parts.scheme not in {"http", "https"} or not parts.netloc or " " in link:
        return UserError(N_("The link must be a full web address starting with https://."),
                         field="link")
    return None


def create_post(
    session: Session, user: User, draft: PostDraft, now: datetime | None = None
) -> Post:
    """Validate the draft completely, then save the post and its deliveries in one go."""
    if not can(user, Action.COMPOSE):
        raise NotAllowed("role may not compose posts")
    now = now or utcnow()
    errors: list[UserError] = []
    text = draft.text.strip()
    link = (draft.link or "").strip() or None
    if not text:
        errors.append(UserError(N_("Write something to post."), field="text"))
    if link and (problem := _check_link(link)):
        errors.append(problem)

    accounts: list[Account] = []
    for account_id in dict.fromkeys(draft.account_ids):
        account = session.get(Account, account_id)
        if account is None or not account.active or not in_scope(user, account.organisation_id):
            raise NotAllowed("account not in your organisation")
        accounts.append(account)
    if not accounts:
        errors.append(UserError(N_("Choose at least one account."), field="accounts"))

    full_text = f"{text}\n\n{link}" if link and link not in text else text
    if text and any(a.platform is Platform.X for a in accounts):
        count = x_weighted_length(full_text)
        if count > X_MAX_WEIGHTED:
            errors.append(UserError(
                N_("Too long for X: %(count)s of %(limit)s characters (every link counts as 23)."),
                field="text", count=count, limit=X_MAX_WEIGHTED))
    if any(a.platform is Platform.FACEBOOK for a in accounts) and len(text) > FACEBOOK_MAX_CHARS:
        errors.append(UserError(N_("Too long for Facebook: %(count)s of %(limit)s characters."),
                                field="text", count=len(text), limit=FACEBOOK_MAX_CHARS))

    due = now
    if draft.scheduled_local is not None:
        try:
            due = local_to_utc(draft.scheduled_local)
        except LocalTimeError:
            errors.append(UserError(
                N_("%(time)s does not exist in Swedish time: the clocks jump from 02:00 to 03:00 "
                   "that night. Choose another time."),
                field="scheduled_at", time=draft.scheduled_local.strftime("%Y-%m-%d %H:%M")))
        else:
            if due < now - PAST_GRACE:
                errors.append(UserError(
                    N_("That time has already passed. Choose a time in the future, or leave the "
                       "time empty to publish now."), field="scheduled_at"))
            elif due > now + MAX_AHEAD:
                errors.append(UserError(N_("Schedule at most a year ahead."),
                                        field="scheduled_at"))
    if errors:
        raise ValidationErrors(errors)

    post = Post(author_id=user.id, text=text, link=link, scheduled_at=due)
    session.add(post)
    session.flush()
    for account in accounts:
        delivery = Delivery(account=account, due_at=due, next_attempt_at=due,
                            state=DeliveryState.SCHEDULED, updated_at=now)
        post.deliveries.append(delivery)
        session.flush()
        record_event(session, delivery.id, None, DeliveryState.SCHEDULED,
                     f"queued by {user.name}")
    return post

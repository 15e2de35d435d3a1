"""Replies: a post written in the thread where something was said, not as a new post.

An X reply answers a post (tweepy `create_tweet(in_reply_to_tweet_id=…)`); a Facebook reply is a
comment by the Page under its own post, or under a comment on it (`put_object(parent,
"comments")`). A reply is an ordinary post — the same queue, deliveries, state machine and
reconciliation — whose `reply_to_platform` / `reply_to_external_id` name what it answers; the
adapters pass that on and look replies up under it after a lost answer.

Who may reply: on X any active X account in the user's scope; on Facebook only the Page that
owns the post (the account the comments were read through), if it is in the user's scope.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from core.auth import Action, NotAllowed, in_scope, require
from core.i18n import N_, UserError, ValidationErrors
from core.users import User
from publisher.accounts import visible_accounts
from publisher.models import Account, Platform, Post
from publisher.posts import PostDraft, create_post

IDS = {Platform.X: re.compile(r"\d{1,30}"), Platform.FACEBOOK: re.compile(r"\d{1,40}(_\d{1,40})*")}


@dataclass(frozen=True)
class ReplyTarget:
    """What a reply answers: the platform's id of an X post or a Facebook post or comment."""

    platform: Platform
    external_id: str
    # Facebook: the Page whose post it is (or is under); only that Page may comment there.
    owner_account_id: int | None = None

    @property
    def valid(self) -> bool:
        return bool(IDS[self.platform].fullmatch(self.external_id))


def reply_accounts(session: Session, user: User, target: ReplyTarget | None) -> list[Account]:
    """The accounts the user may reply from there, in the order forms list them."""
    if target is None or not target.valid:
        return []
    accounts = visible_accounts(session, user, platform=target.platform)
    if target.platform is Platform.FACEBOOK:
        return [a for a in accounts if a.id == target.owner_account_id]
    return accounts


def create_reply(session: Session, user: User, target: ReplyTarget | None,
                 account_id: int | None, text: str, now: datetime | None = None) -> Post:
    """Queue a reply from one account, due as soon as possible, checked like any post.

    NotAllowed: the account is not the user's (another organisation's, or none); a field error
    when it is the user's but cannot reply there, or when there is nothing to reply to."""
    require(user, Action.COMPOSE)
    if target is None or not target.valid:
        raise ValidationErrors([UserError(N_(
            "This mention cannot be answered in its thread: it is not an X post or a comment on "
            "one of our Facebook Pages. Write a new post with its link instead."))])
    if account_id is not None:
        account = session.get(Account, account_id)
        if account is None or not in_scope(user, account.organisation_id):
            raise NotAllowed("account not in your organisation")
        if account not in reply_accounts(session, user, target):
            raise ValidationErrors([UserError(
                N_("Only the Page the post belongs to can comment there.")
                if target.platform is Platform.FACEBOOK else
                N_("Choose one of our X accounts to reply from."), field="account")])
    draft = PostDraft(text=text, account_ids=[account_id] if account_id is not None else [])
    try:
        post = create_post(session, user, draft, now=now)
    except ValidationErrors as exc:  # a reply goes from one account, chosen in one field
        raise ValidationErrors([
            UserError(N_("Choose the account to reply from."), field="account")
            if e.field == "accounts" else e for e in exc.errors]) from None
    post.reply_to_platform = target.platform.value
    post.reply_to_external_id = target.external_id
    session.flush()
    return post


def reply_target_of(post: Post) -> ReplyTarget | None:
    if not post.reply_to_platform or not post.reply_to_external_id:
        return None
    return ReplyTarget(Platform(post.reply_to_platform), post.reply_to_external_id)

"""Approval: posts on some accounts wait for a reviewer before any worker may send them.

An admin decides which (`set_rules`, Action.SET_APPROVAL_RULES): an account
(`accounts.needs_approval`) or every account of an association
(`organisations.posts_need_approval`). A post on such an account is saved with its delivery in
`awaiting_approval`, which no claim takes (publisher.deliveries.CLAIMABLE). A reviewer approves
it (→ `scheduled`) or sends it back with a comment (→ `returned`); its author changes it and it
waits again. A change after approval needs approval again. A post whose time passed while it
waited is never published late: approving it asks for a new time.

Who reviews (Action.APPROVE_POSTS): admins, campaign leads and comms people of the district,
never an association's own users (the rule is the district's check on the associations), and
never the post's own author (four eyes). The thread of the review is `post_reviews`: who sent,
commented, changed, approved or sent back, when, with what words. Reviewers are told by a
notification (and e-mail, core.mail, in their language), the author of the outcome likewise.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, exists, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from core.audit import one_of
from core.audit import record as audit
from core.auth import Action, NotAllowed, can, in_scope, require, scope_condition
from core.clock import to_local, utcnow
from core.db import Base, UTCDateTime
from core.entered_time import EnteredTime
from core.i18n import N_, UserError, ValidationErrors
from core.notifications import notify
from core.text import CONTROL_MESSAGE, has_control_characters
from core.users import Organisation, OrganisationKind, User
from publisher import deliveries
from publisher.history_notes import APPROVED, RETURNED_BY, note
from publisher.models import Account, Delivery, DeliveryState, Post

S = DeliveryState
COMMENT_MAX = 4000


class ReviewAction(enum.StrEnum):
    SUBMITTED = "submitted"  # sent for approval (written, or sent again)
    CHANGED = "changed"  # changed while waiting, or after approval: waits (again)
    COMMENTED = "commented"
    APPROVED = "approved"
    RETURNED = "returned"  # sent back to the author with a comment


class PostReview(Base):
    """One step of a post's review: who did what, when, with what comment."""

    __tablename__ = "post_reviews"
    __table_args__ = (Index("ix_post_reviews_post_id", "post_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(32))
    comment: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User | None] = relationship(lazy="joined")


# Notifications (msgids, translated for each reader; e-mailed by core.mail).
REVIEW_ASKED = "review_asked"
REVIEW_ASKED_SUBJECT = N_("A post waits for your approval")
REVIEW_ASKED_BODY = N_("%(author)s wrote a post for %(accounts)s that needs approval before it "
                       "goes out: “%(text)s”")
APPROVED_KIND = "post_approved"
APPROVED_SUBJECT = N_("Your post was approved")
APPROVED_BODY = N_("%(reviewer)s approved your post “%(text)s”. It goes out at %(time)s. "
                   "%(comment)s")
RETURNED_KIND = "post_returned"
RETURNED_SUBJECT = N_("Your post was sent back")
RETURNED_BODY = N_("%(reviewer)s sent back your post “%(text)s”: %(comment)s Change it and it "
                   "waits for approval again.")
COMMENTED_KIND = "post_review_comment"
COMMENTED_SUBJECT = N_("A comment on your post")
COMMENTED_BODY = N_("%(reviewer)s commented on your post “%(text)s”: %(comment)s")

TIME_PASSED = N_("The post's time (%(time)s) passed while it waited for approval, and a post is "
                 "never published late. Give it a new time to approve it.")
NOTHING_WAITS = N_("Nothing of this post waits for approval.")
OWN_POST = N_("You wrote this post: someone else must approve it.")
COMMENT_NEEDED = N_("Say what should change, so the author knows.")
COMMENT_TOO_LONG = N_("A comment can have at most %(limit)s characters.")


# --- The rules -----------------------------------------------------------------------------


def needs_approval(account: Account) -> bool:
    """Whether posts on this account wait for a reviewer (the account's or its association's
    rule)."""
    return bool(account.needs_approval or account.organisation.posts_need_approval)


def may_review(user: User) -> bool:
    """Whether the user reviews posts at all: the role, and the district's people only."""
    return can(user, Action.APPROVE_POSTS) and \
        user.organisation.kind is OrganisationKind.DISTRICT


def may_set_rules(user: User) -> bool:
    """The district's admins (an association's admin could otherwise lift its own rule)."""
    return can(user, Action.SET_APPROVAL_RULES) and \
        user.organisation.kind is OrganisationKind.DISTRICT


def _require_reviewer(user: User, post: Post) -> None:
    require(user, Action.APPROVE_POSTS)
    if not may_review(user):
        raise NotAllowed("only the district's reviewers approve posts")
    for delivery in post.deliveries:
        require(user, Action.APPROVE_POSTS, delivery.account.organisation_id)


def set_rules(session: Session, user: User, account_ids: Iterable[int],
              organisation_ids: Iterable[int]) -> None:
    """The admin's choice, whole: exactly these accounts and associations need approval. Posts
    already queued stay queued; new posts and changes follow the new rule."""
    if not may_set_rules(user):
        raise NotAllowed("only the district's admins set which posts need approval")
    accounts, organisations = set(account_ids), set(organisation_ids)
    session.execute(update(Account).values(needs_approval=Account.id.in_(accounts)))
    session.execute(update(Organisation).values(
        posts_need_approval=Organisation.id.in_(organisations)))
    audit(session, user, "set_rules", "approval_rules", None, None,
          {"accounts": sorted(accounts), "associations": sorted(organisations)})
    session.flush()


def reviewers(session: Session, post: Post) -> list[User]:
    """Who may approve this post: active reviewers of the district, not its author."""
    found = session.scalars(select(User).join(Organisation, Organisation.id == User.organisation_id)
                            .where(User.active.is_(True),
                                   Organisation.kind == OrganisationKind.DISTRICT,
                                   User.id != post.author_id).order_by(User.id))
    return [user for user in found if may_review(user)]


# --- The thread ------------------------------------------------------------------------------


def record(session: Session, post_id: int, user: User | None, action: ReviewAction,
           comment: str | None = None, now: datetime | None = None) -> PostReview:
    review = PostReview(post_id=post_id, user_id=user.id if user else None, action=action.value,
                        comment=comment, at=now or utcnow())
    session.add(review)
    session.flush()
    return review


def thread(session: Session, post_id: int) -> list[PostReview]:
    return list(session.scalars(select(PostReview).where(PostReview.post_id == post_id)
                                .order_by(PostReview.id)).unique())


def is_approved(session: Session, post_id: int) -> bool:
    """Whether the post's last step (comments aside) was its approval: unchanged since."""
    last = session.scalar(select(PostReview.action).where(
        PostReview.post_id == post_id, PostReview.action != ReviewAction.COMMENTED.value)
        .order_by(PostReview.id.desc()).limit(1))
    return last == ReviewAction.APPROVED.value


def awaiting(session: Session, post_id: int) -> list[tuple[int, str]]:
    """The post's deliveries waiting for approval, as the database has them now: (id, the
    account's name)."""
    return [(i, name) for i, name in session.execute(
        select(Delivery.id, Account.name).join(Account, Account.id == Delivery.account_id)
        .where(Delivery.post_id == post_id, Delivery.state == S.AWAITING_APPROVAL)
        .order_by(Delivery.id))]


def _short(text: str) -> str:
    return text if len(text) <= 80 else text[:79] + "…"


def _link(post_id: int) -> str:
    return f"/posts/{post_id}"


def asked(session: Session, author: User, post: Post, *, changed: bool = False,
          now: datetime | None = None) -> None:
    """The post (now) waits for approval: its thread says so, and the reviewers are told."""
    record(session, post.id, author, ReviewAction.CHANGED if changed else ReviewAction.SUBMITTED,
           now=now)
    names = ", ".join(name for _, name in awaiting(session, post.id))
    notify(session, [u for u in reviewers(session, post) if u.id != author.id], REVIEW_ASKED,
           REVIEW_ASKED_SUBJECT, REVIEW_ASKED_BODY, _link(post.id), author=author.name,
           accounts=names, text=_short(post.text))


def delivery_state_for(account: Account) -> DeliveryState:
    """The state a new delivery starts in (publisher.posts)."""
    return S.AWAITING_APPROVAL if needs_approval(account) else S.SCHEDULED


# --- Acting on a post ------------------------------------------------------------------------


def _checked_comment(comment: str | None, *, required: bool = False) -> str | None:
    text = (comment or "").strip()
    if has_control_characters([text]):
        raise ValidationErrors([UserError(CONTROL_MESSAGE, field="comment")])
    if len(text) > COMMENT_MAX:
        raise ValidationErrors([UserError(COMMENT_TOO_LONG, field="comment",
                                          limit=COMMENT_MAX)])
    if required and not text:
        raise ValidationErrors([UserError(COMMENT_NEEDED, field="comment")])
    return text or None


def _post(session: Session, post_id: int) -> Post:
    post = session.get(Post, post_id)
    if post is None:
        raise LookupError(post_id)
    return post


def _new_time(post: Post, entered: EnteredTime | None, now: datetime) -> datetime:
    """When an approved post goes out: its own time while that is still to come, else the new
    time the reviewer gave (checked like the composer's)."""
    from publisher.posts import PAST_GRACE, PostDraft, check_time  # posts imports this module

    passed = post.scheduled_at < now - PAST_GRACE
    keeps = entered is None or (not entered.soon and not entered.date and not entered.time)
    if keeps and not passed:
        return post.scheduled_at
    if keeps:
        raise ValidationErrors([UserError(TIME_PASSED, field="scheduled_at",
                                          time=f"{to_local(post.scheduled_at):%Y-%m-%d %H:%M}")])
    errors: list[UserError] = []
    due = check_time(PostDraft(text="", account_ids=[], entered_time=entered), now, errors,
                     None if passed else post.scheduled_at)
    if errors:
        if passed and due <= now:
            errors = [e for e in errors if e.field != "scheduled_at"] + [UserError(
                TIME_PASSED, field="scheduled_at",
                time=f"{to_local(post.scheduled_at):%Y-%m-%d %H:%M}")]
        raise ValidationErrors(errors)
    return due


def _organisation(post: Post) -> int | None:
    return one_of(delivery.account.organisation_id for delivery in post.deliveries)


def approve(session: Session, user: User, post_id: int, *, comment: str | None = None,
            entered: EnteredTime | None = None, now: datetime | None = None) -> Post:
    """Approve what of the post waits: queued at its time, or at the new time given (needed
    when its own has passed). Refused for its author, and when nothing waits."""
    now = now or utcnow()
    post = _post(session, post_id)
    _require_reviewer(user, post)
    text = _checked_comment(comment)
    if post.author_id == user.id:
        raise ValidationErrors([UserError(OWN_POST)])
    waiting = deliveries.lock_waiting(session, post_id, now)
    ids = [i for i, _ in awaiting(session, post_id) if i in waiting]
    if not ids:
        raise ValidationErrors([UserError(NOTHING_WAITS)])
    due = _new_time(post, entered, now)
    moved = [i for i in ids if deliveries.approve(session, i, note(APPROVED, name=user.name), due)]
    if not moved:
        raise ValidationErrors([UserError(NOTHING_WAITS)])
    if due != post.scheduled_at:
        post.scheduled_at = due
    record(session, post.id, user, ReviewAction.APPROVED, text, now)
    audit(session, user, "approve", "post", post.id, _organisation(post),
          {"comment": text, "scheduled_at": due})
    session.flush()
    notify(session, [post.author], APPROVED_KIND, APPROVED_SUBJECT, APPROVED_BODY,
           _link(post.id), reviewer=user.name, text=_short(post.text),
           time=f"{to_local(due):%Y-%m-%d %H:%M}", comment=text or "")
    return post


def send_back(session: Session, user: User, post_id: int, comment: str,
              now: datetime | None = None) -> Post:
    """Send the post back to its author with a comment (required): it waits for their change."""
    now = now or utcnow()
    post = _post(session, post_id)
    _require_reviewer(user, post)
    text = _checked_comment(comment, required=True)
    moved = [i for i, _ in awaiting(session, post_id)
             if deliveries.send_back(session, i, note(RETURNED_BY, name=user.name))]
    if not moved:
        raise ValidationErrors([UserError(NOTHING_WAITS)])
    record(session, post.id, user, ReviewAction.RETURNED, text, now)
    audit(session, user, "send_back", "post", post.id, _organisation(post), {"comment": text})
    notify(session, [post.author], RETURNED_KIND, RETURNED_SUBJECT, RETURNED_BODY,
           _link(post.id), reviewer=user.name, text=_short(post.text), comment=text)
    return post


def may_comment(user: User, post: Post) -> bool:
    """Reviewers of the post, and writers who may see all of it (its author among them)."""
    if not all(in_scope(user, d.account.organisation_id) for d in post.deliveries):
        return False
    return may_review(user) or can(user, Action.COMPOSE)


def add_comment(session: Session, user: User, post_id: int, comment: str,
                now: datetime | None = None) -> PostReview:
    """A word in the review's thread; the author hears a reviewer's, the reviewers an
    author's."""
    post = _post(session, post_id)
    if not may_comment(user, post):
        raise NotAllowed("may not comment on this post")
    text = _checked_comment(comment, required=True)
    assert text is not None
    review = record(session, post.id, user, ReviewAction.COMMENTED, text, now)
    if user.id != post.author_id:
        notify(session, [post.author], COMMENTED_KIND, COMMENTED_SUBJECT, COMMENTED_BODY,
               _link(post.id), reviewer=user.name, text=_short(post.text), comment=text)
    return review


def send_again_for(session: Session, user: User, delivery_id: int) -> bool:
    """The dashboard's "send again" for a failed or cancelled delivery: on an account that
    needs approval, unless the post is approved as it stands, it waits for approval again."""
    require(user, Action.COMPOSE)
    delivery = deliveries.delivery_for(session, user, delivery_id)
    for_approval = needs_approval(delivery.account) and not is_approved(session,
                                                                         delivery.post_id)
    if not deliveries.send_again_for(session, user, delivery_id, for_approval=for_approval):
        return False
    if for_approval:
        asked(session, user, delivery.post)
    return True


# --- Lists -----------------------------------------------------------------------------------


def _waiting_query(user: User) -> object:
    return exists().where(Delivery.post_id == Post.id, Delivery.state == S.AWAITING_APPROVAL,
                          Account.id == Delivery.account_id,
                          scope_condition(user, Account.organisation_id))


def waiting_list(session: Session, user: User, limit: int = 200) -> list[Post]:
    """Posts waiting for this reviewer's approval, the soonest due first; NotAllowed for
    anyone who does not review."""
    require(user, Action.APPROVE_POSTS)
    if not may_review(user):
        raise NotAllowed("only the district's reviewers approve posts")
    return list(session.scalars(select(Post).where(_waiting_query(user))
                                .order_by(Post.scheduled_at, Post.id).limit(limit)).unique())


def waiting_count(session: Session, user: User) -> int:
    """The navigation's badge: posts waiting for this reviewer (0 for everyone else)."""
    if not may_review(user):
        return 0
    return session.scalar(select(func.count()).select_from(Post).where(
        _waiting_query(user), Post.author_id != user.id)) or 0

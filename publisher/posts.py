"""Composing a post: checked against every chosen platform's rules, then one delivery each."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from core.audit import diff, one_of, record
from core.auth import Action, can, in_scope, require, scope_condition
from core.clock import LocalTimeError, local_to_utc, to_local, utcnow
from core.entered_time import EnteredTime, read_wall_clock
from core.i18n import N_, UserError, ValidationErrors
from core.text import CONTROL_MESSAGE, has_control_characters
from core.users import User
from publisher import approval
from publisher.accounts import NotAllowed
from publisher.deliveries import (
    CLAIMABLE,
    IN_REVIEW,
    SENT_AGAIN_FROM,
    any_under_way,
    can_edit,
    change_waiting,
    lock_waiting,
    record_event,
    requeue,
    to_review,
    transition,
)
from publisher.deliveries import WAITING as WAITING_FOR_EDIT
from publisher.history_notes import ADDED, EDITED, QUEUED, REMOVED, SENT_FOR_REVIEW, note
from publisher.media import MAX_IMAGES, MB, PLATFORM_IMAGE_LIMITS, X_ALT_TEXT_MAX, megabytes
from publisher.models import (
    Account,
    Delivery,
    DeliveryState,
    MediaFile,
    Platform,
    Post,
    PostMedia,
    PostPart,
)
from publisher.text_rules import FACEBOOK_MAX_CHARS, X_MAX_WEIGHTED, as_typed, x_count

# A form submitted a little after the minute it named is still "now", not "the past".
PAST_GRACE = timedelta(minutes=2)
MAX_AHEAD = timedelta(days=366)
MAX_THREAD_PARTS = 24  # follow-ups after the first tweet (X's composer allows 25 in all)
FACEBOOK_COMMENT_MAX = 8000
PLATFORM_NAMES = {Platform.X: "X", Platform.FACEBOOK: "Facebook"}


@dataclass
class DraftImage:
    """An image already stored by publisher.media, and what it shows, for screen readers."""

    media_id: int
    alt_text: str = ""
    name: str = ""  # how messages name it: the file name the author chose


@dataclass
class PostDraft:
    text: str
    account_ids: list[int]
    link: str | None = None
    # Wall-clock time in Stockholm (its fold: which occurrence of the doubled autumn hour);
    # None means "as soon as possible".
    scheduled_local: datetime | None = None
    # The time as typed in a form (ÅÅÅÅ-MM-DD, TT:MM), read here; when given, it decides.
    entered_time: EnteredTime | None = None
    # Problems found before the draft was made (e.g. refused uploads), shown with the rest.
    errors: list[UserError] = field(default_factory=list)
    media: list[DraftImage] = field(default_factory=list)
    thread: list[str] = field(default_factory=list)  # X: follow-up tweets; empty ones dropped
    first_comment: str | None = None  # Facebook only
    # The writer's own words for one network, instead of `text` there; blank means none.
    text_x: str | None = None
    text_facebook: str | None = None


def _check_link(link: str) -> UserError | None:
    parts = urlsplit(link)
    if parts.scheme not in {"http", "https"} or not parts.netloc or " " in link:
        return UserError(N_("The link must be a full web address starting with https:// or "
                            "http://."),
                         field="link")
    return None


@dataclass
class _Checked:
    """A draft that passed every check, ready to be saved."""

    text: str
    link: str | None
    accounts: list[Account]
    images: list[DraftImage]
    parts: list[str]
    first_comment: str | None
    due: datetime
    text_x: str | None = None
    text_facebook: str | None = None


def _check(session: Session, user: User, draft: PostDraft, now: datetime,
           current_due: datetime | None = None) -> _Checked:
    """The whole draft against every chosen platform's rules; all problems at once.
    `current_due`: an edited post's time, kept as it was (even if it has passed) when the
    draft names the same minute."""
    if not can(user, Action.COMPOSE):
        raise NotAllowed("role may not compose posts")
    errors: list[UserError] = list(draft.errors)
    if has_control_characters([draft.text, draft.link or "", draft.first_comment or "",
                               draft.text_x or "", draft.text_facebook or "", *draft.thread]):
        raise ValidationErrors([UserError(CONTROL_MESSAGE, field="text")])
    text = as_typed(draft.text).strip()
    text_x = as_typed(draft.text_x or "").strip() or None
    text_facebook = as_typed(draft.text_facebook or "").strip() or None
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

    on_x = text_x or text
    full_text = f"{on_x}\n\n{link}" if link and link not in on_x else on_x
    if on_x and any(a.platform is Platform.X for a in accounts):
        count = x_count(draft.text_x if text_x else draft.text, link)
        if count > X_MAX_WEIGHTED:
            errors.append(UserError(
                N_("Too long for X: %(count)s of %(limit)s characters (every link counts as 23)."),
                field="text_x" if text_x else "text", count=count, limit=X_MAX_WEIGHTED))
    on_facebook = text_facebook or text
    if (any(a.platform is Platform.FACEBOOK for a in accounts)
            and len(on_facebook) > FACEBOOK_MAX_CHARS):
        errors.append(UserError(N_("Too long for Facebook: %(count)s of %(limit)s characters."),
                                field="text_facebook" if text_facebook else "text",
                                count=len(on_facebook), limit=FACEBOOK_MAX_CHARS))
    platforms = {a.platform for a in accounts}
    images = _check_images(session, draft.media, platforms, errors)
    parts = _check_thread(draft.thread, full_text, platforms, errors)
    first_comment = _check_first_comment(draft.first_comment, platforms, errors)
    due = _check_time(draft, now, errors, current_due)
    if errors:
        raise ValidationErrors(errors)
    return _Checked(text, link, accounts, images, parts, first_comment, due, text_x,
                    text_facebook)


def _check_time(draft: PostDraft, now: datetime, errors: list[UserError],
                current_due: datetime | None = None) -> datetime:
    """When the post is due (UTC): now, or the Stockholm time chosen. Refused: a malformed date
    or time, one in the spring gap, one in the doubled autumn hour without saying which, one
    past or more than a year ahead (an edited post's unchanged time may have passed)."""
    scheduled_local = draft.scheduled_local
    if draft.entered_time is not None:
        if draft.entered_time.soon:
            return now
        scheduled_local = read_wall_clock(draft.entered_time, "scheduled_at", errors)
        if scheduled_local is None:
            return now
    if scheduled_local is None:
        return now
    if current_due is not None:
        shown = to_local(current_due).replace(second=0, microsecond=0)
        if (scheduled_local == shown.replace(tzinfo=None)
                and scheduled_local.fold == shown.fold):
            return current_due
    try:
        due = local_to_utc(scheduled_local)
    except LocalTimeError:
        errors.append(UserError(
            N_("%(time)s does not exist in Swedish time: the clocks jump from 02:00 to 03:00 "
               "that night. Choose another time."),
            field="scheduled_at", time=scheduled_local.strftime("%Y-%m-%d %H:%M")))
        return now
    if due < now - PAST_GRACE:
        errors.append(UserError(
            N_("That time has already passed. Choose a time in the future, or choose as soon "
               "as possible."), field="scheduled_at"))
    elif due > now + MAX_AHEAD:
        errors.append(UserError(N_("Schedule at most a year ahead."), field="scheduled_at"))
    return due


check_time = _check_time  # publisher.approval: a new time for a post whose own has passed


def _fill(post: Post, checked: _Checked) -> None:
    post.text, post.link, post.first_comment = checked.text, checked.link, checked.first_comment
    post.text_x, post.text_facebook = checked.text_x, checked.text_facebook
    post.scheduled_at = checked.due
    post.parts = [PostPart(position=n, text=part) for n, part in enumerate(checked.parts, 1)]
    post.media = [PostMedia(position=n, media_id=image.media_id, alt_text=image.alt_text)
                  for n, image in enumerate(checked.images, 1)]


def create_post(
    session: Session, user: User, draft: PostDraft, now: datetime | None = None
) -> Post:
    """Validate the draft completely, then save the post and its deliveries in one go."""
    now = now or utcnow()
    checked = _check(session, user, draft, now)
    post = Post(author_id=user.id)
    _fill(post, checked)
    session.add(post)
    session.flush()
    if _add_deliveries(session, post, checked.accounts, checked.due, now,
                       note(QUEUED, name=user.name), note(SENT_FOR_REVIEW, name=user.name)):
        approval.asked(session, user, post, now=now)
    record(session, user, "create", "post", post.id, _organisation(checked), _audited(post))
    return post


def _audited(post: Post) -> dict[str, object]:
    """What the audit log keeps of a post's content (its `changes`)."""
    return {"text": post.text, "text_x": post.text_x, "text_facebook": post.text_facebook,
            "link": post.link, "first_comment": post.first_comment,
            "scheduled_at": post.scheduled_at, "thread": [part.text for part in post.parts],
            "images": [item.media_id for item in post.media]}


def _organisation(checked: _Checked) -> int | None:
    return one_of(account.organisation_id for account in checked.accounts)


def check_post(session: Session, user: User, draft: PostDraft, now: datetime | None = None
               ) -> list[UserError]:
    """What `create_post` would refuse the draft for, saving nothing (empty: it would be
    queued). For a preview of many posts at once (publisher.bulk_import)."""
    try:
        _check(session, user, draft, now or utcnow())
    except ValidationErrors as refused:
        return refused.errors
    return []


def _add_deliveries(session: Session, post: Post, accounts: list[Account], due: datetime,
                    now: datetime, detail: str, review_detail: str) -> bool:
    """One delivery per account: scheduled, or awaiting approval where the account needs it
    (publisher.approval). Whether any waits for approval."""
    for_review = False
    for account in accounts:
        state = approval.delivery_state_for(account)
        for_review |= state is DeliveryState.AWAITING_APPROVAL
        delivery = Delivery(account=account, due_at=due, next_attempt_at=due,
                            state=state, updated_at=now)
        post.deliveries.append(delivery)
        session.flush()
        record_event(session, delivery.id, None, state,
                     review_detail if state is DeliveryState.AWAITING_APPROVAL else detail)
    return for_review


def _check_images(session: Session, images: list[DraftImage], platforms: set[Platform],
                  errors: list[UserError]) -> list[DraftImage]:
    """Images as the chosen platforms take them: how many, how large, how long a description."""
    if len(images) > MAX_IMAGES:
        errors.append(UserError(N_("At most %(limit)s images per post."), field="media",
                                limit=MAX_IMAGES))
    checked = []
    for number, image in enumerate(images, 1):
        name = image.name or f"#{number}"
        stored = session.get(MediaFile, image.media_id)
        if stored is None:
            errors.append(UserError(N_("Image %(name)s could not be found: choose it again."),
                                    field="media", name=name))
            continue
        alt_text = image.alt_text.strip()
        if Platform.X in platforms and len(alt_text) > X_ALT_TEXT_MAX:
            errors.append(UserError(
                N_("The description of %(name)s is too long for X: %(count)s of %(limit)s "
                   "characters."), field="media", name=name, count=len(alt_text),
                limit=X_ALT_TEXT_MAX))
        for platform in sorted(platforms):
            limit = PLATFORM_IMAGE_LIMITS[platform]
            if stored.size > limit:
                errors.append(UserError(
                    N_("%(name)s is %(size)s MB, larger than %(platform)s accepts (%(limit)s MB). "
                       "Choose a smaller picture, or do not publish this post to %(platform)s."),
                    field="media", name=name, size=megabytes(stored.size),
                    platform=PLATFORM_NAMES[platform], limit=limit // MB))
        checked.append(DraftImage(image.media_id, alt_text, image.name))
    return checked


def _check_thread(thread: list[str], first: str, platforms: set[Platform],
                  errors: list[UserError]) -> list[str]:
    """Follow-up tweets: only with an X account, each within X's limit, none repeated."""
    typed = [as_typed(p) for p in thread if p and p.strip()]
    parts = [p.strip() for p in typed]
    if not parts:
        return []
    if Platform.X not in platforms:
        errors.append(UserError(
            N_("A thread is published only on X: choose an X account, or remove the follow-up "
               "parts."), field="thread"))
    if len(parts) > MAX_THREAD_PARTS:
        errors.append(UserError(N_("A thread may have at most %(limit)s follow-up parts."),
                                field="thread", limit=MAX_THREAD_PARTS))
    seen = {first.strip()}
    for number, (part, as_written) in enumerate(zip(parts, typed, strict=True), 2):
        count = x_count(as_written)
        if count > X_MAX_WEIGHTED:
            errors.append(UserError(
                N_("Part %(number)s of the thread is too long for X: %(count)s of %(limit)s "
                   "characters (every link counts as 23)."),
                field="thread", number=number, count=count, limit=X_MAX_WEIGHTED))
        if part in seen:
            errors.append(UserError(
                N_("Part %(number)s of the thread repeats an earlier part: X refuses the same "
                   "text twice."), field="thread", number=number))
        seen.add(part)
    return parts


def _check_first_comment(comment: str | None, platforms: set[Platform],
                         errors: list[UserError]) -> str | None:
    comment = as_typed(comment or "").strip() or None
    if comment is None:
        return None
    if Platform.FACEBOOK not in platforms:
        errors.append(UserError(
            N_("A first comment is written only on Facebook: choose a Facebook page, or remove "
               "the comment."), field="first_comment"))
    if len(comment) > FACEBOOK_COMMENT_MAX:
        errors.append(UserError(
            N_("The first comment is too long: %(count)s of %(limit)s characters."),
            field="first_comment", count=len(comment), limit=FACEBOOK_COMMENT_MAX))
    return comment


def post_for(session: Session, user: User, post_id: int) -> Post:
    """A post every one of whose accounts is in the user's scope."""
    post = session.get(Post, post_id)
    if post is None or not all(in_scope(user, d.account.organisation_id)
                               for d in post.deliveries):
        raise NotAllowed("post not in your organisation")
    return post


def posts_for(session: Session, user: User, *, before_id: int | None = None,
              limit: int = 25) -> tuple[list[Post], bool]:
    """Posts on the user's accounts, newest first (by id), after `before_id` if given: a page
    and whether more follow. The scope is applied in SQL, before the limit."""
    require(user, Action.VIEW_DASHBOARD)
    query = select(Post).where(exists().where(
        Delivery.post_id == Post.id, Account.id == Delivery.account_id,
        scope_condition(user, Account.organisation_id))).order_by(Post.id.desc())
    if before_id is not None:
        query = query.where(Post.id < before_id)
    found = list(session.scalars(query.limit(limit + 1)).unique())
    return found[:limit], len(found) > limit


def editable(post: Post) -> bool:
    """Whether `edit_post` would take it now: something waits and nothing is under way."""
    return can_edit(post.deliveries)


def edit_post(session: Session, user: User, post_id: int, draft: PostDraft,
              now: datetime | None = None) -> Post:
    """Change a queued post: its words, link, thread, comment, time, pictures and accounts.

    `draft` is the post as it should be: an account left out is taken off (its delivery
    cancelled), a new one gets a delivery, one whose delivery failed or was cancelled is queued
    again. The post's waiting deliveries are locked first (a guarded UPDATE; on PostgreSQL a
    claim's SKIP LOCKED passes them by), so a worker either sends the new version or had
    already claimed one, and then nothing is changed and the author is told why.
    """
    now = now or utcnow()
    post = post_for(session, user, post_id)
    waiting = lock_waiting(session, post_id, now)
    put_back = {d.account_id for d in post.deliveries if d.state in SENT_AGAIN_FROM} & set(
        draft.account_ids)
    if any_under_way(session, post_id) or not (waiting or put_back):
        raise ValidationErrors([UserError(N_(
            "This post can no longer be changed: it has gone out, or is going out, on at least "
            "one account. Cancel what is still waiting and write a new post."))])
    checked = _check(session, user, draft, now, current_due=post.scheduled_at)
    if post.reply_to_external_id and (
            {a.id for a in checked.accounts} != {d.account_id for d in post.deliveries}
            or checked.parts or checked.first_comment or checked.images):
        # Only that account may write in that thread (publisher.replies), and a reply is a
        # reply, not a thread or a post with pictures and a comment.
        raise ValidationErrors([UserError(N_(
            "A reply in a thread keeps the account it answers from and has no thread, "
            "pictures or first comment: change only its words or its time."))])
    moved = checked.due != post.scheduled_at
    before = _audited(post) | {"accounts": sorted(
        d.account_id for d in post.deliveries if d.id in waiting)}
    _fill(post, checked)
    wanted = {account.id: account for account in checked.accounts}
    for_review = False
    edited = note(EDITED, name=user.name)
    for delivery in post.deliveries:
        account = wanted.pop(delivery.account_id, None)
        if delivery.id in waiting and account is None:
            transition(session, delivery.id, delivery.state, DeliveryState.CANCELLED,
                       detail=note(REMOVED, name=user.name))
        elif delivery.id in waiting:
            for_review |= _change(session, delivery, account, edited,
                                  checked.due if moved else None)
        elif account is not None:  # failed or cancelled before: in the post again
            review = approval.needs_approval(account)
            for_review |= review
            requeue(session, delivery.id, user.name, checked.due,
                    detail=note(ADDED, name=user.name), for_approval=review)
    for_review |= _add_deliveries(session, post, list(wanted.values()), checked.due, now,
                                  note(ADDED, name=user.name),
                                  note(SENT_FOR_REVIEW, name=user.name))
    session.flush()
    if for_review:
        approval.asked(session, user, post, changed=True, now=now)
    after = _audited(post) | {"accounts": sorted(account.id for account in checked.accounts)}
    record(session, user, "update", "post", post.id, _organisation(checked), diff(before, after))
    return post


def _change(session: Session, delivery: Delivery, account: Account, detail: str,
            due: datetime | None) -> bool:
    """A waiting delivery of a changed post: on an account that needs approval it waits for
    approval (again, if it was approved or sent back); elsewhere it keeps its place in the
    queue (one sent back, or waiting, when the rule was lifted, is queued). Whether it waits
    for approval now."""
    state = delivery.state
    if approval.needs_approval(account):
        if state is DeliveryState.AWAITING_APPROVAL:
            change_waiting(session, delivery.id, state, detail, due)
        else:
            to_review(session, delivery.id, state, detail, due)
        return True
    if state in IN_REVIEW:
        values = {"due_at": due, "next_attempt_at": due} if due is not None else {}
        transition(session, delivery.id, state, DeliveryState.SCHEDULED, detail=detail,
                   **values)
    elif state in CLAIMABLE or state is DeliveryState.HELD:
        change_waiting(session, delivery.id, state, detail, due)
    return False


@dataclass
class Fixed:
    """What `fix_and_send_again` did: the post that carries the new version, and whether it is
    a new post (the rest of the old one had gone out already)."""

    post: Post
    new_post: bool


def fix_and_send_again(session: Session, user: User, delivery_id: int, text: str,
                       entered_time: EnteredTime | None, now: datetime | None = None) -> Fixed:
    """A failed delivery changed (words, time) and queued again in one step, through the
    existing doors: `edit_post` when nothing of its post has gone out (it puts the account
    back, waiting for approval where that is needed), else `create_post` for its account alone
    (the post as it went out elsewhere stays as it was)."""
    post_id = session.scalar(select(Delivery.post_id).where(Delivery.id == delivery_id))
    if post_id is None:
        raise LookupError(delivery_id)
    post = post_for(session, user, post_id)
    delivery = next(d for d in post.deliveries if d.id == delivery_id)
    if delivery.state is not DeliveryState.FAILED:
        raise ValidationErrors([UserError(N_("Only a failed delivery can be changed and sent "
                                             "again here."))])
    if any_under_way(session, post_id):
        accounts = [delivery.account]
    else:
        accounts = [d.account for d in post.deliveries
                    if d.state in WAITING_FOR_EDIT or d.id == delivery_id]
    platforms = {a.platform for a in accounts}
    draft = PostDraft(
        text=text, account_ids=[a.id for a in accounts], link=post.link,
        entered_time=entered_time,
        media=[DraftImage(m.media_id, m.alt_text, f"#{m.position}") for m in post.media],
        thread=[p.text for p in post.parts] if Platform.X in platforms else [],
        first_comment=post.first_comment if Platform.FACEBOOK in platforms else None)
    if len(accounts) == 1 and accounts[0].id == delivery.account_id and any_under_way(
            session, post_id):
        return Fixed(create_post(session, user, draft, now), True)
    return Fixed(edit_post(session, user, post_id, draft, now), False)

"""Telling people when a delivery fails, may not have gone out, or is held for a broken login:
its author and the comms team whose scope covers the account. Once a delivery that may not have
gone out is settled, that notice is resolved and whoever read it hears what became of it. And,
from the daily token check, when an account's login stopped working (the comms team and the
authors of the posts it holds) or will soon (the comms team), once per change.

Called by the dispatcher in the same transaction as the transition, so the news is stored exactly
when the problem is; e-mail follows from core.mail's queue.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth import in_scope
from core.clock import STOCKHOLM
from core.i18n import N_
from core.notifications import Msgid, Notification, notify, resolve
from core.users import Role, User
from publisher.history_notes import parse
from publisher.models import Account, CredentialStatus, Delivery, DeliveryState, Post
from publisher.user_messages import explain

FAILED = "delivery_failed"
UNCERTAIN = "delivery_uncertain"
HELD = "delivery_held"
KINDS = {DeliveryState.FAILED: FAILED, DeliveryState.UNCERTAIN: UNCERTAIN,
         DeliveryState.HELD: HELD}
TEAM_ROLES = (Role.COMMS, Role.ADMIN)
EXCERPT_LENGTH = 80

SUBJECTS = {
    FAILED: N_("Post to %(account)s failed"),
    UNCERTAIN: N_("Post to %(account)s may not have gone out"),
    HELD: N_("Post to %(account)s is on hold"),
}
NOT_PUBLISHED = N_("The post was not published.")

# What became of a delivery that "may not have gone out": shown with that notice once settled.
SETTLED = {
    DeliveryState.PUBLISHED: N_("Resolved: the post was found on the platform and is "
                                "published."),
    DeliveryState.RETRY_WAIT: N_("Resolved: the post was not on the platform, so Megafon sends "
                                 "it again."),
}
SETTLED_OTHERWISE = N_("Resolved: the post did not go out. A newer notice says why.")
# And the news of it for whoever may have read the warning (and may be about to act on it).
FOUND = "delivery_found"
SENT_AGAIN = "delivery_sent_again"
FOLLOW_UPS = {
    DeliveryState.PUBLISHED: (FOUND, N_("Post to %(account)s was published after all"), N_(
        "Megafon found the post on the platform: it is published. Do not send it again.")),
    DeliveryState.RETRY_WAIT: (SENT_AGAIN, N_("Post to %(account)s is being sent again"), N_(
        "The post was not on the platform, so Megafon sends it again by itself. Do not send "
        "it yourself.")),
}
BODY = N_("Post by %(author)s: “%(excerpt)s”\n\n%(explanation)s")
BODY_WITH_ERROR = N_("Post by %(author)s: “%(excerpt)s”\n\n%(explanation)s\n\n"
                     "The platform said: %(error)s")


ACCOUNT_BROKEN = "account_broken"
ACCOUNT_EXPIRING = "account_expiring"
ACCOUNT_SUBJECTS = {
    ACCOUNT_BROKEN: N_("The login for %(account)s stopped working"),
    ACCOUNT_EXPIRING: N_("The login for %(account)s expires soon"),
}
ACCOUNT_BROKEN_BODY = N_("%(account)s cannot publish until it is reconnected. The platform said: "
                         "%(reason)s\n\nQueued posts on hold: %(held)s. Reconnect the account "
                         "under Accounts: they go out once it works again.")
ACCOUNT_EXPIRING_BODY = N_("The login for %(account)s expires on %(date)s. Reconnect the account "
                           "under Accounts before then, or its queued posts will be held.")
# A link of its own per account: an unread notice about one account never hides another.
ACCOUNT_ROW = "/accounts/#account-{id}"


def excerpt(text: str, length: int = EXCERPT_LENGTH) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[: length - 1].rstrip() + "…"


def recipients(session: Session, delivery: Delivery) -> list[User]:
    """The post's author, then every active comms or admin user whose scope covers the account."""
    return [delivery.post.author, *_team(session, delivery.account.organisation_id)]


def _explanation(delivery: Delivery) -> str:
    return explain(delivery) or NOT_PUBLISHED


def notify_delivery_problem(session: Session, delivery_id: int) -> list[Notification]:
    """Notify about a delivery that is `failed`, `uncertain` or `held`, in the caller's
    transaction (the one that moved it there).

    Idempotent while the earlier notice of the same kind is unread; does nothing for a delivery
    in any other state. Returns the notifications created.
    """
    delivery = session.get(Delivery, delivery_id, populate_existing=True)
    if delivery is None or delivery.state not in KINDS:
        return []
    kind = KINDS[delivery.state]
    error = (delivery.error_message or "").strip()
    if parse(error) is not None:
        # Megafon's own note (too late, not found …), not the platform's words: the explanation
        # says it in the reader's language.
        error = ""
    return notify(
        session, recipients(session, delivery), kind, SUBJECTS[kind],
        BODY_WITH_ERROR if error else BODY, f"/deliveries/{delivery.id}",
        account=delivery.account.name, author=delivery.post.author.name,
        excerpt=excerpt(delivery.post.text), explanation=Msgid(_explanation(delivery)),
        error=error, delivery_id=delivery.id,
    )


def notify_delivery_settled(session: Session, delivery_id: int) -> list[Notification]:
    """A delivery that was `uncertain` is no longer: the notices that said it may not have gone
    out are resolved with what became of it (published, sent again, or failed, which has a
    notice of its own), and whoever may have read them is told the outcome, so nobody checks
    the account or sends the post again for nothing. In the caller's transaction (the one that
    moved it); does nothing while it is still uncertain. Returns the notifications created.
    """
    delivery = session.get(Delivery, delivery_id, populate_existing=True)
    if delivery is None or delivery.state is DeliveryState.UNCERTAIN:
        return []
    told = resolve(session, [UNCERTAIN], f"/deliveries/{delivery.id}",
                   SETTLED.get(delivery.state, SETTLED_OTHERWISE))
    if not told or delivery.state not in FOLLOW_UPS:
        return []
    kind, subject, explanation = FOLLOW_UPS[delivery.state]
    readers = session.scalars(select(User).where(User.id.in_({n.user_id for n in told}))
                              .order_by(User.id))
    return notify(session, readers, kind, subject, BODY, f"/deliveries/{delivery.id}",
                  account=delivery.account.name, author=delivery.post.author.name,
                  excerpt=excerpt(delivery.post.text), explanation=Msgid(explanation),
                  delivery_id=delivery.id)


def _team(session: Session, organisation_id: int | None) -> list[User]:
    team = session.scalars(
        select(User).where(User.role.in_(TEAM_ROLES), User.active.is_(True)).order_by(User.id))
    return [u for u in team if in_scope(u, organisation_id)]


def notify_account_problem(session: Session, account_id: int,
                           held: Sequence[int] = ()) -> list[Notification]:
    """Notify about an account whose login is `broken` (the comms team and the authors of the
    `held` deliveries) or `expiring` (the comms team), in the caller's transaction. Does nothing
    for an account that is fine; idempotent while the earlier notice is unread."""
    account = session.get(Account, account_id, populate_existing=True)
    if account is None:
        return []
    people = _team(session, account.organisation_id)
    if account.credentials_status is CredentialStatus.BROKEN:
        authors = session.scalars(
            select(User).join(Post, Post.author_id == User.id).join(
                Delivery, Delivery.post_id == Post.id)
            .where(Delivery.id.in_(list(held))).distinct().order_by(User.id)) if held else []
        return notify(session, [*authors, *people], ACCOUNT_BROKEN,
                      ACCOUNT_SUBJECTS[ACCOUNT_BROKEN], ACCOUNT_BROKEN_BODY,
                      ACCOUNT_ROW.format(id=account.id),
                      account=account.name, reason=account.credentials_problem or "",
                      held=len(held), account_id=account.id)
    if account.credentials_status is CredentialStatus.EXPIRING and account.credentials_expire_at:
        date = account.credentials_expire_at.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M")
        return notify(session, people, ACCOUNT_EXPIRING, ACCOUNT_SUBJECTS[ACCOUNT_EXPIRING],
                      ACCOUNT_EXPIRING_BODY, ACCOUNT_ROW.format(id=account.id),
                      account=account.name, date=date,
                      account_id=account.id)
    return []

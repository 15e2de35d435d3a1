"""What a queued post may collide with on its own accounts: the same words again (X refuses a
repeated text; on a Page it looks like a slip) or another post minutes apart (the second buries
the first). Warnings, not refusals: a reminder tweet the next morning is often meant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from publisher.deliveries import ON_THE_ACCOUNT
from publisher.models import Account, Delivery, DeliveryState, Post

S = DeliveryState
CLOSE = timedelta(minutes=15)
SAME_WORDS_WITHIN = timedelta(days=7)
# What is, or may be, on the platform, or will be: failed and cancelled posts collide with nothing.


@dataclass(frozen=True)
class Clash:
    account: str  # the account's name in Megafon
    post_id: int  # the other post
    text: str  # its words
    at: datetime  # its time (UTC)
    same_words: bool  # otherwise: close in time


def clashes(session: Session, post: Post) -> list[Clash]:
    """Other posts on this post's waiting accounts that share its words (within a week either
    side) or its time (within a quarter of an hour), soonest first; one per account and post."""
    accounts = [d.account_id for d in post.deliveries if d.state in ON_THE_ACCOUNT]
    if not accounts:
        return []
    at = post.scheduled_at
    rows = session.execute(
        select(Account.name, Post.id, Post.text, Delivery.due_at)
        .join(Account, Account.id == Delivery.account_id)
        .join(Post, Post.id == Delivery.post_id)
        .where(Delivery.account_id.in_(accounts), Delivery.post_id != post.id,
               Delivery.state.in_(ON_THE_ACCOUNT),
               or_(Delivery.due_at.between(at - CLOSE, at + CLOSE),
                   and_(Post.text == post.text,
                        Delivery.due_at.between(at - SAME_WORDS_WITHIN,
                                                at + SAME_WORDS_WITHIN))))
        .order_by(Delivery.due_at, Account.name)).all()
    return [Clash(row.name, row.id, row.text, row.due_at, row.text == post.text)
            for row in rows]

"""Small builders shared by tests: posts through the real service, counts straight from the db."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from core.db import Database
from core.users import User
from publisher.models import Account, Delivery, Post
from publisher.posts import PostDraft, create_post


def queue_post(db: Database, user: User, accounts: list[Account], text: str = "Hej Värmland!",
               *, link: str | None = None, at_local: datetime | None = None,
               now: datetime | None = None) -> Post:
    with db.session() as session:
        author = session.get(User, user.id)
        return create_post(session, author, PostDraft(
            text=text, link=link, account_ids=[a.id for a in accounts], scheduled_local=at_local),
            now=now)


def count(db: Database, model: type) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def deliveries(db: Database) -> list[Delivery]:
    with db.session() as session:
        return list(session.scalars(select(Delivery).order_by(Delivery.id)).unique())


__all__ = ["queue_post", "count", "deliveries", "Post"]

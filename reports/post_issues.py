"""Which issues our own posts are about, by the same watchlist queries that classify mentions.

The board's report puts what we said beside what media wrote, per issue. A post belongs to an
issue when the issue's watchlist query matches the post's words (its text, its thread's parts,
its first comment), read by the same matcher (monitor.matcher) that files mentions under issues;
so "Kollektivtrafik" means the same thing on both sides of the page.

The answer is stored (`post_watchlists`) so the report counts it in SQL. `post_classifications`
says which set of watchlist queries each post was last read with (a fingerprint of the queries):
a post published since, or a post read before a watchlist was added or its query changed, is
due again. `classify_due` reads a batch of due posts; any number of workers may run it at once,
since writing the same answer twice is harmless (the rows are replaced by the same rows, and a
duplicate insert is ignored).
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import ForeignKey, String, delete, exists, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.clock import utcnow
from core.db import Base, UTCDateTime, dialect_insert
from monitor.matcher import Matcher
from monitor.models import Watchlist
from publisher.models import Delivery, DeliveryState, Post, PostPart

BATCH = 500


class PostWatchlist(Base):
    """One post filed under one issue (a watchlist) by its query."""

    __tablename__ = "post_watchlists"

    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"),
                                         primary_key=True)
    watchlist_id: Mapped[int] = mapped_column(ForeignKey("watchlists.id", ondelete="CASCADE"),
                                              primary_key=True, index=True)


class PostClassification(Base):
    """When a post was last filed, and with which watchlist queries (their fingerprint)."""

    __tablename__ = "post_classifications"

    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"),
                                         primary_key=True)
    version: Mapped[str] = mapped_column(String(64))
    classified_at: Mapped[datetime] = mapped_column(UTCDateTime())


def _watchlists(session: Session) -> list[Watchlist]:
    return list(session.scalars(select(Watchlist).where(Watchlist.active)
                                .order_by(Watchlist.id)))


def fingerprint(watchlists: list[Watchlist]) -> str:
    """What the filing depends on: each active watchlist's id and query."""
    digest = hashlib.sha256()
    for watchlist in watchlists:
        digest.update(f"{watchlist.id}\x1f{watchlist.query}\x1e".encode())
    return digest.hexdigest()


def post_words(post: Post, parts: list[str]) -> str:
    """Everything a reader of the post reads: text, thread parts, first comment."""
    return "\n\n".join(text for text in (post.text, *parts, post.first_comment or "") if text)


def classify_due(session: Session, *, limit: int = BATCH, now: datetime | None = None) -> int:
    """File up to `limit` published posts that are not filed under the current queries yet;
    the number filed. Call again while it returns `limit`."""
    watchlists = _watchlists(session)
    version = fingerprint(watchlists)
    published = exists().where(Delivery.post_id == Post.id,
                               Delivery.state == DeliveryState.PUBLISHED)
    current = exists().where(PostClassification.post_id == Post.id,
                             PostClassification.version == version)
    posts = list(session.scalars(select(Post).where(published, ~current)
                                 .order_by(Post.id).limit(limit)))
    if not posts:
        return 0
    ids = [post.id for post in posts]
    parts: dict[int, list[str]] = {}
    for post_id, text in session.execute(select(PostPart.post_id, PostPart.text)
                                         .where(PostPart.post_id.in_(ids))
                                         .order_by(PostPart.post_id, PostPart.position)):
        parts.setdefault(post_id, []).append(text)
    matcher = Matcher.from_models(watchlists)
    active = {watchlist.id for watchlist in watchlists}
    filed = [{"post_id": post.id, "watchlist_id": watchlist_id}
             for post in posts
             for watchlist_id in matcher.match(post_words(post, parts.get(post.id, [])))
             .watchlist_ids if watchlist_id in active]
    now = now or utcnow()
    insert = dialect_insert(session)
    session.execute(delete(PostWatchlist).where(PostWatchlist.post_id.in_(ids)))
    if filed:
        session.execute(insert(PostWatchlist).values(filed).on_conflict_do_nothing())
    session.execute(insert(PostClassification).values(
        [{"post_id": i, "version": version, "classified_at": now} for i in ids])
        .on_conflict_do_update(index_elements=["post_id"],
                               set_={"version": version, "classified_at": now}))
    return len(posts)


"""What we said beside what media wrote: our own publishing over a report's period.

A *publication* is a post as it went out on one account (a delivery that reached `published`):
one post sent to the district's Page and its X account is two publications. Its time is when it
went out (`deliveries.published_at`, indexed). Its figures are the highest the network reported
for it (publisher.metrics keeps every fetch; counts only grow, so the highest is the latest
honest figure): *engagement* is likes (all reactions on Facebook) + reposts/shares + replies +
quotes + comments; *reach* is impressions where the network reports them (X does; a Facebook
Page post's reach needs insights the app does not ask for), so reach is a floor, said on the page.

Issues: a post counts under an issue when that issue's watchlist query matches its words
(reports.post_issues), the same rule that files mentions.

Scope: a district user sees every account's publishing, split by the district and each
association; an association's user sees their association's own accounts (core.auth's scope,
applied in SQL) beside the district-wide coverage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session

from core.auth import scope_condition
from core.users import Organisation, OrganisationKind, User
from monitor.models import Watchlist
from publisher.metrics import PostMetric
from publisher.models import Account, Delivery, DeliveryState, Post
from reports.period import Bucket, Period
from reports.post_issues import PostWatchlist

TOP_POSTS = 10
EXCERPT = 280


@dataclass
class IssuePosts:
    watchlist_id: int
    name: str
    count: int
    series: list[int]  # publications per bucket
    reach: int
    engagement: int


@dataclass
class OrganisationPosts:
    organisation_id: int
    name: str
    kind: str  # "district" | "association"
    count: int
    previous: int
    reach: int
    engagement: int


@dataclass
class TopPost:
    delivery_id: int
    post_id: int
    text: str  # the start of the post, at most EXCERPT characters
    account: str
    platform: str
    organisation: str
    at: datetime
    url: str | None
    likes: int
    reposts: int
    replies: int
    quotes: int
    comments: int
    impressions: int | None
    engagement: int
    issues: list[int] = field(default_factory=list)


@dataclass
class Publishing:
    """Our publishing in a period, for the reader's scope."""

    scope: str  # the association's name when narrowed to one; "" for every account
    count: int
    previous: int
    series: list[int]
    reach: int
    engagement: int
    by_issue: dict[int, IssuePosts]
    by_organisation: list[OrganisationPosts]
    top: list[TopPost]


def _bucket_of(column: ColumnElement[datetime], buckets: list[Bucket]) -> ColumnElement[int]:
    return case(*((column < bucket.end, i) for i, bucket in enumerate(buckets)),
                else_=len(buckets) - 1).label("bucket")


def _went_out(user: User, period: Period) -> ColumnElement[bool]:
    return and_(Delivery.state == DeliveryState.PUBLISHED,
                Delivery.published_at >= period.start, Delivery.published_at < period.end,
                scope_condition(user, Account.organisation_id))


def _figures(user: User, period: Period) -> Any:
    """Each publication of the period with the highest figures reported for it."""
    metrics = (select(PostMetric.delivery_id,
                      func.max(PostMetric.likes).label("likes"),
                      func.max(PostMetric.reposts).label("reposts"),
                      func.max(PostMetric.replies).label("replies"),
                      func.max(PostMetric.quotes).label("quotes"),
                      func.max(PostMetric.comments).label("comments"),
                      func.max(PostMetric.impressions).label("impressions"))
               .join(Delivery, Delivery.id == PostMetric.delivery_id)
               .join(Account, Account.id == Delivery.account_id)
               .where(_went_out(user, period))
               .group_by(PostMetric.delivery_id).subquery("metrics"))
    engagement = (func.coalesce(metrics.c.likes, 0) + func.coalesce(metrics.c.reposts, 0)
                  + func.coalesce(metrics.c.replies, 0) + func.coalesce(metrics.c.quotes, 0)
                  + func.coalesce(metrics.c.comments, 0))
    return (select(Delivery.id.label("delivery_id"), Delivery.post_id, Delivery.published_at,
                   Account.organisation_id, engagement.label("engagement"),
                   func.coalesce(metrics.c.impressions, 0).label("reach"))
            .join(Account, Account.id == Delivery.account_id)
            .outerjoin(metrics, metrics.c.delivery_id == Delivery.id)
            .where(_went_out(user, period)).subquery("went_out"))


def our_publishing(session: Session, user: User, period: Period, buckets: list[Bucket]
                   ) -> Publishing:
    """Our publications in `period`, within what `user` may see (the caller checks that the
    user may read reports)."""
    rows = _figures(user, period)
    bucket = _bucket_of(rows.c.published_at, buckets)
    series = [0] * len(buckets)
    reach = engagement = 0
    for index, n, r, e in session.execute(
            select(bucket, func.count(), func.sum(rows.c.reach), func.sum(rows.c.engagement))
            .group_by(bucket)):
        series[index] = n
        reach += int(r or 0)
        engagement += int(e or 0)

    by_issue: dict[int, IssuePosts] = {}
    names = dict(session.execute(select(Watchlist.id, Watchlist.name)).all())
    for watchlist_id, index, n, r, e in session.execute(
            select(PostWatchlist.watchlist_id, bucket, func.count(), func.sum(rows.c.reach),
                   func.sum(rows.c.engagement))
            .join(PostWatchlist, PostWatchlist.post_id == rows.c.post_id)
            .group_by(PostWatchlist.watchlist_id, bucket)):
        issue = by_issue.setdefault(watchlist_id,
                                    IssuePosts(watchlist_id, names.get(watchlist_id, "?"), 0,
                                               [0] * len(buckets), 0, 0))
        issue.series[index] = n
        issue.count += n
        issue.reach += int(r or 0)
        issue.engagement += int(e or 0)

    previous = period.previous()
    before = dict(session.execute(
        select(Account.organisation_id, func.count())
        .select_from(Delivery).join(Account, Account.id == Delivery.account_id)
        .where(_went_out(user, previous)).group_by(Account.organisation_id)).all())
    now = {org: (n, int(r or 0), int(e or 0)) for org, n, r, e in session.execute(
        select(rows.c.organisation_id, func.count(), func.sum(rows.c.reach),
               func.sum(rows.c.engagement)).group_by(rows.c.organisation_id))}
    organisations = session.scalars(
        select(Organisation).where(Organisation.id.in_(set(now) | set(before)))).all()
    by_organisation = sorted(
        (OrganisationPosts(o.id, o.name, o.kind.value, *now.get(o.id, (0, 0, 0))[:1],
                           before.get(o.id, 0), *now.get(o.id, (0, 0, 0))[1:])
         for o in organisations),
        key=lambda r: (r.kind != OrganisationKind.DISTRICT.value, -r.count, r.name.casefold()))

    scope = "" if user.organisation.kind is OrganisationKind.DISTRICT else user.organisation.name
    return Publishing(scope, sum(series), sum(before.values()), series, reach, engagement,
                      by_issue, by_organisation, _top(session, user, period))


def _top(session: Session, user: User, period: Period) -> list[TopPost]:
    """The publications with most engagement (then reach, then newest)."""
    rows = _figures(user, period)
    top = (select(rows).order_by(rows.c.engagement.desc(), rows.c.reach.desc(),
                                 rows.c.published_at.desc(), rows.c.delivery_id.desc())
           .limit(TOP_POSTS).subquery("top"))
    best = session.execute(
        select(top.c.delivery_id, top.c.engagement, Post, Account, Organisation.name,
               Delivery.published_at, Delivery.external_url)
        .join(Delivery, Delivery.id == top.c.delivery_id)
        .join(Post, Post.id == Delivery.post_id)
        .join(Account, Account.id == Delivery.account_id)
        .join(Organisation, Organisation.id == Account.organisation_id)
        .order_by(top.c.engagement.desc(), top.c.reach.desc(), top.c.published_at.desc(),
                  top.c.delivery_id.desc())).all()
    ids = [row.delivery_id for row in best]
    highest = {row.delivery_id: row for row in session.execute(
        select(PostMetric.delivery_id, func.max(PostMetric.likes).label("likes"),
               func.max(PostMetric.reposts).label("reposts"),
               func.max(PostMetric.replies).label("replies"),
               func.max(PostMetric.quotes).label("quotes"),
               func.max(PostMetric.comments).label("comments"),
               func.max(PostMetric.impressions).label("impressions"))
        .where(PostMetric.delivery_id.in_(ids)).group_by(PostMetric.delivery_id))}
    issues: dict[int, list[int]] = {}
    for post_id, watchlist_id in session.execute(
            select(PostWatchlist.post_id, PostWatchlist.watchlist_id)
            .where(PostWatchlist.post_id.in_([row.Post.id for row in best]))
            .order_by(PostWatchlist.watchlist_id)):
        issues.setdefault(post_id, []).append(watchlist_id)
    found = []
    for row in best:
        figures = highest.get(row.delivery_id)
        text = " ".join(row.Post.text.split())
        found.append(TopPost(
            row.delivery_id, row.Post.id,
            text if len(text) <= EXCERPT else text[:EXCERPT - 1].rstrip() + "…",
            row.Account.name, row.Account.platform.value, row.name, row.published_at,
            row.external_url,
            *((figures.likes, figures.reposts, figures.replies, figures.quotes,
               figures.comments, figures.impressions) if figures else (0, 0, 0, 0, 0, None)),
            row.engagement, issues.get(row.Post.id, [])))
    return found

"""The coverage matrix: for each campaign and account, how far the campaign got there.

Computed in one SQL query from the campaign's posts (campaign_posts) and their deliveries, so
it cannot disagree with the queue: a post changed, cancelled, failed or published moves its
cell at once. An account with several of the campaign's posts shows the one that got furthest
(published, then on its way, then failed, then cancelled; the newest among equals).
"""

from __future__ import annotations

import csv
import enum
import io
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, and_, case, false, func, or_, select, type_coerce
from sqlalchemy.orm import Session, aliased

from campaigns.campaigns import campaign_for
from campaigns.models import Campaign, CampaignAsk, CampaignPost, CampaignTarget, TargetKind
from core.auth import scope_condition
from core.clock import utcnow
from core.users import Organisation, OrganisationKind, User
from publisher.metrics import PostMetric
from publisher.models import Account, Delivery, DeliveryState, Platform

S = DeliveryState


class Cell(enum.StrEnum):
    NOT_ASKED = "not_asked"  # no post of the campaign on the account, its association not asked
    ASKED = "asked"  # its association was asked and has not answered yet
    DECLINED = "declined"  # its association said no, with a reason
    PLANNED = "planned"  # scheduled, or waiting to be tried again
    SENDING = "sending"
    PUBLISHED = "published"
    FAILED = "failed"
    CANCELLED = "cancelled"
    HELD = "held"  # the account's login broke; goes out when it is reconnected
    UNCERTAIN = "uncertain"  # perhaps out: being checked on the platform
    AWAITING_APPROVAL = "awaiting_approval"  # written, waiting for a reviewer (publisher.approval)
    RETURNED = "returned"  # sent back by a reviewer: its author changes it


# Which of an account's deliveries a cell shows: the lowest rank, then the newest.
_RANK = {S.PUBLISHED: 0, S.SENDING: 1, S.UNCERTAIN: 1, S.SCHEDULED: 2, S.RETRY_WAIT: 2,
         S.HELD: 2, S.AWAITING_APPROVAL: 2, S.RETURNED: 2, S.FAILED: 3, S.CANCELLED: 4}


@dataclass(frozen=True)
class Row:
    account_id: int
    account_name: str
    platform: Platform
    organisation_id: int
    organisation_name: str
    cell: Cell
    post_id: int | None
    delivery_id: int | None
    when: datetime | None  # planned: when it goes out; published: when it went out
    url: str | None
    problem: str | None  # failed or held: why
    reach: int | None
    engagement: int | None
    overdue: bool  # the deadline has passed and it is not published
    asked_by: str | None = None  # asked: who asked (and `when` says when)


@dataclass
class Matrix:
    campaign: Campaign
    rows: list[Row]
    counts: Counter[Cell]
    overdue: int
    organisations: list[tuple[int, str]]  # the filter's choices (id, name): those with a row


def _target_condition(campaign: Campaign) -> object:
    if campaign.target_kind is TargetKind.ALL:
        return Account.active.is_(True)
    if campaign.target_kind is TargetKind.DISTRICT:
        return and_(Account.active.is_(True), Organisation.kind == OrganisationKind.DISTRICT)
    return and_(Account.active.is_(True), Account.organisation_id.in_(
        select(CampaignTarget.organisation_id).where(CampaignTarget.campaign_id == campaign.id)))


def matrix(session: Session, user: User, campaign_id: int, *, organisation_id: int | None = None,
           cell: Cell | None = None, now: datetime | None = None) -> Matrix:
    """The campaign's coverage as the user may see it (an association's users: their own
    accounts), optionally narrowed to one organisation and one state."""
    campaign = campaign_for(session, user, campaign_id)
    now = now or utcnow()
    rank = case(*((Delivery.state == state, value) for state, value in _RANK.items()), else_=9)
    linked = (select(Delivery.id.label("delivery_id"), Delivery.post_id, Delivery.account_id,
                     Delivery.state, Delivery.next_attempt_at, Delivery.published_at,
                     Delivery.external_url, Delivery.error_message,
                     func.row_number().over(partition_by=Delivery.account_id,
                                            order_by=(rank, Delivery.id.desc())).label("n"))
              .join(CampaignPost, CampaignPost.post_id == Delivery.post_id)
              .where(CampaignPost.campaign_id == campaign.id).subquery("linked"))
    best = select(linked).where(linked.c.n == 1).subquery("best")
    metrics = (select(PostMetric.delivery_id,
                      func.max(PostMetric.impressions).label("impressions"),
                      (func.max(PostMetric.likes) + func.max(PostMetric.reposts)
                       + func.max(PostMetric.replies) + func.max(PostMetric.quotes)
                       + func.max(PostMetric.comments)).label("engagement"))
               .where(PostMetric.delivery_id.in_(select(best.c.delivery_id)))
               .group_by(PostMetric.delivery_id).subquery("metrics"))
    state = type_coerce(best.c.state, String)
    asker = aliased(User)
    cell_sql = case((best.c.delivery_id.is_(None) & CampaignAsk.declined_at.is_not(None),
                     Cell.DECLINED.value),
                    (best.c.delivery_id.is_(None) & CampaignAsk.id.is_not(None),
                     Cell.ASKED.value),
                    (best.c.delivery_id.is_(None), Cell.NOT_ASKED.value),
                    (state.in_([S.SCHEDULED.value, S.RETRY_WAIT.value]), Cell.PLANNED.value),
                    else_=state)
    past_deadline = campaign.deadline < now
    overdue_sql = (and_(cell_sql != Cell.PUBLISHED.value) if past_deadline else false())
    query = (select(Account.id, Account.name, Account.platform, Organisation.id,
                    Organisation.name, cell_sql.label("cell"), best.c.post_id,
                    best.c.delivery_id, best.c.next_attempt_at, best.c.published_at,
                    best.c.external_url, best.c.error_message, metrics.c.impressions,
                    metrics.c.engagement, overdue_sql.label("overdue"), CampaignAsk.asked_at,
                    CampaignAsk.decline_reason, asker.name)
             .join(Organisation, Organisation.id == Account.organisation_id)
             .outerjoin(best, best.c.account_id == Account.id)
             .outerjoin(metrics, metrics.c.delivery_id == best.c.delivery_id)
             .outerjoin(CampaignAsk, and_(CampaignAsk.campaign_id == campaign.id,
                                          CampaignAsk.organisation_id == Account.organisation_id))
             .outerjoin(asker, asker.id == CampaignAsk.asked_by_id)
             .where(or_(_target_condition(campaign), best.c.delivery_id.is_not(None),
                        and_(CampaignAsk.id.is_not(None), Account.active.is_(True))),
                    scope_condition(user, Account.organisation_id))
             .order_by(Organisation.kind.desc(), Organisation.name, Account.name, Account.id))
    everything = session.execute(query).all()
    organisations = {r[3]: r[4] for r in everything}
    rows = []
    for (account_id, name, platform, org_id, org_name, cell_value, post_id, delivery_id,
         next_at, published_at, url, error, reach, engagement, overdue, asked_at, reason,
         asked_by) in everything:
        row_cell = Cell(cell_value)
        if organisation_id is not None and org_id != organisation_id:
            continue
        if cell is not None and row_cell is not cell:
            continue
        published = row_cell is Cell.PUBLISHED
        asked = row_cell in {Cell.ASKED, Cell.DECLINED}
        rows.append(Row(
            account_id, name, platform, org_id, org_name, row_cell, post_id, delivery_id,
            published_at if published else (next_at if delivery_id else
                                            (asked_at if asked else None)),
            url if published else None,
            error if row_cell in {Cell.FAILED, Cell.HELD} else
            (reason if row_cell is Cell.DECLINED else None),
            (reach or 0) if published else None, (engagement or 0) if published else None,
            bool(overdue), asked_by if asked else None))
    return Matrix(campaign, rows, Counter(r.cell for r in rows),
                  sum(r.overdue for r in rows), list(organisations.items()))


def to_csv(matrix: Matrix, headers: list[str], cell_label: Callable[[Cell], str],
           when: Callable[[datetime | None], str], overdue_label: str,
           platforms: Mapping[Platform, str]) -> str:
    """The matrix as CSV, one row per account: labels and times as the caller shows them."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    for row in matrix.rows:
        writer.writerow([row.organisation_name, row.account_name, platforms[row.platform],
                         cell_label(row.cell), when(row.when), row.url or "", row.problem or "",
                         "" if row.reach is None else row.reach,
                         "" if row.engagement is None else row.engagement,
                         overdue_label if row.overdue else ""])
    return out.getvalue()

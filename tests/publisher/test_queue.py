"""The dashboard's lists: an association's users see their own deliveries even when the district
has hundreds before them; the counts beside "recent" count every delivery of the period, not
only the hundred listed; both databases.

The deliveries are written as rows (this reads them; how they got their states is tested in
test_deliveries and test_dispatch).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.dialects import postgresql

from core.users import OrganisationKind, Role, User
from publisher import queue
from publisher.models import Delivery, DeliveryState, Post
from publisher.services import Services
from tests.conftest import _services, connect_sandbox_account

NOW = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)


@pytest.fixture
def services(services_on_any_db: Services) -> Services:
    return services_on_any_db


def _deliveries(services: Services, author_id: int, account_id: int, n: int, *,
                state: DeliveryState, start: datetime, step: timedelta) -> list[int]:
    with services.db.session() as session:
        made = []
        for i in range(n):
            at = start + i * step
            post = Post(author_id=author_id, text=f"Inlägg {i}", scheduled_at=at)
            post.deliveries.append(Delivery(account_id=account_id, state=state, due_at=at,
                                            next_attempt_at=at, updated_at=at))
            session.add(post)
            made.append(post)
        session.flush()
        return [p.deliveries[0].id for p in made]


@pytest.fixture
def two_organisations(make_org, make_user, make_account):
    """The district's admin and account; an association's comms user and account."""
    district = make_org(kind=OrganisationKind.DISTRICT)
    arvika = make_org("Vänsterpartiet Arvika")
    return (make_user(Role.ADMIN, district), make_user(Role.COMMS, arvika),
            make_account(organisation=district)[0], make_account(organisation=arvika)[0])


def test_an_association_sees_its_own_queue_behind_the_districts_hundreds(
        services, two_organisations):
    admin, comms, district_account, arvika_account = two_organisations
    soon = _deliveries(services, admin.id, district_account.id, 120,
                       state=DeliveryState.SCHEDULED, start=NOW, step=timedelta(minutes=1))
    later = _deliveries(services, comms.id, arvika_account.id, 3,
                        state=DeliveryState.SCHEDULED, start=NOW + timedelta(days=1),
                        step=timedelta(minutes=1))
    with services.db.session() as session:
        assert [d.id for d in queue.upcoming(session, comms)] == later
        assert queue.open_count(session, comms) == 3 and queue.open_count(session, admin) == 123
        everyone = queue.upcoming(session, admin)
        assert [d.id for d in everyone] == soon[:100]
        assert all(d.account.name and d.post.text for d in everyone)


def test_recent_counts_every_delivery_of_the_period_and_lists_the_latest(
        services, two_organisations):
    admin, comms, district_account, arvika_account = two_organisations
    hour = timedelta(hours=1)
    published = _deliveries(services, admin.id, district_account.id, 150,
                            state=DeliveryState.PUBLISHED, start=NOW - 150 * hour, step=hour)
    failed = _deliveries(services, comms.id, arvika_account.id, 4,
                         state=DeliveryState.FAILED, start=NOW - 200 * hour, step=hour)
    _deliveries(services, admin.id, district_account.id, 5, state=DeliveryState.PUBLISHED,
                start=NOW - timedelta(days=20), step=hour)  # before the fourteen days
    _deliveries(services, admin.id, district_account.id, 2, state=DeliveryState.SCHEDULED,
                start=NOW + hour, step=hour)  # not finished
    with services.db.session() as session:
        assert queue.recent_counts(session, admin, now=NOW) == {"published": 150, "failed": 4}
        assert queue.recent_counts(session, comms, now=NOW) == {"failed": 4}
        latest = queue.recent(session, admin, now=NOW)
        assert [d.id for d in latest] == list(reversed(published))[:100]
        assert [d.id for d in queue.recent(session, comms, now=NOW)] == list(reversed(failed))


@pytest.mark.postgres
def test_the_lists_read_indexes_not_every_delivery(postgres_url, tmp_path, sandbox):
    """EXPLAIN on PostgreSQL with two years of deliveries: neither list nor the counts read
    the deliveries table from end to end (the planner's choice on an analysed table)."""
    services = next(_services(tmp_path, postgres_url, sandbox))
    account, _ = connect_sandbox_account(services)  # made by connector@example.org, an admin
    with services.db.session() as session:
        admin = session.scalar(queue.select(User).where(User.email == "connector@example.org"))
    # 60 000 posts twenty minutes apart, 2025-01-01 to 2027-04-14; the last three days still
    # to go out, the rest published.
    now = datetime(2027, 4, 11, tzinfo=UTC)
    with services.db.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO posts (id, author_id, text, scheduled_at, created_at) "
            "SELECT g, :author, 'Inlägg ' || g, t, t FROM generate_series(1, 60000) g, "
            "LATERAL (SELECT timestamptz '2025-01-01 00:00Z' + g * interval '20 minutes' AS t) s"),
            {"author": admin.id})
        conn.execute(text(
            "INSERT INTO deliveries (post_id, account_id, state, due_at, next_attempt_at, "
            "attempts, updated_at) SELECT id, :account, CASE WHEN scheduled_at > :now "
            "THEN 'scheduled' ELSE 'published' END, scheduled_at, scheduled_at, 0, "
            "scheduled_at FROM posts"), {"account": account.id, "now": now})
        conn.execute(text("ANALYZE"))
    dialect = postgresql.dialect()
    with services.db.session() as session:
        user = session.merge(admin)
        for query in (queue._in_scope(queue.select(Delivery), user)
                      .where(Delivery.state.in_(sorted(queue.OPEN)))
                      .order_by(Delivery.due_at, Delivery.id).limit(100),
                      queue._recent_query(user, now - timedelta(days=14))
                      .order_by(Delivery.updated_at.desc(), Delivery.id.desc()).limit(100),
                      queue._recent_query(user, now - timedelta(days=14))
                      .with_only_columns(Delivery.state, queue.func.count())
                      .group_by(Delivery.state)):
            sql = str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
            plan = "\n".join(session.execute(text("EXPLAIN " + sql)).scalars())
            assert "Seq Scan on deliveries" not in plan, plan
            assert "ix_deliveries_state_" in plan, plan
    services.db.dispose()

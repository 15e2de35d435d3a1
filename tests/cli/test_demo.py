"""`make run`'s demo data: the district's sandbox accounts are connected and a few posts are
queued, the first due minutes after start, so a new user sees a post go out."""

from __future__ import annotations

from datetime import timedelta

import requests
from sqlalchemy import func, select

from cli.demo import DEMO_ACCOUNTS, seed_organisations, seed_publishing
from core.auth import create_user
from core.clock import to_local, utcnow
from core.users import Role, User
from publisher.dispatch import Dispatcher
from publisher.models import Account, Delivery, DeliveryState, Platform, Post
from sandbox import demo_news
from tests.factories import deliveries
from tests.publisher.sandbox_faults import stored_posts


def seed(services) -> None:
    with services.db.session() as session:
        seed_organisations(session)
        if session.scalar(select(func.count(User.id))) == 0:
            create_user(session, email="admin@example.org", name="Administratör",
                        password="ett långt lösenord", role=Role.ADMIN)
        seed_publishing(session, services)


def test_the_district_and_two_associations_get_accounts_and_queued_posts(services):
    started = utcnow()
    seed(services)
    with services.db.session() as session:
        accounts = {a.name: (a.platform, a.organisation.name)
                    for a in session.scalars(select(Account))}
        assert accounts == {name: (platform, org) for platform, name, org in DEMO_ACCOUNTS}
        posts = session.scalars(select(Post).order_by(Post.scheduled_at)).all()
        assert len(posts) == 4
        first, *later = posts
        assert started + timedelta(minutes=1) <= first.scheduled_at.replace(
            tzinfo=started.tzinfo) <= started + timedelta(minutes=3)
        assert {d.account.platform for d in first.deliveries} == {Platform.X, Platform.FACEBOOK}
        assert [to_local(p.scheduled_at).strftime("%H:%M") for p in later] == [
            "09:30", "18:30", "19:00"]
        assert any(p.first_comment for p in later) and any(len(p.parts) > 1 for p in later)


def test_seeding_again_adds_nothing(services):
    seed(services)
    seed(services)
    with services.db.session() as session:
        assert session.scalar(select(func.count(Account.id))) == len(DEMO_ACCOUNTS)
        assert session.scalar(select(func.count(Post.id))) == 4
        assert session.scalar(select(func.count(Delivery.id))) == 5


def test_the_first_post_goes_out_on_the_district_page_the_monitor_reads(services, sandbox):
    seed(services)
    worker = Dispatcher(services.db, services.platforms, services.box, "demo", concurrency=2,
                        clock=lambda: utcnow() + timedelta(minutes=3))
    assert worker.run_once() == 2
    published = [d for d in deliveries(services.db) if d.state is DeliveryState.PUBLISHED]
    assert len(published) == 2
    page = next(a for a in requests.get(f"{sandbox.url}/sandbox/api/accounts", timeout=10).json()
                if a["name"] == demo_news.FACEBOOK_PAGE)
    texts = [p["text"] for p in stored_posts(sandbox.url, page["key"])]
    assert any(t.startswith("Vänsterskolan kommer till Värmland!") for t in texts)

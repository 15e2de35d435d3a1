"""One reminder before the deadline, to the associations asked that have neither queued a post
nor said no; claimed in the database, so two workers running the job at once send it once."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from campaigns.asks import Answer, answer_with_posts, ask_associations, decline
from campaigns.models import Campaign, CampaignAsk
from campaigns.reminders import REMINDED, send_due_reminders, set_reminder_hours
from core.clock import utcnow
from core.i18n import ValidationErrors
from core.mail import MailSender, send_pending
from core.notifications import Notification
from core.users import Role, User
from publisher.models import Platform
from publisher.services import Services
from tests.campaigns.helpers import entered, new_campaign, next_minute
from tests.smtp import smtp_server  # noqa: F401


@pytest.fixture
def services(services_on_any_db: Services) -> Services:
    return services_on_any_db


def as_user(session, user):
    return session.get(User, user.id)


class World:
    """A campaign (deadline in three days, reminders 48 hours before) asked of four
    associations: one waits, one declines, one queues a post, one is asked late."""

    def __init__(self, db, make_org, make_user, make_account):
        self.db = db
        self.lead = make_user(Role.CAMPAIGN_LEAD)
        tag = uuid.uuid4().hex[:4]
        self.orgs = {name: make_org(f"{name} {tag}") for name in
                     ("Kil", "Arvika", "Torsby", "Sunne")}
        self.writers = {name: make_user(Role.COMMS, organisation=org)
                        for name, org in self.orgs.items()}
        self.accounts = {name: make_account(Platform.X, organisation=org,
                                            name=f"{name} X {tag}")[0]
                         for name, org in self.orgs.items()}
        self.now = utcnow().replace(microsecond=0)
        self.deadline = next_minute(self.now) + timedelta(days=3)
        self.campaign = new_campaign(db, self.lead, deadline=self.deadline)
        self.remind_from = self.deadline - timedelta(hours=48)
        with db.session() as session:
            early = ask_associations(session, as_user(session, self.lead), self.campaign.id,
                                     self.campaign.messages[0].id,
                                     [self.orgs[n].id for n in ("Kil", "Arvika", "Torsby")],
                                     now=self.now)
            late = ask_associations(session, as_user(session, self.lead), self.campaign.id,
                                    self.campaign.messages[0].id, [self.orgs["Sunne"].id],
                                    now=self.remind_from + timedelta(hours=1))
            self.asks = {a.organisation_id: a.id for a in early + late}
            decline(session, as_user(session, self.writers["Arvika"]),
                    self.ask("Arvika"), "Vi har årsmöte")
            answer_with_posts(session, as_user(session, self.writers["Torsby"]),
                              self.ask("Torsby"),
                              Answer({self.accounts["Torsby"].id: "Torsby är med!"},
                                     when=entered(next_minute() + timedelta(hours=2))))

    def ask(self, name: str) -> int:
        return self.asks[self.orgs[name].id]

    def reminders(self) -> dict[int, int]:
        """How many reminder notices each user got."""
        with self.db.session() as session:
            found: dict[int, int] = {}
            for n in session.scalars(select(Notification).where(Notification.kind == REMINDED)):
                found[n.user_id] = found.get(n.user_id, 0) + 1
            return found


@pytest.fixture
def world(services, make_org, make_user, make_account) -> World:
    return World(services.db, make_org, make_user, make_account)


def test_one_reminder_at_the_lead_time_only_to_those_who_have_not_answered(world, smtp_server):  # noqa: F811
    db = world.db
    with db.session() as session:  # not before the lead time
        assert send_due_reminders(session, world.remind_from - timedelta(minutes=1)) == 0
    assert world.reminders() == {}
    with db.session() as session:
        assert send_due_reminders(session, world.remind_from) == 1
    # Kil only: Arvika said no, Torsby queued a post, Sunne was asked after the moment.
    assert world.reminders() == {world.writers["Kil"].id: 1}
    with db.session() as session:
        assert send_due_reminders(session, world.remind_from + timedelta(hours=5)) == 0
        kil = session.get(CampaignAsk, world.ask("Kil"))
        assert kil.reminded_at == world.remind_from
        assert session.get(CampaignAsk, world.ask("Arvika")).reminded_at is None
    with db.session() as session:  # past the deadline: nothing
        session.get(CampaignAsk, world.ask("Kil")).reminded_at = None
    with db.session() as session:
        assert send_due_reminders(session, world.deadline + timedelta(minutes=1)) == 0

    sender = MailSender(smtp_server.url, "Megafon <megafon@example.org>",
                        base_url="https://megafon.example.org")
    send_pending(db, sender)
    [mail] = [m for m in smtp_server.messages(to=world.writers["Kil"].email)
              if m.subject.startswith("Påminnelse")]
    assert mail.subject == f"Påminnelse: vill {world.orgs['Kil'].name} bära kampanjen " \
                           f"{world.campaign.name}?"
    assert f"https://megafon.example.org/compose?ask={world.ask('Kil')}" in mail.body


def test_the_lead_chooses_the_lead_time(world):
    with world.db.session() as session:
        lead = as_user(session, world.lead)
        with pytest.raises(ValidationErrors):
            set_reminder_hours(session, lead, world.campaign.id, "två dagar")
        with pytest.raises(ValidationErrors):
            set_reminder_hours(session, lead, world.campaign.id, "0")
        set_reminder_hours(session, lead, world.campaign.id, "24")
    with world.db.session() as session:
        assert session.get(Campaign, world.campaign.id).reminder_hours == 24
        assert send_due_reminders(session, world.remind_from) == 0  # now a day later
    with world.db.session() as session:
        # Sunne was asked before the new moment: both waiting associations are reminded.
        assert send_due_reminders(session, world.deadline - timedelta(hours=24)) == 2


def test_two_workers_at_once_send_each_reminder_once(world):
    """Two sessions claim at the same moment, from two threads: one reminder per ask."""
    start = threading.Barrier(2)
    sent: list[int] = []

    def worker() -> None:
        with world.db.session() as session:
            start.wait(timeout=30)
            sent.append(send_due_reminders(session, world.remind_from))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(sent) == [0, 1]
    assert world.reminders() == {world.writers["Kil"].id: 1}


def test_a_worker_whose_claim_is_not_committed_yet_keeps_the_other_out(world):
    """The first worker has claimed the ask and not committed; the second, meanwhile, finds
    nothing to send (PostgreSQL: the row is locked and skipped; SQLite: it waits for the single
    writer and then sees the ask reminded)."""
    db = world.db
    first = db.sessions()
    try:
        assert send_due_reminders(first, world.remind_from) == 1
        second: list[int] = []

        def other_worker() -> None:
            with db.session() as session:
                second.append(send_due_reminders(session, world.remind_from))

        thread = threading.Thread(target=other_worker)
        thread.start()
        if not db.is_sqlite:
            thread.join(timeout=60)  # SKIP LOCKED: done while the first still holds the row
            assert second == [0]
        first.commit()
        thread.join(timeout=60)
        assert second == [0]
    finally:
        first.close()
    assert world.reminders() == {world.writers["Kil"].id: 1}


def test_the_scheduled_job_reminds_what_is_due_by_the_clock(world, services):
    from schedules.campaigns import remind_asks

    with world.db.session() as session:  # Kil was asked days ago; the moment has passed
        session.get(CampaignAsk, world.ask("Kil")).asked_at = world.now - timedelta(days=5)
        session.get(Campaign, world.campaign.id).reminder_hours = 100
    assert remind_asks(services) == 1  # Kil (Sunne was asked after the moment)
    assert remind_asks(services) == 0
    assert world.reminders() == {world.writers["Kil"].id: 1}

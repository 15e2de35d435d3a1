"""Asking associations: their writers are told in the app and by e-mail in their own language;
the answer is their own posts (counted in the coverage) or a no with a reason; another
association's people cannot see or answer the ask."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from campaigns.asks import Answer, answer_with_posts, ask_associations, ask_for, decline, prefilled
from campaigns.coverage import Cell, matrix
from core.auth import NotAllowed
from core.mail import MailSender, send_pending
from core.notifications import Notification
from core.users import Role, User
from publisher.models import Platform
from publisher.services import Services
from tests.campaigns.helpers import entered, new_campaign, next_minute
from tests.factories import count
from tests.smtp import smtp_server  # noqa: F401


@pytest.fixture
def services(services_on_any_db: Services) -> Services:
    return services_on_any_db


def as_user(session, user):
    return session.get(User, user.id)


def test_asked_associations_answer_with_a_post_or_a_reason(services, make_org, make_user,
                                                           make_account, smtp_server):  # noqa: F811
    db = services.db
    lead = make_user(Role.CAMPAIGN_LEAD)
    kil, arvika, torsby = make_org("Kil"), make_org("Arvika"), make_org("Torsby")
    kil_x, _ = make_account(Platform.X, organisation=kil, name=f"Kil X {uuid.uuid4().hex[:4]}")
    kil_fb, _ = make_account(Platform.FACEBOOK, organisation=kil,
                             name=f"Kil FB {uuid.uuid4().hex[:4]}")
    arvika_fb, _ = make_account(Platform.FACEBOOK, organisation=arvika,
                                name=f"Arvika FB {uuid.uuid4().hex[:4]}")
    kil_comms = make_user(Role.COMMS, organisation=kil)
    arvika_comms = make_user(Role.COMMS, organisation=arvika)
    make_user(Role.BOARD, organisation=kil)  # reads, is not asked to write
    torsby_comms = make_user(Role.COMMS, organisation=torsby)
    with db.session() as session:
        as_user(session, arvika_comms).locale = "en"
    campaign = new_campaign(db, lead, target_kind="district")
    with db.session() as session:
        asks = ask_associations(session, as_user(session, lead), campaign.id,
                                campaign.messages[0].id, [kil.id, arvika.id])
        kil_ask, arvika_ask = (a.id for a in asks)
        told = {n.user_id for n in session.query(Notification)}
    assert told == {kil_comms.id, arvika_comms.id}

    sender = MailSender(smtp_server.url, "Megafon <megafon@example.org>",
                        base_url="https://megafon.example.org")
    assert send_pending(db, sender).sent == 2
    [to_kil] = smtp_server.messages(to=kil_comms.email)
    [to_arvika] = smtp_server.messages(to=arvika_comms.email)
    assert to_arvika.subject == f"Will Arvika carry the campaign {campaign.name}?"
    assert to_kil.subject == f"Vill Kil bära kampanjen {campaign.name}?"
    assert to_kil.message["Content-Language"] == "sv"
    assert f"https://megafon.example.org/compose?ask={kil_ask}" in to_kil.body  # the composer

    with db.session() as session:
        with pytest.raises(NotAllowed):
            ask_for(session, as_user(session, torsby_comms), kil_ask)
        with pytest.raises(NotAllowed):  # Arvika's writer cannot post for Kil's ask either
            answer_with_posts(session, as_user(session, arvika_comms), kil_ask,
                              Answer({kil_x.id: "Hej"}))
        offered = {p.account.id: p for p in prefilled(session, as_user(session, kil_comms),
                                                      kil_ask)}
    assert set(offered) == {kil_x.id, kil_fb.id}
    assert offered[kil_x.id].text.startswith("Välfärd före vinster!")
    assert "utm_source=x" in offered[kil_x.id].link
    assert "utm_source=facebook" in offered[kil_fb.id].link

    before = matrix_cells(db, lead, campaign.id)
    assert before[kil_x.id].cell is Cell.ASKED and before[kil_x.id].asked_by == lead.name
    at = next_minute() + timedelta(hours=2)
    with db.session() as session:
        [post] = answer_with_posts(session, as_user(session, kil_comms), kil_ask, Answer(
            {kil_x.id: offered[kil_x.id].text + " Kil är med!", kil_fb.id: ""},
            when=entered(at)))
        assert post.link == offered[kil_x.id].link
        decline(session, as_user(session, arvika_comms), arvika_ask, "Vi har årsmöte den veckan")
    with db.session() as session, pytest.raises(Exception, match="Say why"):
        decline(session, as_user(session, kil_comms), kil_ask, "  ")
    cells = matrix_cells(db, lead, campaign.id)
    assert cells[kil_x.id].cell is Cell.PLANNED and cells[kil_x.id].when == at
    assert cells[kil_fb.id].cell is Cell.ASKED
    assert cells[arvika_fb.id].cell is Cell.DECLINED
    assert cells[arvika_fb.id].problem == "Vi har årsmöte den veckan"
    assert count(db, Notification) == 2


def matrix_cells(db, user, campaign_id):
    with db.session() as session:
        return {r.account_id: r for r in matrix(session, as_user(session, user),
                                                campaign_id).rows}

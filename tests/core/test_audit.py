"""The audit log: written in the change's own transaction, never changed or deleted (the
database refuses it on both kinds), filtered for the district's administrators only, and the
services' hooks write what people rely on it for."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from core import audit
from core.audit import AuditEntry, AuditFilter, record
from core.auth import NotAllowed, create_user, district, update_user
from core.clock import STOCKHOLM
from core.db import Database
from core.users import Organisation, OrganisationKind, Role, User
from monitor import admin as monitor_admin
from publisher.accounts import disconnect_account
from publisher.deliveries import cancel_for, send_again_for
from publisher.models import Platform, Post
from publisher.posts import PostDraft, edit_post
from tests.conftest import PASSWORD
from tests.factories import queue_post


def _people(db: Database) -> tuple[User, User, Organisation]:
    """A district administrator, an association's administrator, and the association."""
    with db.session() as session:
        association = Organisation(name="Föreningen i Arvika", kind=OrganisationKind.ASSOCIATION,
                                   parent=district(session))
        session.add(association)
        session.flush()
        admin = create_user(session, email="admin@example.org", name="Anna Admin",
                            password=PASSWORD, role=Role.ADMIN)
        local = create_user(session, email="lokal@example.org", name="Lars Lokal",
                            password=PASSWORD, role=Role.ADMIN, organisation=association)
        return admin, local, association


def _entries(db: Database, **where: object) -> list[AuditEntry]:
    with db.session() as session:
        query = select(AuditEntry).order_by(AuditEntry.id)
        for key, value in where.items():
            query = query.where(getattr(AuditEntry, key) == value)
        return list(session.scalars(query))


WATCHLIST = monitor_admin.WatchlistInput(name="Kollektivtrafik", query="buss OR tåg")


def test_a_rolled_back_change_leaves_no_entry_and_a_committed_one_has_exactly_one(
        any_db_url: str):
    db = Database(any_db_url)
    admin, _, _ = _people(db)

    class Refused(Exception):
        pass

    with pytest.raises(Refused), db.session() as session:
        made = monitor_admin.create_watchlist(session, session.get(User, admin.id), WATCHLIST)
        assert made.id is not None
        raise Refused  # anything after the change: the transaction is rolled back
    assert _entries(db) == []

    with db.session() as session:
        made = monitor_admin.create_watchlist(session, session.get(User, admin.id), WATCHLIST)
    [entry] = _entries(db)
    assert (entry.actor_id, entry.actor_name, entry.action, entry.object_type,
            entry.object_id) == (admin.id, "Anna Admin", "create", "watchlist", made.id)
    assert entry.changes == {"name": "Kollektivtrafik", "query": "buss OR tåg",
                             "priority": "normal", "active": True}
    assert datetime.now(UTC) - entry.at < timedelta(minutes=5)
    db.dispose()


@pytest.mark.parametrize("statement", [
    "UPDATE audit_log SET action = 'nothing'",
    "UPDATE audit_log SET changes = NULL WHERE id = {id}",
    "DELETE FROM audit_log",
    "DELETE FROM audit_log WHERE id = {id}",
])
def test_the_database_refuses_to_change_or_delete_an_entry(any_db_url: str, statement: str):
    db = Database(any_db_url)
    admin, _, _ = _people(db)
    with db.session() as session:
        entry = record(session, session.get(User, admin.id), "update", "user", admin.id,
                       changes={"role": ["comms", "admin"]})
        session.flush()
        entry_id = entry.id
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as connection:
        connection.execute(text(statement.format(id=entry_id)))
    [kept] = _entries(db)
    assert (kept.id, kept.action, kept.changes) == (entry_id, "update",
                                                   {"role": ["comms", "admin"]})
    db.dispose()


@pytest.mark.postgres
def test_postgresql_refuses_to_truncate_the_log(postgres_url: str):
    db = Database(postgres_url)
    admin, _, _ = _people(db)
    with db.session() as session:
        record(session, session.get(User, admin.id), "create", "user", admin.id)
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as connection:
        connection.execute(text("TRUNCATE audit_log"))
    assert len(_entries(db)) == 1
    db.dispose()


def test_secrets_are_dropped_whatever_the_caller_passes(db):
    with db.session() as session:
        entry = record(session, None, "update", "account", 7, changes={
            "password": "hunter2hunter2", "consumer_secret": "s", "access_token": "t",
            "credentials": {"a": "b"}, "consumerKey": "k", "password_hash": "h",
            "hashtags": "#val", "name": "VP Värmland", "at": datetime(2031, 5, 1, tzinfo=UTC),
            "platform": Platform.X, "long": "x" * 1000})
        session.flush()
    [kept] = _entries(db, id=entry.id)
    assert kept.actor_id is None and kept.actor_name == ""
    assert set(kept.changes) == {"hashtags", "name", "at", "platform", "long"}
    assert kept.changes["at"] == "2031-05-01T00:00:00+00:00"
    assert kept.changes["platform"] == "x"
    assert len(kept.changes["long"]) <= audit.MAX_TEXT + 1


def test_only_the_districts_administrators_read_the_log_and_its_filters_narrow_it(
        any_db_url: str):
    db = Database(any_db_url)
    admin, local, association = _people(db)
    with db.session() as session:
        comms = create_user(session, email="komm@example.org", name="Kim Komm",
                            password=PASSWORD, role=Role.COMMS)
    early = datetime(2031, 3, 1, 12, tzinfo=UTC)
    with db.session() as session:
        for at, actor, action, kind, org in [
                (early, admin, "create", "post", association.id),
                (early + timedelta(days=1), admin, "update", "post", association.id),
                (early + timedelta(days=2), local, "cancel", "post", association.id),
                (early + timedelta(days=3), admin, "update", "watchlist", None)]:
            entry = record(session, session.get(User, actor.id), action, kind, 1, org)
            entry.at = at  # before the first flush: the insert carries it
    with db.session() as session:
        reader = session.get(User, admin.id)

        def found(**wanted: object) -> list[tuple[str, str]]:
            return [(e.action, e.object_type)
                    for e in audit.entries(session, reader, AuditFilter(**wanted))]

        assert found() == [("update", "watchlist"), ("cancel", "post"), ("update", "post"),
                           ("create", "post")]  # newest first
        assert found(actor_id=local.id) == [("cancel", "post")]
        assert found(action="update") == [("update", "watchlist"), ("update", "post")]
        assert found(object_type="watchlist") == [("update", "watchlist")]
        assert found(organisation_id=association.id, action="update") == [("update", "post")]
        assert found(since=early + timedelta(days=1), until=early + timedelta(days=3)) == [
            ("cancel", "post"), ("update", "post")]
        assert audit.choices(session, reader) == (["cancel", "create", "update"],
                                                  ["post", "watchlist"])
        for other in (local, comms):  # an association's administrator; the comms team
            with pytest.raises(NotAllowed):
                audit.entries(session, session.get(User, other.id))
    db.dispose()


# --- The services' hooks ----------------------------------------------------------------


def in_a_week() -> datetime:
    """Noon a week from now, Stockholm time (never in a DST gap)."""
    return (datetime.now(STOCKHOLM) + timedelta(days=7)).replace(
        hour=12, minute=0, second=0, microsecond=0, tzinfo=None)


def test_posts_are_logged_when_created_changed_cancelled_and_sent_again(
        services, make_user, make_account):
    db = services.db
    writer = make_user(Role.COMMS)
    x, _ = make_account(Platform.X)
    fb, _ = make_account(Platform.FACEBOOK)
    post = queue_post(db, writer, [x, fb], "Vi bygger ut busstrafiken", at_local=in_a_week())
    [created] = _entries(db, object_type="post", action="create")
    assert (created.actor_id, created.object_id, created.organisation_id) == (
        writer.id, post.id, x.organisation_id)
    assert created.changes["text"] == "Vi bygger ut busstrafiken"

    with db.session() as session:
        edit_post(session, session.get(User, writer.id), post.id, PostDraft(
            text="Vi bygger ut tågtrafiken", account_ids=[x.id], scheduled_local=in_a_week()))
    [changed] = _entries(db, object_type="post", action="update")
    assert changed.object_id == post.id
    assert changed.changes["text"] == ["Vi bygger ut busstrafiken", "Vi bygger ut tågtrafiken"]
    assert changed.changes["accounts"] == [sorted([x.id, fb.id]), [x.id]]

    with db.session() as session:
        delivery = next(d for d in session.get(Post, post.id).deliveries if d.account_id == x.id)
        assert cancel_for(session, session.get(User, writer.id), delivery.id)
        assert send_again_for(session, session.get(User, writer.id), delivery.id)
    [cancelled] = _entries(db, action="cancel")
    [again] = _entries(db, action="send_again")
    for entry in (cancelled, again):
        assert (entry.object_type, entry.object_id, entry.actor_id) == ("post", post.id,
                                                                        writer.id)
        assert entry.changes == {"delivery_id": delivery.id, "account_id": x.id}


def test_accounts_are_logged_without_their_credentials(services, make_user, make_account):
    db = services.db
    account, credentials = make_account(Platform.X, name="VP Värmland på X")
    [connected] = _entries(db, object_type="account", action="connect")
    assert (connected.object_id, connected.changes["name"]) == (account.id, "VP Värmland på X")
    stored = json.dumps(connected.changes)
    secrets = [v for k, v in credentials.items() if audit.is_secret(k)]
    assert secrets and all(secret not in stored for secret in secrets)
    comms = make_user(Role.COMMS)
    with db.session() as session:
        disconnect_account(session, session.get(User, comms.id), account.id)
    [gone] = _entries(db, object_type="account", action="disconnect")
    assert (gone.actor_id, gone.object_id) == (comms.id, account.id)


def test_a_users_role_change_is_logged_with_old_and_new_and_no_secret(db, make_user):
    admin = make_user(Role.ADMIN)
    anna = make_user(Role.COMMS)
    with db.session() as session:
        update_user(session, session.get(User, admin.id), anna.id, name=anna.name,
                    role=Role.CAMPAIGN_LEAD, organisation_id=anna.organisation_id, active=False,
                    must_change_password=True)
    [changed] = _entries(db, object_type="user", action="update")
    assert (changed.actor_id, changed.object_id) == (admin.id, anna.id)
    assert changed.changes == {"role": ["comms", "campaign_lead"], "active": [True, False],
                               "reset_at_next_login": [False, True]}
    with db.session() as session:
        password_hash = session.get(User, anna.id).password_hash
    everything = json.dumps([e.changes for e in _entries(db)])
    assert password_hash not in everything and PASSWORD not in everything


def test_sources_and_watchlists_are_logged_when_changed(db, make_user):
    comms = make_user(Role.COMMS)
    with db.session() as session:
        user = session.get(User, comms.id)
        source = monitor_admin.create_source(session, user, monitor_admin.SourceInput(
            name="NWT", kind="feed", url="https://nwt.se/rss", interval_minutes=5))
        monitor_admin.update_source(session, user, source.id, monitor_admin.SourceInput(
            name="Nya Wermlands-Tidningen", kind="feed", url="https://nwt.se/rss",
            interval_minutes=5))
        monitor_admin.pause_source(session, user, source.id)
        watchlist = monitor_admin.create_watchlist(session, user, WATCHLIST)
        monitor_admin.update_watchlist(session, user, watchlist.id, monitor_admin.WatchlistInput(
            name="Kollektivtrafik", query="buss OR tåg OR pendel"))
        monitor_admin.delete_watchlist(session, user, watchlist.id)
    assert [(e.action, e.object_type, e.object_id) for e in _entries(db)] == [
        ("create", "source", source.id), ("update", "source", source.id),
        ("pause", "source", source.id), ("create", "watchlist", watchlist.id),
        ("update", "watchlist", watchlist.id), ("delete", "watchlist", watchlist.id)]
    changes = [e.changes for e in _entries(db)]
    assert changes[1] == {"name": ["NWT", "Nya Wermlands-Tidningen"],
                          "outlet": ["NWT", "Nya Wermlands-Tidningen"]}
    assert changes[4] == {"query": ["buss OR tåg", "buss OR tåg OR pendel"]}
    assert changes[5] == {"name": "Kollektivtrafik"}


def test_nothing_counts_the_log_but_the_log(db):
    """The log has no foreign keys: removing what an entry names never touches the entry."""
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == 0
        assert not AuditEntry.__table__.foreign_keys


def test_tokens_and_erasures_are_logged_without_the_secret_or_the_persons_name(db, make_user):
    from core.tokens import create_token, revoke_token
    from monitor.privacy import erase_person

    admin = make_user(Role.ADMIN)
    with db.session() as session:
        actor = session.get(User, admin.id)
        made = create_token(session, actor, actor, "Kalkylark", "read")
        revoke_token(session, actor, made.token.id)
        erase_person(session, actor, "@kalle_karlsson")
    entries = _entries(db)
    assert [(e.action, e.object_type) for e in entries] == [
        ("create", "api_token"), ("revoke", "api_token"), ("erase", "personal_data")]
    assert entries[0].changes["name"] == "Kalkylark"
    stored = json.dumps([e.changes for e in entries])
    secret = made.secret.removeprefix(f"mgf_{made.token.prefix}_")
    assert secret not in stored and made.token.digest not in stored
    assert "kalle" not in stored  # the log cannot be erased: it holds no private person
    assert entries[2].changes == {"mentions": 0}


def test_campaigns_are_logged_when_created_rolled_out_asked_and_declined(
        services, make_org, make_user, make_account):
    from campaigns.asks import ask_associations, decline
    from tests.campaigns.helpers import new_campaign, next_minute, roll_out

    db = services.db
    lead = make_user(Role.CAMPAIGN_LEAD)
    kil = make_org("Kil")
    writer = make_user(Role.COMMS, organisation=kil)
    account, _ = make_account(Platform.X)
    campaign = new_campaign(db, lead)
    start = next_minute() + timedelta(hours=1)
    posts = roll_out(db, lead, campaign, start, start + timedelta(hours=1))
    with db.session() as session:
        [ask] = ask_associations(session, session.get(User, lead.id), campaign.id,
                                 campaign.messages[0].id, [kil.id])
        decline(session, session.get(User, writer.id), ask.id, "Vi har redan skrivit om det")
    logged = [(e.action, e.object_type, e.object_id, e.actor_id) for e in _entries(db)
              if e.object_type != "account"]
    assert logged == [("create", "campaign", campaign.id, lead.id),
                      ("create", "post", posts[0].id, lead.id),
                      ("rollout", "campaign", campaign.id, lead.id),
                      ("ask", "campaign_ask", ask.id, lead.id),
                      ("decline", "campaign_ask", ask.id, writer.id)]
    assert account.id and _entries(db, action="decline")[0].organisation_id == kil.id


def test_approval_and_its_rules_are_logged(services, make_user, make_account):
    from publisher import approval

    db = services.db
    admin, author, reviewer = make_user(Role.ADMIN), make_user(Role.COMMS), make_user(
        Role.CAMPAIGN_LEAD)
    x, _ = make_account(Platform.X)
    with db.session() as session:
        approval.set_rules(session, session.get(User, admin.id), [x.id], [])
    [rules] = _entries(db, action="set_rules")
    assert (rules.object_type, rules.actor_id, rules.changes) == (
        "approval_rules", admin.id, {"accounts": [x.id], "associations": []})

    first = queue_post(db, author, [x], "Väntar på granskning", at_local=in_a_week())
    second = queue_post(db, author, [x], "Skickas tillbaka", at_local=in_a_week())
    with db.session() as session:
        approval.approve(session, session.get(User, reviewer.id), first.id, comment="Bra")
        approval.send_back(session, session.get(User, reviewer.id), second.id, "Nämn mötet")
    [approved] = _entries(db, action="approve")
    [returned] = _entries(db, action="send_back")
    assert (approved.object_id, approved.actor_id, approved.organisation_id) == (
        first.id, reviewer.id, x.organisation_id)
    assert approved.changes["comment"] == "Bra"
    assert (returned.object_id, returned.changes) == (second.id, {"comment": "Nämn mötet"})


def test_events_are_logged_when_created_changed_and_cancelled(db, make_user):
    from campaigns import events
    from core.entered_time import EnteredTime

    lead = make_user(Role.CAMPAIGN_LEAD)
    start = in_a_week()

    def draft(title: str) -> events.EventDraft:
        with db.session() as session:
            organiser = district(session).id
        return events.EventDraft(
            title=title, organiser_id=organiser,
            starts=EnteredTime(f"{start:%Y-%m-%d}", "18:00"),
            ends=EnteredTime(f"{start:%Y-%m-%d}", "20:00"), place="Folkets hus")

    with db.session() as session:
        event = events.create_event(session, session.get(User, lead.id), draft("Möte"))
        event_id = event.id
    with db.session() as session:
        events.edit_event(session, session.get(User, lead.id), event_id, draft("Stormöte"))
        events.cancel_event(session, session.get(User, lead.id), event_id)
    entries = _entries(db, object_type="event")
    assert [(e.action, e.object_id, e.actor_id) for e in entries] == [
        ("create", event_id, lead.id), ("update", event_id, lead.id),
        ("cancel", event_id, lead.id)]
    assert entries[1].changes == {"title": ["Möte", "Stormöte"]}

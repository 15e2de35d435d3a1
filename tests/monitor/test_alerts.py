"""Alerts reach people through the real SMTP server: once per story, digests at the Stockholm
hour chosen, failing sources to the admins once; unread counts in the app."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from core import migrate
from core.auth import create_user
from core.db import Database
from core.mail import MailSender, send_pending
from core.notifications import Notification
from core.users import OrganisationKind, Role, User
from monitor.alerts import (
    DIGEST,
    MENTION,
    SOURCE_FAILING,
    alert_failing_sources,
    alert_new_mentions,
    digest_moment,
    mark_mentions_seen,
    send_digests,
    unread_mentions,
)
from monitor.fetch import SafeFetcher
from monitor.models import (
    AlertSent,
    AlertSubscription,
    Mention,
    Priority,
    Source,
    SourceKind,
    SourceState,
    Triage,
)
from monitor.polling import LiveIngest, poll_source
from monitor.sources import PollContext
from tests.conftest import PASSWORD
from tests.monitor.feedserver import FeedServer, rss
from tests.monitor.stories import (
    AKUTEN,
    AKUTEN_PROTEST,
    AKUTEN_SISTER,
    BUSSEN,
    count,
    make_source,
    make_watchlist,
    run,
    story,
)
from tests.monitor.stories import (
    mentions as mentions_of,
)
from tests.smtp import smtp_server  # noqa: F401

ARTICLE = "https://www.nwt.se/2025-01-14/akuten-i-arvika-kan-stanga-nattetid"


def subscribe(db: Database, user: User, watchlist, *, immediate: bool = True,
              digest_hour: int | None = None) -> None:
    with db.session() as session:
        session.add(AlertSubscription(user_id=user.id, watchlist_id=watchlist.id,
                                      immediate=immediate, digest_hour=digest_hour))


def mail_out(db: Database, smtp_server) -> None:  # noqa: F811
    send_pending(db, MailSender(smtp_server.url, "megafon@example.org",
                                base_url="https://megafon.example.org"))


def notices(db: Database, user: User, kind: str | None = None) -> list[Notification]:
    with db.session() as session:
        query = select(Notification).where(Notification.user_id == user.id)
        if kind:
            query = query.where(Notification.kind == kind)
        return list(session.scalars(query.order_by(Notification.id)))


def english(db: Database, *users: User) -> None:
    with db.session() as session:
        for user in users:
            session.get(User, user.id).locale = "en"


def test_a_high_priority_story_is_emailed_once_however_often_it_is_seen(
        db, make_user, smtp_server):  # noqa: F811
    akut = make_watchlist(db, "Arvika AND akut*", Priority.HIGH, name="Akuten i Arvika")
    subscriber, digest_only, bystander = (make_user(Role.COMMS), make_user(Role.COMMS),
                                          make_user(Role.ADMIN))
    english(db, subscriber)
    subscribe(db, subscriber, akut)
    subscribe(db, digest_only, akut, immediate=False, digest_hour=7)
    nwt, an = make_source(db, "NWT"), make_source(db, "Arvika Nyheter")

    [mention_id] = run(db, nwt, [story("nwt-1", "Akuten i Arvika kan stänga nattetid", AKUTEN,
                                       ARTICLE)], alert=True)
    mail_out(db, smtp_server)
    [mail] = smtp_server.messages(to=subscriber.email)
    assert mail.subject == "New on Akuten i Arvika: Akuten i Arvika kan stänga nattetid"
    assert "NWT" in mail.body and "akutmottagningen i Arvika" in mail.body
    assert ARTICLE in mail.body
    assert f"https://megafon.example.org/mentions/{mention_id}" in mail.body
    assert smtp_server.messages(to=digest_only.email) == []
    assert smtp_server.messages(to=bystander.email) == []

    # The story again: the same feed, an update, the sister paper, a tracking link.
    run(db, nwt, [story("nwt-1", "Akuten i Arvika stänger nattetid", AKUTEN, ARTICLE)],
        alert=True)
    run(db, an, [story("an-1", "Nattstängd akut", AKUTEN_SISTER, "https://an.se/akut",
                       "Arvika Nyheter")], alert=True)
    run(db, an, [story("an-2", "Akuten i Arvika: läs mer", "Läs NWT:s artikel.",
                       ARTICLE + "?utm_source=an")], alert=True)
    with db.session() as session:  # called again by mistake: still nothing new
        alert_new_mentions(session, [mention_id])
    mail_out(db, smtp_server)
    assert len(smtp_server.messages(to=subscriber.email)) == 1
    with db.session() as session:
        assert len(session.get(Mention, mention_id).sightings) == 3
    assert len(notices(db, subscriber, MENTION)) == 1

    # A different story on the issue is news again.
    run(db, nwt, [story("nwt-2", "V samlar namn", AKUTEN_PROTEST, "https://nwt.se/namn")],
        alert=True)
    mail_out(db, smtp_server)
    assert len(smtp_server.messages(to=subscriber.email)) == 2


def test_one_email_per_story_even_with_several_high_priority_watchlists(
        db, make_user, smtp_server):  # noqa: F811
    first = make_watchlist(db, "Arvika", Priority.HIGH, name="Arvika")
    second = make_watchlist(db, "akut*", Priority.HIGH, name="Akutvården")
    later = make_watchlist(db, '"Arvika Nyheter"', Priority.HIGH, name="Lokaltidningen")
    both, late_only = make_user(Role.COMMS), make_user(Role.COMMS)
    for watchlist in (first, second, later):
        subscribe(db, both, watchlist)
    subscribe(db, late_only, later)
    run(db, make_source(db, "NWT"), [story("nwt-1", "Akuten", AKUTEN, ARTICLE)], alert=True)
    mail_out(db, smtp_server)
    [mail] = smtp_server.messages(to=both.email)
    assert "Akutvården, Arvika" in mail.body
    # A copy brings in another high-priority watchlist: news for its subscriber, not for the
    # one already told about the story.
    run(db, make_source(db, "AN"), [story("an-1", "Akuten", AKUTEN_SISTER, "https://an.se/1",
                                          "Arvika Nyheter")], alert=True)
    mail_out(db, smtp_server)
    assert len(smtp_server.messages(to=both.email)) == 1
    assert len(smtp_server.messages(to=late_only.email)) == 1


def test_normal_priority_waits_for_the_digest(db, make_user, smtp_server):  # noqa: F811
    buss = make_watchlist(db, "kollektivtrafik* OR Värmlandstrafik", name="Bussarna")
    reader = make_user(Role.BOARD)
    english(db, reader)
    subscribe(db, reader, buss, immediate=True, digest_hour=7)
    run(db, make_source(db, "VF"), [story("vf-1", "Dyrare månadskort", BUSSEN,
                                          "https://vf.se/buss")], alert=True)
    mail_out(db, smtp_server)
    assert smtp_server.messages(to=reader.email) == []
    assert notices(db, reader) == []


@pytest.mark.parametrize(("day", "utc_hour"), [
    (datetime(2025, 1, 15, tzinfo=UTC), 6),  # CET: 07:00 in Stockholm is 06:00 UTC
    (datetime(2025, 7, 15, tzinfo=UTC), 5),  # CEST: 07:00 in Stockholm is 05:00 UTC
])
def test_the_digest_comes_at_the_stockholm_hour_once(
        db, make_user, smtp_server, day, utc_hour):  # noqa: F811
    buss = make_watchlist(db, "kollektivtrafik* OR Värmlandstrafik", name="Bussarna")
    akut = make_watchlist(db, "Arvika AND akut*", name="Akuten")
    make_watchlist(db, "Glava", name="Skolan")  # subscribed, nothing new: not listed
    reader, early_bird = make_user(Role.BOARD), make_user(Role.COMMS)
    english(db, reader)
    for watchlist in (buss, akut):
        subscribe(db, reader, watchlist, immediate=False, digest_hour=7)
    subscribe(db, early_bird, buss, immediate=False, digest_hour=5)
    vf, nwt = make_source(db, "VF"), make_source(db, "NWT")
    evening = day - timedelta(hours=5)  # 19:00 UTC the day before
    run(db, vf, [story("vf-1", "Dyrare månadskort", BUSSEN, "https://vf.se/buss")], now=evening)
    run(db, nwt, [story("nwt-1", "Akuten kan stänga", AKUTEN, ARTICLE)], now=evening)
    run(db, nwt, [story("nwt-2", "Ej relevant", AKUTEN_PROTEST, "https://nwt.se/2")],
        now=evening)
    with db.session() as session:  # triaged away: not in the digest
        session.execute(update(Mention).where(Mention.url == "https://nwt.se/2")
                        .values(triage=Triage.NOT_RELEVANT))
    seven = day.replace(hour=utc_hour)

    assert send_digests(db, seven - timedelta(minutes=1)) == 1  # the 05:00 reader's
    mail_out(db, smtp_server)
    assert smtp_server.messages(to=reader.email) == []

    assert send_digests(db, seven + timedelta(seconds=30)) == 1
    assert send_digests(db, seven + timedelta(minutes=1)) == 0
    assert send_digests(db, seven + timedelta(hours=3)) == 0
    mail_out(db, smtp_server)
    [mail] = smtp_server.messages(to=reader.email)
    assert mail.subject == "Daily digest of mentions (2)"
    body = mail.body
    assert "Bussarna (1)" in body and "Akuten (1)" in body and "Skolan" not in body
    assert "Dyrare månadskort" in body and "https://vf.se/buss" in body
    assert "Akuten kan stänga" in body and "Ej relevant" not in body
    assert body.index("Akuten (1)") < body.index("Bussarna (1)")
    assert len(smtp_server.messages(to=early_bird.email)) == 1
    with db.session() as session:
        assert session.scalar(select(AlertSent.id).where(AlertSent.kind == DIGEST,
                                                         AlertSent.user_id == reader.id)
                              .limit(1)) is not None

    # The next morning: nothing new, nothing sent; a new story is in the next digest only.
    next_seven = seven + timedelta(days=1)
    assert send_digests(db, next_seven) == 0
    run(db, vf, [story("vf-2", "Färre turer", "Värmlandstrafik drar in turer mellan Torsby "
                       "och Hagfors från mars, och resenärerna protesterar mot beskedet.",
                       "https://vf.se/turer")], now=next_seven + timedelta(hours=2))
    assert send_digests(db, next_seven + timedelta(days=1, seconds=5)) >= 1
    mail_out(db, smtp_server)
    mails = smtp_server.messages(to=reader.email)
    assert len(mails) == 2 and "Färre turer" in mails[1].body
    assert "Dyrare månadskort" not in mails[1].body


def test_digest_moment_follows_the_stockholm_clock():
    winter = datetime(2025, 1, 15, 12, tzinfo=UTC)
    summer = datetime(2025, 7, 15, 12, tzinfo=UTC)
    assert digest_moment(winter, 7) == datetime(2025, 1, 15, 6, tzinfo=UTC)
    assert digest_moment(summer, 7) == datetime(2025, 7, 15, 5, tzinfo=UTC)
    assert digest_moment(winter, 18) == datetime(2025, 1, 14, 17, tzinfo=UTC)
    # The night the clocks go forward (30 March 2025): 02:00 does not exist, 03:00 CEST does.
    assert digest_moment(datetime(2025, 3, 30, 12, tzinfo=UTC), 2) == \
        datetime(2025, 3, 30, 1, tzinfo=UTC)


def test_a_failing_source_reaches_the_admins_once(db, make_user, make_org,
                                                  smtp_server):  # noqa: F811
    admin = make_user(Role.ADMIN, organisation=make_org(kind=OrganisationKind.DISTRICT))
    english(db, admin)
    local_admin = make_user(Role.ADMIN, organisation=make_org("Vänsterpartiet Kil"))
    comms = make_user(Role.COMMS)
    now = datetime(2025, 1, 15, 9, 0, tzinfo=UTC)
    failing = make_source(db, "NWT", state=SourceState.FAILING, consecutive_failures=7,
                          failing_since=now - timedelta(minutes=61),
                          last_error="The server answered 503 Service Unavailable.")
    fresh = make_source(db, "VF", state=SourceState.FAILING, consecutive_failures=1,
                        failing_since=now - timedelta(minutes=10), last_error="Timed out.")
    make_source(db, "SVT", state=SourceState.OK)

    assert alert_failing_sources(db, now, threshold_minutes=60) == [failing.id]
    assert alert_failing_sources(db, now + timedelta(minutes=5), threshold_minutes=60) == []
    mail_out(db, smtp_server)
    [mail] = smtp_server.messages(to=admin.email)
    assert mail.subject == f"The source {failing.name} is not working"
    assert "503 Service Unavailable" in mail.body and "7 attempts" in mail.body
    assert f"https://megafon.example.org/sources/{failing.id}" in mail.body
    assert smtp_server.messages(to=local_admin.email) == []
    assert smtp_server.messages(to=comms.email) == []

    # The young failure reaches its threshold later; the old one recovers, then fails again.
    assert alert_failing_sources(db, now + timedelta(minutes=51), 60) == [fresh.id]
    with db.session() as session:
        session.execute(update(Source).where(Source.id == failing.id).values(
            state=SourceState.OK, failing_since=None, consecutive_failures=0))
    assert alert_failing_sources(db, now + timedelta(hours=2), 60) == []
    with db.session() as session:
        assert session.get(Source, failing.id).failure_alerted_at is None
        for notice in notices(db, admin, SOURCE_FAILING):  # the admin read the first one
            session.get(Notification, notice.id).read_at = now
        session.execute(update(Source).where(Source.id == failing.id).values(
            state=SourceState.FAILING, failing_since=now + timedelta(hours=3)))
    assert alert_failing_sources(db, now + timedelta(hours=4, minutes=1), 60) == [failing.id]
    mail_out(db, smtp_server)
    assert len(smtp_server.messages(to=admin.email)) == 3


def test_unread_mentions_count_until_the_log_is_opened(db, make_user):
    make_watchlist(db, "Arvika OR kollektivtrafik*")
    reader = make_user(Role.BOARD)
    feed = make_source(db, "NWT")
    with db.session() as session:
        assert unread_mentions(session, session.get(User, reader.id)) == 0
    run(db, feed, [story("1", "Akuten", AKUTEN, ARTICLE), story("2", "Buss", BUSSEN)])
    with db.session() as session:
        user = session.get(User, reader.id)
        assert unread_mentions(session, user) == 2
        mark_mentions_seen(session, user)
        assert unread_mentions(session, user) == 0
    run(db, feed, [story("3", "Namn", AKUTEN_PROTEST, "https://nwt.se/3")])
    with db.session() as session:
        user = session.get(User, reader.id)
        assert unread_mentions(session, user) == 1
        session.execute(update(Mention).where(Mention.url == "https://nwt.se/3")
                        .values(triage=Triage.NOT_RELEVANT))
        assert unread_mentions(session, user) == 0
        mark_mentions_seen(session, user, datetime(2000, 1, 1, tzinfo=UTC))  # never backwards
        assert unread_mentions(session, user) == 0
    assert count(db, Mention) == 3


def test_once_on_both_databases_even_with_two_workers(any_db_url, smtp_server):  # noqa: F811
    """The claims (ON CONFLICT DO NOTHING, guarded UPDATEs) on SQLite and PostgreSQL: two
    workers sending digests and alerts at the same moment tell each person once."""
    migrate.upgrade(any_db_url)
    db = Database(any_db_url)
    try:
        with db.session() as session:
            user = create_user(session, email=f"{uuid.uuid4().hex[:8]}@example.org",
                               name="Kim", password=PASSWORD, role=Role.ADMIN)
        akut = make_watchlist(db, "Arvika AND akut*", Priority.HIGH, name="Akuten")
        subscribe(db, user, akut, digest_hour=7)
        nwt, an = make_source(db, "NWT"), make_source(db, "AN")
        evening = datetime(2025, 1, 14, 19, tzinfo=UTC)
        [mention_id] = run(db, nwt, [story("nwt-1", "Akuten", AKUTEN, ARTICLE)], now=evening,
                           alert=True)
        assert run(db, an, [story("an-1", "Akuten", AKUTEN_SISTER, "https://an.se/1")],
                   now=evening, alert=True) == []
        with db.session() as session:
            assert alert_new_mentions(session, [mention_id]) == []
        seven = datetime(2025, 1, 15, 6, 0, 10, tzinfo=UTC)
        with ThreadPoolExecutor(2) as pool:
            sent = list(pool.map(lambda _: send_digests(db, seven), range(2)))
        assert sorted(sent) == [0, 1]
        with db.session() as session:
            session.add(Source(name="Trasig", kind=SourceKind.FEED, outlet="X",
                               state=SourceState.FAILING, failing_since=seven - timedelta(hours=2),
                               last_error="404"))
        with ThreadPoolExecutor(2) as pool:
            told = list(pool.map(lambda _: alert_failing_sources(db, seven, 60), range(2)))
        assert sorted(len(t) for t in told) == [0, 1]
        with db.session() as session:
            kinds = sorted(n.kind for n in session.scalars(
                select(Notification).where(Notification.user_id == user.id)))
        assert kinds == [DIGEST, MENTION, SOURCE_FAILING]
        mail_out(db, smtp_server)
        assert len(smtp_server.messages(to=user.email)) == 3
    finally:
        db.dispose()


def test_a_new_article_in_a_loopback_feed_is_emailed_once(db, make_user,
                                                          smtp_server):  # noqa: F811
    """The issue's end-to-end case through the real poller (monitor.polling, LiveIngest →
    ingest_and_alert), a real HTTP feed on a loopback port and the real SMTP server."""
    akut = make_watchlist(db, "Arvika AND akut*", Priority.HIGH, name="Akuten i Arvika")
    reader = make_user(Role.COMMS)
    english(db, reader)
    subscribe(db, reader, akut)
    bus_item = ("Dyrare månadskort", "https://nwt.se/buss", BUSSEN)
    article = ("Akuten i Arvika kan stänga nattetid", ARTICLE, AKUTEN)
    fetcher = SafeFetcher(allow=["127.0.0.1"], timeout=5)
    ctx, ingest = PollContext(fetcher=fetcher), LiveIngest(refresh=timedelta(0))
    with FeedServer() as server:
        nwt = make_source(db, "NWT", url=server.add("/nwt.xml", body=rss("NWT", [bus_item])))
        an = make_source(db, "Arvika Nyheter", url=server.add("/an.xml", body=rss("AN", [])))

        def poll(source: Source) -> None:
            outcome = poll_source(db, source.id, ctx, ingest)
            assert outcome.outcome in {"ok", "not_modified"}, outcome.error

        poll(nwt)
        mail_out(db, smtp_server)
        assert smtp_server.messages(to=reader.email) == []

        server.add("/nwt.xml", body=rss("NWT", [article, bus_item]))  # the article appears
        poll(nwt)
        mail_out(db, smtp_server)
        [mail] = smtp_server.messages(to=reader.email)
        assert mail.subject == "New on Akuten i Arvika: Akuten i Arvika kan stänga nattetid"
        assert ARTICLE in mail.body

        # Polled again, its headline changed, and the sister paper's copy: no second e-mail.
        poll(nwt)
        server.add("/nwt.xml", body=rss("NWT", [("Akuten i Arvika stänger – ilska", ARTICLE,
                                                 AKUTEN), bus_item]))
        poll(nwt)
        server.add("/an.xml", body=rss("AN", [("Nattstängd akut", "https://an.se/akut",
                                               AKUTEN_SISTER)]))
        poll(an)
        mail_out(db, smtp_server)
    fetcher.close()
    assert len(smtp_server.messages(to=reader.email)) == 1
    [mention] = [m for m in mentions_of(db) if m.url == ARTICLE]
    assert len(mention.sightings) == 2


def test_the_unread_count_stops_past_its_cap(db, make_user):
    """Someone back after a month away: the badge says 999+, counted without reading the
    whole month."""
    from monitor.alerts import UNREAD_COUNTED_UP_TO
    from monitor.models import Mention, SourceKind

    reader = make_user(Role.BOARD)
    with db.session() as session:
        user = session.get(User, reader.id)
        later = user.created_at + timedelta(minutes=1)
        session.add_all(Mention(title=f"Nyhet {n}", outlet="NWT", source_kind=SourceKind.FEED,
                                text="", first_seen_at=later, hits="[]", updated_at=later)
                        for n in range(UNREAD_COUNTED_UP_TO + 5))
    with db.session() as session:
        assert unread_mentions(session, session.get(User, reader.id)) == UNREAD_COUNTED_UP_TO + 1

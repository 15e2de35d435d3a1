"""The board's report by e-mail: due on the right day, in the real SMTP server with the PDF
attached, in each reader's language, once however many workers run, retried after a failure;
and the admin page that chooses who and when.

Every moment is fixed (September 2014 and around it); nothing depends on today's date.
"""

from __future__ import annotations

import subprocess
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from core.auth import NotAllowed, create_user
from core.db import Database
from core.i18n import ValidationErrors
from core.mail import MailSender
from core.users import Role, User
from monitor.models import Mention, MentionParty, MentionWatchlist, SourceKind, Watchlist
from publisher.services import Services
from reports.mailing import (
    MAX_ATTEMPTS,
    ReportMailing,
    ReportMailPaper,
    ReportMailRun,
    due_period,
    mailing_admin,
    next_sending,
    plan_due,
    recipients,
    save_mailing,
    send_due,
    sending_day,
    sending_moment,
)
from tests.conftest import PASSWORD, build_services
from tests.smtp import SmtpServer, free_port
from tests.web.conftest import csrf_token, login
from web import create_app
from web.reports import paper_maker

BASE = "https://megafon.example.org"
# Monday 1 September 2014, 07:30 in Stockholm (summer time): half an hour after the moment.
NOW = datetime(2014, 9, 1, 5, 30, tzinfo=UTC)


# --- when --------------------------------------------------------------------------------------

def test_the_first_working_day_skips_a_weekend_and_public_holidays():
    assert sending_day(2014, 9, None) == date(2014, 9, 1)  # Monday the 1st
    assert sending_day(2014, 11, None) == date(2014, 11, 3)  # Saturday the 1st → Monday
    assert sending_day(2015, 2, None) == date(2015, 2, 2)  # Sunday the 1st → Monday
    assert sending_day(2015, 8, None) == date(2015, 8, 3)  # Saturday
    assert sending_day(2015, 1, None) == date(2015, 1, 2)  # Thursday, but New Year's Day
    assert sending_day(2027, 1, None) == date(2027, 1, 4)  # Friday the 1st is a holiday too
    assert sending_day(2026, 5, None) == date(2026, 5, 4)  # Friday 1 May: Labour Day
    assert sending_day(2025, 5, None) == date(2025, 5, 2)  # Thursday 1 May → Friday
    assert sending_day(2014, 11, 15) == date(2014, 11, 15)  # a chosen day is kept, Saturday too
    assert sending_day(2015, 2, 28) == date(2015, 2, 28)


def test_the_hour_is_stockholms_in_winter_and_summer_and_across_the_changes():
    # March 2015: Sunday the 1st, so Monday the 2nd, still winter time (UTC+1).
    assert sending_moment(2015, 3, None, 7) == datetime(2015, 3, 2, 6, 0, tzinfo=UTC)
    # April 2015: Wednesday the 1st, summer time (UTC+2).
    assert sending_moment(2015, 4, None, 7) == datetime(2015, 4, 1, 5, 0, tzinfo=UTC)
    # The chosen day is the day the clocks change: 25 March 2018 and 26 October 2014.
    assert sending_moment(2018, 3, 25, 7) == datetime(2018, 3, 25, 5, 0, tzinfo=UTC)
    assert sending_moment(2014, 10, 26, 7) == datetime(2014, 10, 26, 6, 0, tzinfo=UTC)
    # 02:00 on 25 March 2018 never happens on the wall clock: the report goes at 03:00.
    assert sending_moment(2018, 3, 25, 2) == datetime(2018, 3, 25, 1, 0, tzinfo=UTC)


def test_the_month_due_is_last_month_once_the_moment_has_come():
    moment = datetime(2014, 9, 1, 5, 0, tzinfo=UTC)  # 07:00 on Monday 1 September
    assert due_period(moment, None, 7).token() == "2014-08"
    assert due_period(moment - timedelta(seconds=1), None, 7).token() == "2014-07"
    assert due_period(datetime(2014, 9, 30, 21, 59, tzinfo=UTC), None, 7).token() == "2014-08"
    # 1 November 2014 is a Saturday: on that day and the Sunday, October is not due yet.
    assert due_period(datetime(2014, 11, 2, 12, 0, tzinfo=UTC), None, 7).token() == "2014-09"
    assert due_period(datetime(2014, 11, 3, 6, 0, tzinfo=UTC), None, 7).token() == "2014-10"
    # Just after midnight on New Year's Day in Stockholm (still 31 December in UTC).
    assert due_period(datetime(2014, 12, 31, 23, 30, tzinfo=UTC), 1, 0).token() == "2014-12"
    # New Year's Day is a holiday: the first working day of 2015 is Friday the 2nd.
    assert due_period(datetime(2015, 1, 1, 6, 0, tzinfo=UTC), None, 7).token() == "2014-11"
    assert due_period(datetime(2015, 1, 2, 6, 0, tzinfo=UTC), None, 7).token() == "2014-12"
    at, period = next_sending(NOW, None, 7)
    assert (at, period.token()) == (datetime(2014, 10, 1, 5, 0, tzinfo=UTC), "2014-09")
    at, period = next_sending(NOW, 15, 9)
    assert (at, period.token()) == (datetime(2014, 9, 15, 7, 0, tzinfo=UTC), "2014-08")


# --- a world to send from ----------------------------------------------------------------------

@dataclass
class World:
    services: Services
    sv: list[User]  # board members who read Swedish
    en: list[User]  # board members who read English
    comms: User  # may see reports, but is not on the list
    renders: Counter[str]

    @property
    def db(self) -> Database:
        return self.services.db

    def paper(self, report, counted, organisation, language) -> bytes:  # noqa: ANN001
        self.renders[language] += 1
        return self._make(report, counted, organisation, language)

    def __post_init__(self) -> None:
        self._make = paper_maker(self.services.settings, self.services)


def _mention(n: int, at: datetime, watchlist: Watchlist, outlet: str,
             parties: tuple[str, ...]) -> Mention:
    return Mention(title=f"Nyhet {n}", outlet=outlet, source_kind=SourceKind.FEED, text="",
                   published_at=at, first_seen_at=at, updated_at=at, hits="[]",
                   watchlists=[MentionWatchlist(watchlist_id=watchlist.id)],
                   party_rows=[MentionParty(party=code) for code in parties])


def _world(database_url: str, tmp_path: Path, *, sv: int = 1, en: int = 1) -> Iterator[World]:
    services = build_services(tmp_path / "instance", database_url, "http://127.0.0.1:9")
    tag = uuid.uuid4().hex[:6]

    def person(name: str, role: Role, locale: str | None = None) -> User:
        user = create_user(session, email=f"{role.value}-{uuid.uuid4().hex[:6]}-{tag}"
                           "@example.org", name=name, password=PASSWORD, role=role)
        user.locale = locale
        return user

    with services.db.session() as session:
        swedes = [person(f"Åsa{n}", Role.BOARD) for n in range(sv)]
        english = [person(f"Brian{n}", Role.BOARD, "en") for n in range(en)]
        comms = person("Kim", Role.COMMS)
        buses = Watchlist(name="Kollektivtrafik", query="buss*")
        session.add(buses)
        session.flush()
        august = datetime(2014, 8, 12, 9, 0, tzinfo=UTC)
        session.add_all([_mention(n, august + timedelta(days=n), buses, "NWT", ("V", "S"))
                         for n in range(4)]
                        + [_mention(9, datetime(2014, 7, 20, 9, 0, tzinfo=UTC), buses, "VF",
                                    ("M",))])
    world = World(services, swedes, english, comms, Counter())
    yield world
    services.db.dispose()


@pytest.fixture
def world(sqlite_url: str, tmp_path: Path) -> Iterator[World]:
    yield from _world(sqlite_url, tmp_path)


@pytest.fixture
def crowd(any_db_url: str, tmp_path: Path) -> Iterator[World]:
    """Five board members (three Swedish, two English) on SQLite and on PostgreSQL."""
    yield from _world(any_db_url, tmp_path, sv=3, en=2)


def _sender(server: SmtpServer | None) -> MailSender:
    url = server.url if server else f"smtp://127.0.0.1:{free_port()}"  # nobody listens there
    return MailSender(url, "Megafon <megafon@example.org>", base_url=BASE)


def _mailings(db: Database) -> list[ReportMailing]:
    with db.session() as session:
        return list(session.scalars(select(ReportMailing).order_by(ReportMailing.id)))


def _text_of(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / f"{uuid.uuid4().hex}.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True,
                          text=True, timeout=60).stdout


# --- sending -----------------------------------------------------------------------------------

def test_the_monthly_email_arrives_with_the_pdf_in_each_readers_language(
        world: World, smtp_server: SmtpServer, tmp_path: Path):
    [asa], [brian] = world.sv, world.en
    sender = _sender(smtp_server)
    done = send_due(world.db, sender, world.paper, worker_id="w1", now=NOW)
    assert (done.planned, done.claimed, done.sent) == ("2014-08", 2, 2)

    [swedish] = smtp_server.messages(to=asa.email)
    assert swedish.subject == "Styrelsens rapport för augusti 2014"
    assert swedish.message["Content-Language"] == "sv"
    assert swedish.body.startswith("Hej Åsa0,\n")
    assert "Omnämnanden i media: 4 (+300 % mot månaden före)." in swedish.body
    assert "Vår andel av rösterna: 50,0 % av de partier som nämns." in swedish.body
    assert "Frågan som växte mest: Kollektivtrafik." in swedish.body
    assert "Mediet som skrev mest: NWT." in swedish.body
    assert f"{BASE}/reports?period=2014-08" in swedish.body
    [english] = smtp_server.messages(to=brian.email)
    assert english.subject == "The board's report for August 2014"
    assert english.message["Content-Language"] == "en"
    assert "Mentions in the media: 4 (+300 % against the month before)." in english.body
    assert f"{BASE}/reports?period=2014-08" in english.body

    for got, title in ((swedish, "Synlighet i media"), (english, "Media visibility")):
        [(name, (kind, pdf))] = got.attachments.items()
        assert (name, kind) == ("megafon-rapport-2014-08.pdf", "application/pdf")
        assert pdf.startswith(b"%PDF")
        text = _text_of(pdf, tmp_path)
        assert title in text and "2014-08-01 – 2014-08-31" in text
    assert smtp_server.messages(to=world.comms.email) == []  # not on the list
    assert world.renders == Counter({"sv": 1, "en": 1})

    rows = _mailings(world.db)
    assert {(r.sent_to, r.language, r.state, r.attempts, r.error) for r in rows} == {
        (asa.email, "sv", "sent", 1, None), (brian.email, "en", "sent", 1, None)}
    # Later the same month, and on the next first weekday before 07:00: nothing more.
    for later in (NOW + timedelta(hours=1), datetime(2014, 9, 30, 12, 0, tzinfo=UTC),
                  datetime(2014, 10, 1, 4, 59, tzinfo=UTC)):
        again = send_due(world.db, sender, world.paper, worker_id="w2", now=later)
        assert (again.planned, again.claimed) == (None, 0)
    assert len(smtp_server.messages(to=asa.email)) == 1


@pytest.mark.parametrize("attempt", range(2))
def test_each_report_is_sent_once_with_two_workers_at_once(
        attempt: int, crowd: World, smtp_server: SmtpServer):
    sender = _sender(smtp_server)
    start = threading.Barrier(2)
    done: dict[str, object] = {}
    failures: list[BaseException] = []

    def work(name: str) -> None:
        try:
            start.wait(30)
            done[name] = send_due(crowd.db, sender, crowd.paper, worker_id=name, now=NOW,
                                  limit=2)
        except BaseException as exc:  # shown below, not lost in the thread
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(name,)) for name in ("w1", "w2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not failures, failures
    reports = list(done.values())
    assert sorted(str(r.planned) for r in reports) == ["2014-08", "None"]  # planned once
    assert sum(r.sent for r in reports) == 5 and sum(r.skipped for r in reports) == 0
    for person in crowd.sv + crowd.en:
        [got] = smtp_server.messages(to=person.email)
        assert got.attachments["megafon-rapport-2014-08.pdf"][1].startswith(b"%PDF")
    assert crowd.renders == Counter({"sv": 1, "en": 1})  # one paper per language
    with crowd.db.session() as session:
        assert session.scalars(select(ReportMailRun.period)).all() == ["2014-08"]
        assert sorted(session.scalars(select(ReportMailPaper.language))) == ["en", "sv"]
    assert {r.state for r in _mailings(crowd.db)} == {"sent"}


def test_a_failed_send_is_tried_again_later_and_a_refusal_is_given_up_with_its_reason(
        world: World, smtp_server: SmtpServer):
    [asa], [brian] = world.sv, world.en
    with world.db.session() as session:
        session.get(User, brian.id).email = f"refuse-{brian.email}"  # the server says 550
    down = send_due(world.db, _sender(None), world.paper, worker_id="w1", now=NOW)
    assert (down.planned, down.failed, down.sent) == ("2014-08", 2, 0)
    for row in _mailings(world.db):
        assert row.state == "waiting" and "ConnectionRefusedError" in (row.error or "")
        assert row.due_at == NOW + timedelta(minutes=5)
    sender = _sender(smtp_server)
    early = send_due(world.db, sender, world.paper, worker_id="w1", now=NOW + timedelta(minutes=4))
    assert early.claimed == 0 and smtp_server.messages(to=asa.email) == []
    back = send_due(world.db, sender, world.paper, worker_id="w2", now=NOW + timedelta(minutes=6))
    assert (back.sent, back.gave_up) == (1, 1)
    [got] = smtp_server.messages(to=asa.email)
    assert got.attachments["megafon-rapport-2014-08.pdf"][1].startswith(b"%PDF")
    rows = {row.user_id: row for row in _mailings(world.db)}
    assert (rows[asa.id].state, rows[asa.id].attempts, rows[asa.id].error) == ("sent", 2, None)
    refused = rows[brian.id]
    assert refused.state == "failed" and refused.due_at is None
    assert "550" in refused.error and "No such user" in refused.error
    later = send_due(world.db, sender, world.paper, worker_id="w3", now=NOW + timedelta(days=1))
    assert later.claimed == 0  # given up stays given up
    assert MAX_ATTEMPTS > 2


def test_a_scheduler_down_on_the_day_catches_up_with_the_latest_month_only(world: World):
    db = world.db
    # Down from late August to 9 December: only November's report is sent, not also
    # August's, September's and October's.
    assert plan_due(db, now=datetime(2014, 12, 9, 10, 0, tzinfo=UTC)) == "2014-11"
    assert plan_due(db, now=datetime(2014, 12, 20, 10, 0, tzinfo=UTC)) is None
    assert plan_due(db, now=datetime(2015, 1, 1, 6, 0, tzinfo=UTC)) is None  # a holiday
    assert plan_due(db, now=datetime(2015, 1, 2, 5, 59, tzinfo=UTC)) is None  # before 07:00
    assert plan_due(db, now=datetime(2015, 1, 2, 6, 0, tzinfo=UTC)) == "2014-12"
    with db.session() as session:
        assert sorted(session.scalars(select(ReportMailRun.period))) == ["2014-11", "2014-12"]
        assert len(session.scalars(select(ReportMailing)).all()) == 4  # two people, two months


def test_without_email_configured_nothing_is_planned(world: World):
    quiet = MailSender("", base_url=BASE)
    assert send_due(world.db, quiet, world.paper, now=NOW).planned is None
    assert _mailings(world.db) == []


# --- who and when: the service -----------------------------------------------------------------

def test_the_board_receives_it_unless_an_admin_chooses_otherwise(world: World):
    [asa], [brian] = world.sv, world.en
    with world.db.session() as session:
        admin = create_user(session, email=f"admin-{uuid.uuid4().hex[:6]}@example.org",
                            name="Admin", password=PASSWORD, role=Role.ADMIN)
        retired = create_user(session, email=f"ex-{uuid.uuid4().hex[:6]}@example.org",
                              name="Före detta", password=PASSWORD, role=Role.BOARD)
        retired.active = False
        session.flush()
        assert {u.id for u in recipients(session)} == {asa.id, brian.id}
        save_mailing(session, admin, recipient_ids=[asa.id, world.comms.id], day=15, hour=9,
                     now=NOW)
    with world.db.session() as session:
        assert {u.id for u in recipients(session)} == {asa.id, world.comms.id}
        newcomer = create_user(session, email=f"ny-{uuid.uuid4().hex[:6]}@example.org",
                               name="Ny ledamot", password=PASSWORD, role=Role.BOARD)
        session.flush()
        assert newcomer in recipients(session)  # a new board member is on the list at once
        shown = mailing_admin(session, session.get(User, admin.id), now=NOW)
        assert (shown.day, shown.hour) == (15, 9)
        assert shown.next_at == datetime(2014, 9, 15, 7, 0, tzinfo=UTC)
        assert shown.next_period.token() == "2014-08"
        assert retired.id not in {u.id for u, _ in shown.candidates}
        with pytest.raises(ValidationErrors) as refused:
            save_mailing(session, admin, recipient_ids=[retired.id], day=29, hour=24)
        assert {e.field for e in refused.value.errors} == {"recipients", "day", "hour"}
        for who in (asa, world.comms):
            with pytest.raises(NotAllowed):
                mailing_admin(session, session.get(User, who.id))
            with pytest.raises(NotAllowed):
                save_mailing(session, session.get(User, who.id), recipient_ids=[], day=None,
                             hour=7)


# --- the admin page ----------------------------------------------------------------------------

@pytest.fixture
def app(world: World) -> Flask:
    app = create_app(world.services.settings, world.services)
    app.config["TESTING"] = True
    return app


def test_the_admin_page_is_for_admins_only(app: Flask, world: World):
    client = app.test_client()
    login(client, world.comms)
    assert client.get("/admin/report-mail").status_code == 403
    token = csrf_token(client, "/")
    response = client.post("/admin/report-mail", data={
        "csrf_token": token, "day": "3", "hour": "8", "recipients": [world.comms.id]})
    assert response.status_code == 403
    with world.db.session() as session:
        assert {u.id for u in recipients(session)} == {world.sv[0].id, world.en[0].id}
    board = app.test_client()
    login(board, world.sv[0])
    assert board.get("/admin/report-mail").status_code == 403


def test_an_admin_chooses_recipients_and_day_and_sees_the_mailings(
        app: Flask, world: World, smtp_server: SmtpServer):
    [asa], [brian] = world.sv, world.en
    with world.db.session() as session:
        session.get(User, brian.id).email = f"refuse-{brian.email}"
    send_due(world.db, _sender(smtp_server), world.paper, worker_id="w1", now=NOW)
    with world.db.session() as session:
        admin = create_user(session, email=f"admin-{uuid.uuid4().hex[:6]}@example.org",
                            name="Admin", password=PASSWORD, role=Role.ADMIN)
    client = app.test_client()
    login(client, admin)
    page = client.get("/admin/report-mail")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Månadsrapport via e-post" in html and "Skickad" in html and "Inte skickad" in html
    assert "550" in html  # the refusal, as the server put it
    token = csrf_token(client, "/admin/report-mail")
    response = client.post("/admin/report-mail", data={
        "csrf_token": token, "day": "3", "hour": "8",
        "recipients": [str(asa.id), str(world.comms.id)]})
    assert response.status_code == 302
    with world.db.session() as session:
        assert {u.id for u in recipients(session)} == {asa.id, world.comms.id}
        shown = mailing_admin(session, session.get(User, admin.id), now=NOW)
        assert (shown.day, shown.hour) == (3, 8)
    assert "Sparat" in client.get("/admin/report-mail").get_data(as_text=True)
    refused = client.post("/admin/report-mail", data={
        "csrf_token": token, "day": "31", "hour": "8", "recipients": [str(asa.id)]})
    assert refused.status_code == 400
    response = client.post("/admin/report-mail", data={
        "csrf_token": token, "day": "first-weekday", "hour": "7", "recipients": []})
    assert response.status_code == 302
    with world.db.session() as session:
        assert recipients(session) == []
        assert mailing_admin(session, session.get(User, admin.id), now=NOW).day is None
    no_token = client.post("/admin/report-mail", data={"day": "5", "hour": "7"})
    assert no_token.status_code == 400


# --- the command line --------------------------------------------------------------------------

def test_an_operator_sends_a_named_month_from_the_command_line(
        world: World, smtp_server: SmtpServer, tmp_path: Path, monkeypatch):
    from click.testing import CliRunner

    from cli.main import main

    [asa], [brian] = world.sv, world.en
    monkeypatch.setenv("MEGAFON_DATABASE_URL", world.services.settings.database_url)
    monkeypatch.setenv("MEGAFON_INSTANCE_PATH", str(tmp_path / "cli-instance"))
    monkeypatch.setenv("MEGAFON_BASE_URL", BASE)
    monkeypatch.setenv("MEGAFON_SMTP_URL", smtp_server.url)

    def run(*args: str):
        return CliRunner().invoke(main, ["report-mail", *args])

    dry = run("--period", "2014-06", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "2014-06: not planned yet; would go to 2 recipient(s)" in dry.output
    assert f"{asa.email} [sv]" in dry.output and f"{brian.email} [en]" in dry.output
    assert _mailings(world.db) == [] and smtp_server.messages(to=asa.email) == []

    sent = run("--period", "2014-06")
    assert sent.exit_code == 0, sent.output
    assert "2014-06: planned now; sent 2" in sent.output
    [got] = smtp_server.messages(to=asa.email)
    assert got.subject == "Styrelsens rapport för juni 2014"
    assert f"{BASE}/reports?period=2014-06" in got.body
    assert run("--period", "2014-06").output.startswith("2014-06: planned before; sent 0")
    assert f"{brian.email} [en] sent" in run("--period", "2014-06", "--dry-run").output
    assert len(smtp_server.messages(to=asa.email)) == 1

    quarter = run("--period", "2014-Q2", "--dry-run")
    assert quarter.exit_code == 2 and "one month" in quarter.output

"""History notes are stored in English and read back as the note they are, so the web layer can
show them in Swedish; what the dispatcher writes, on either database, is always readable."""

from __future__ import annotations

import pytest

from core.users import Role
from publisher import history_notes as notes
from publisher.deliveries import history
from publisher.dispatch import Dispatcher
from publisher.models import Platform
from publisher.services import Services
from tests.factories import deliveries, queue_post
from tests.publisher.sandbox_faults import set_faults

VALUES = {"name": "Anna Ek", "attempt": 3, "worker": "vm:1234:ab12", "minutes": 31,
          "reason": "Rate limit exceeded: try again (at 12:00)", "error": "KeyError",
          "id": "61550000000001_99"}


@pytest.mark.parametrize("msgid", notes.NOTES)
def test_every_note_reads_back_as_itself(msgid):
    values = {name: str(VALUES[name]) for name in notes._PLACEHOLDER.findall(msgid)}
    assert notes.parse(notes.note(msgid, **values)) == (msgid, values)


def test_a_platforms_own_words_are_no_note():
    assert notes.parse("Error validating access token: Session has expired") is None
    assert notes.parse("attempt three by w1") is None  # the attempt is a number


def test_a_published_note_and_its_warnings_are_separate_parts():
    warning = notes.note(notes.FIRST_COMMENT_FAILED, reason="(#200) Permissions; error")
    detail = notes.SEPARATOR.join([notes.note(notes.PUBLISHED, id="1_2"), warning])
    assert notes.parts(detail) == ["published (1_2)",
                                   "the first comment was not posted: (#200) Permissions",
                                   "error"]
    assert notes.SEPARATOR.join(notes.parts(detail)) == detail  # nothing lost
    assert notes.parts("will retry: a; b") == ["will retry: a; b"]


@pytest.fixture
def services(services_on_any_db: Services) -> Services:
    return services_on_any_db


def test_the_dispatchers_notes_all_read_as_notes(services, sandbox, make_user, make_account):
    """Queued, attempt (written by the database itself on PostgreSQL), retry, published."""
    x, creds = make_account(Platform.X)
    queue_post(services.db, make_user(Role.COMMS), [x], text="Torgmöte i Kil på lördag")
    set_faults(sandbox.url, creds["user_id"], error_rate=1.0, error_status=429)
    Dispatcher(services.db, services.platforms, services.box, "w1").run_once()
    set_faults(sandbox.url, creds["user_id"])
    later = Dispatcher(services.db, services.platforms, services.box, "w1",
                       clock=lambda: deliveries(services.db)[0].next_attempt_at)
    later.run_once()
    with services.db.session() as session:
        events = history(session, deliveries(services.db)[0].id)
    found = [notes.parse(e.detail or "") for e in events]
    assert [f[0] if f else e.detail for f, e in zip(found, events, strict=True)] == [
        notes.QUEUED, notes.ATTEMPT, notes.WILL_RETRY, notes.ATTEMPT, notes.PUBLISHED]
    assert [f[1]["attempt"] for f in found if f and f[0] == notes.ATTEMPT] == ["1", "2"]

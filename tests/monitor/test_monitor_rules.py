"""Rules of monitoring that live in its domain services, not in web/: who may do what (one
core.auth.NotAllowed, raised by the service that acts for the user) and the clipping's Swedish
wall-clock time, whose spring gap is refused at the field."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session

from core.auth import NotAllowed
from core.db import Database
from core.i18n import ValidationErrors
from core.users import Role, User
from monitor import admin, mention_search, respond, triage
from monitor.items import Item
from monitor.models import Source
from monitor.sources.manual import add_clipping
from tests.factories import count


class Recorder:
    """Stands in for the ingest a clipping is handed to: keeps what it was given."""

    def __init__(self) -> None:
        self.items: list[Item] = []

    def __call__(self, session: Session, source: Source, items: list[Item]) -> list[int]:
        self.items.extend(items)
        return []


def clip(db: Database, user: User, published_at: date | datetime, recorder: Recorder) -> None:
    with db.session() as session:
        add_clipping(session, "NWT (papper)", published_at, "Busslinjer dras in",
                     "Kollektivtrafiken i Kil drabbas.", None, session.get(User, user.id),
                     ingest=recorder)


def test_a_clipping_in_the_spring_gap_is_refused_at_its_field(db, make_user):
    recorder = Recorder()
    with pytest.raises(ValidationErrors) as refused:
        clip(db, make_user(Role.COMMS), datetime(2025, 3, 30, 2, 30), recorder)
    [error] = refused.value.for_field("published_at")
    assert "does not exist in Swedish time" in error.message
    assert error.params["time"] == "2025-03-30 02:30"
    assert recorder.items == []


def test_a_clippings_swedish_time_is_stored_in_utc(db, make_user):
    recorder = Recorder()
    user = make_user(Role.COMMS)
    clip(db, user, datetime(2025, 3, 30, 3, 30), recorder)  # just after the spring jump
    clip(db, user, datetime(2025, 10, 26, 2, 30), recorder)  # the autumn hour that comes twice
    assert [i.published_at for i in recorder.items] == [
        datetime(2025, 3, 30, 1, 30, tzinfo=UTC),
        datetime(2025, 10, 26, 0, 30, tzinfo=UTC),  # the first, summer-time reading
    ]


def test_monitor_services_refuse_a_role_that_may_not(db, make_user):
    board = make_user(Role.BOARD)  # may read the log, not handle or set it up
    with db.session() as session:
        user = session.get(User, board.id)
        with pytest.raises(NotAllowed):
            admin.create_source(session, user, admin.SourceInput(
                name="NWT", kind="feed", url="https://nwt.se/rss"))
        with pytest.raises(NotAllowed):
            add_clipping(session, "NWT", date(2025, 1, 6), "Rubrik", "", None, user,
                         ingest=Recorder())
        with pytest.raises(NotAllowed):
            triage.triage(session, user, 1, "relevant")
        with pytest.raises(NotAllowed):
            respond.start_response(session, user, 1)
        assert mention_search.search(session, user, mention_search.MentionFilter()).total == \
            mention_search.Count(0, True)
    assert count(db, Source) == 0

"""Drafts (issue 17, point 1): what a writer typed is kept as it stood, is theirs alone, and a
draft that cannot be kept says why and keeps nothing. Both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.auth import NotAllowed
from core.clock import utcnow
from core.i18n import UserError
from core.users import Role, User
from publisher.drafts import (
    MAX_DRAFT_BYTES,
    Draft,
    discard_draft,
    draft_for,
    drafts_of,
    save_draft,
)
from publisher.services import Services


@pytest.fixture
def services(services_on_any_db: Services) -> Services:
    return services_on_any_db


def drafts_in_db(services: Services) -> int:
    with services.db.session() as session:
        return session.scalar(select(func.count()).select_from(Draft))


def test_a_draft_keeps_the_composers_fields_as_they_stood(services, make_user):
    anna = make_user(Role.COMMS)
    typed = {"text": ["Halva meningen om bussarna i "], "accounts": ["3", "7"],
             "thread": ["Del två", ""], "scheduled_date": ["2027-02-3"], "when": ["at"],
             "link": [""], "csrf_token": ["not kept"], "images-0-file": ["not kept"]}
    with services.db.session() as session:
        draft_id = save_draft(session, session.get(User, anna.id), typed).id
    with services.db.session() as session:
        draft = draft_for(session, session.get(User, anna.id), draft_id)
        assert draft.fields == {"text": "Halva meningen om bussarna i ", "accounts": ["3", "7"],
                                "thread": ["Del två", ""], "scheduled_date": "2027-02-3",
                                "when": "at", "link": ""}
        assert draft.summary == "Halva meningen om bussarna i"


def test_saving_again_updates_the_same_draft_and_the_list_shows_the_latest_first(
        services, make_user):
    anna = make_user(Role.COMMS)
    start = utcnow()
    with services.db.session() as session:
        user = session.get(User, anna.id)
        first = save_draft(session, user, {"text": "Först"}, now=start).id
        second = save_draft(session, user, {"text": "Sedan"}, now=start + timedelta(minutes=1)).id
        save_draft(session, user, {"text": "Först, ändrat"}, first,
                   now=start + timedelta(minutes=2))
    with services.db.session() as session:
        listed = drafts_of(session, session.get(User, anna.id))
        assert [(d.id, d.summary) for d in listed] == [(first, "Först, ändrat"),
                                                       (second, "Sedan")]
    assert drafts_in_db(services) == 2


def test_a_draft_is_its_writers_alone(services, make_user):
    anna, bo, admin = make_user(Role.COMMS), make_user(Role.COMMS), make_user(Role.ADMIN)
    with services.db.session() as session:
        draft_id = save_draft(session, session.get(User, anna.id), {"text": "Mitt"}).id
    for other in (bo, admin):
        with services.db.session() as session:
            user = session.get(User, other.id)
            with pytest.raises(LookupError):
                draft_for(session, user, draft_id)
            with pytest.raises(LookupError):
                save_draft(session, user, {"text": "Kapat"}, draft_id)
            with pytest.raises(LookupError):
                discard_draft(session, user, draft_id)
            assert drafts_of(session, user) == []
    with services.db.session() as session:
        assert session.get(Draft, draft_id).fields == {"text": "Mitt"}


def test_the_board_writes_no_drafts(services, make_user):
    board = make_user(Role.BOARD)
    with services.db.session() as session, pytest.raises(NotAllowed):
        save_draft(session, session.get(User, board.id), {"text": "Nej"})
    assert drafts_in_db(services) == 0


@pytest.mark.parametrize("typed", [{"text": "Hej\x00då"}, {"thread": ["ok", "\x07"]},
                                   {"text": "x" * (MAX_DRAFT_BYTES + 1)}])
def test_what_cannot_be_kept_says_why_and_keeps_nothing(services, make_user, typed):
    anna = make_user(Role.COMMS)
    with services.db.session() as session:
        draft_id = save_draft(session, session.get(User, anna.id), {"text": "Före"}).id
    with services.db.session() as session:
        with pytest.raises(UserError) as refused:
            save_draft(session, session.get(User, anna.id), typed, draft_id)
        assert refused.value.message.startswith(("Remove the control characters",
                                                 "This draft is too long"))
    with services.db.session() as session:
        assert session.get(Draft, draft_id).fields == {"text": "Före"}
    assert drafts_in_db(services) == 1


def test_a_discarded_draft_is_gone(services, make_user):
    anna = make_user(Role.COMMS)
    with services.db.session() as session:
        user = session.get(User, anna.id)
        draft_id = save_draft(session, user, {"text": "Bort"}).id
        discard_draft(session, user, draft_id)
    assert drafts_in_db(services) == 0

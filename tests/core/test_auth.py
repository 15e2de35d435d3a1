"""Passwords are argon2 hashes; repeated failures lock an address; only administrators add users."""

import pytest
from sqlalchemy import select

from core.auth import (
    AuthError,
    LoginLocked,
    NotAllowed,
    add_user,
    authenticate,
    create_user,
    user_admin,
)
from core.users import LoginThrottle, Role, User
from tests.conftest import PASSWORD


def test_password_is_stored_as_argon2_hash(db, make_user):
    user = make_user(Role.COMMS)
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash


def test_right_password_logs_in_and_clears_failures(db, make_user):
    user = make_user()
    with db.session() as session, pytest.raises(AuthError):
        authenticate(session, user.email, "wrong password!")
    with db.session() as session:
        assert authenticate(session, user.email.upper(), PASSWORD).id == user.id
    with db.session() as session:
        assert session.get(LoginThrottle, user.email) is None


def test_five_failures_lock_even_the_right_password(db, make_user):
    user = make_user()
    for _ in range(5):
        with db.session() as session, pytest.raises(AuthError):
            authenticate(session, user.email, "guess-guess-guess", max_failures=5)
    with db.session() as session, pytest.raises(LoginLocked) as locked:
        authenticate(session, user.email, PASSWORD, max_failures=5, lock_minutes=15)
    assert locked.value.minutes == 15


def test_unknown_addresses_are_throttled_too(db):
    for _ in range(3):
        with db.session() as session, pytest.raises(AuthError):
            authenticate(session, "nobody@example.org", "x" * 12, max_failures=3)
    with db.session() as session, pytest.raises(LoginLocked):
        authenticate(session, "nobody@example.org", "x" * 12, max_failures=3)


def test_short_password_and_duplicate_email_are_refused(db, make_user):
    user = make_user()
    with db.session() as session, pytest.raises(AuthError, match="at least 10"):
        create_user(session, email="new@example.org", name="N", password="short",
                    role=Role.BOARD)
    with db.session() as session, pytest.raises(AuthError, match="already exists"):
        create_user(session, email=user.email, name="N", password=PASSWORD, role=Role.BOARD)
    with db.session() as session:
        assert session.scalar(select(User).where(User.email == "new@example.org")) is None


def test_deactivated_user_cannot_log_in(db, make_user):
    user = make_user()
    with db.session() as session:
        session.get(User, user.id).active = False
    with db.session() as session, pytest.raises(AuthError):
        authenticate(session, user.email, PASSWORD)


@pytest.mark.parametrize("role", [Role.COMMS, Role.CAMPAIGN_LEAD, Role.BOARD])
def test_only_an_administrator_may_list_and_add_users(db, make_user, role):
    refused = make_user(role)
    with db.session() as session, pytest.raises(NotAllowed):
        user_admin(session, session.get(User, refused.id))
    with db.session() as session, pytest.raises(NotAllowed):
        add_user(session, session.get(User, refused.id), email="ny@example.org", name="Ny",
                 password=PASSWORD, role=Role.ADMIN, organisation_id=None)
    with db.session() as session:
        assert session.scalar(select(User).where(User.email == "ny@example.org")) is None


def test_an_administrator_adds_a_user_to_an_organisation(db, make_user, make_org):
    admin, association = make_user(Role.ADMIN), make_org("Förening Kil")
    with db.session() as session:
        added = add_user(session, session.get(User, admin.id), email="Ny@Example.org",
                         name="Ny", password=PASSWORD, role=Role.COMMS,
                         organisation_id=association.id)
        assert (added.email, added.organisation_id) == ("ny@example.org", association.id)
    with db.session() as session:
        listed = user_admin(session, session.get(User, admin.id))
        assert {u.email for u in listed.users} == {admin.email, "ny@example.org"}
        assert [o.name for o in listed.organisations] == ["Distriktet", "Förening Kil"]


def test_a_deactivated_administrator_may_not_add_users(db, make_user):
    admin = make_user(Role.ADMIN)
    with db.session() as session:
        session.get(User, admin.id).active = False
    with db.session() as session, pytest.raises(NotAllowed):
        add_user(session, session.get(User, admin.id), email="ny@example.org", name="Ny",
                 password=PASSWORD, role=Role.BOARD, organisation_id=None)

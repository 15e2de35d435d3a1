"""Passwords are argon2 hashes; repeated failures lock an address for a while."""

import pytest
from sqlalchemy import select

from core.auth import AuthError, LoginLocked, authenticate, create_user
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
